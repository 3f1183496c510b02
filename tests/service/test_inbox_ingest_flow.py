"""The ingest flow's side of the inbox: a file that changed while read is read again, a
deployment run takes inbox files only, and a rejected file is one log line without a traceback."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from cchc import inbox, pipeline
from cchc.config import load_settings
from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from warehouse.reader import open_snapshot

pytestmark = pytest.mark.integration

SIM = simulator_options(scenario="scale", dossiers=120, seed=3)
PERIOD = dict(date_from=date(2021, 1, 1), date_to=date(2021, 6, 30))


def _count(sql: str) -> int:
    con = open_snapshot(load_settings())
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_a_file_that_changed_while_read_is_read_again_not_archived(data_dir: Path, prefect_harness,
                                                                  tmp_path: Path, monkeypatch) -> None:
    from cchc.redacted_copy import write_redacted_copy
    from flows.ingest import ingest_file
    from sources.idhash import id_hash_key

    settings = load_settings()
    settings.inbox_dir.mkdir(parents=True)
    full = export_dossiers(tmp_path / "full.csv", options=SIM, **PERIOD)
    lines = full.path.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    target = settings.inbox_dir / "growing.csv"
    target.write_bytes(b"".join(lines[:half]))
    real, calls = pipeline.stage_file, []

    def stage_then_the_writer_goes_on(*args, **kwargs):
        batch = real(*args, **kwargs)
        if not calls:
            with target.open("ab") as fh:  # the second half arrives after the first was read
                fh.write(b"".join(lines[half:]))
        calls.append(1)
        return batch

    monkeypatch.setattr(pipeline, "stage_file", stage_then_the_writer_goes_on)
    summary = ingest_file(path=str(target), from_inbox=True)
    assert len(calls) == 2  # read again
    assert summary["status"] == "succeeded" and summary["rows_in"] == full.rows
    archived = settings.archive_dir / "growing.csv"  # the whole file, kept as a redacted copy
    expected = write_redacted_copy(full.path, tmp_path / "expected.csv", id_hash_key(settings))
    assert archived.read_bytes() == expected.read_bytes()
    assert not target.exists()
    assert _count("SELECT count(*) FROM raw_onestop__dossier_versions") + _count(
        "SELECT count(*) FROM quarantine_onestop__dossiers") == full.rows - summary["rows_duplicate"]


def test_a_deployment_run_refuses_a_path_outside_the_inbox(data_dir: Path, prefect_harness,
                                                           tmp_path: Path, monkeypatch) -> None:
    from flows.ingest import ingest_file

    outside = export_dossiers(tmp_path / "outside.csv", options=SIM, **PERIOD).path
    monkeypatch.setenv("PREFECT__RUNTIME__DEPLOYMENT__ID", "0b4f2f55-9f0e-4b9b-9d5c-0d3c1d1e2a01")
    with pytest.raises(inbox.InboxPathError, match="deployment run ingests files from the inbox only"):
        ingest_file(path=str(outside), from_inbox=False)
    assert not load_settings().published_path.exists()  # nothing was read or loaded
    monkeypatch.delenv("PREFECT__RUNTIME__DEPLOYMENT__ID")
    assert ingest_file(path=str(outside))["status"] == "succeeded"  # the CLI: any regular file


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_rejected_file_is_one_line_without_a_traceback(data_dir: Path, prefect_harness) -> None:
    from flows.ingest import ingest_file

    settings = load_settings()
    settings.inbox_dir.mkdir(parents=True)
    bad = settings.inbox_dir / "bad.xlsx"
    bad.write_bytes(b"this is not a workbook")
    lines = _Lines()
    logger = logging.getLogger("prefect")
    logger.addHandler(lines)
    try:
        summary = ingest_file(path=str(bad), from_inbox=True)
    finally:
        logger.removeHandler(lines)
    assert summary["status"] == "rejected"
    errors = [r for r in lines.records if r.levelno >= logging.ERROR]
    assert not [r for r in lines.records if r.exc_info or "Traceback" in r.getMessage()]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert "\n" not in line
    assert "bad.xlsx" in line and str(settings.rejected_dir) in line and "load it again" in line
    assert (settings.rejected_dir / "bad.xlsx.reason.txt").is_file()
