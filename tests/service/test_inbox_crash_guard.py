"""A file whose reading killed the process is not read again forever: after MAX_CRASHES deaths
the next run rejects it with a reason instead of crashing the service at every start."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cchc import inbox
from cchc.config import Settings, load_settings
from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from sources.files import file_sha256


def test_only_reads_the_process_did_not_survive_are_counted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    for _ in range(3):  # reads that end normally (or with an exception) leave nothing
        with inbox.crash_guard(settings, "abc") as died:
            assert died == 0
    with pytest.raises(ValueError), inbox.crash_guard(settings, "abc"):
        raise ValueError("a bad file is an error, not a crash")
    for expected in range(3):  # the process "dies" inside the read: __exit__ never runs
        guard = inbox.crash_guard(settings, "abc")
        assert guard.__enter__() == expected


@pytest.mark.integration
def test_a_file_that_crashed_the_reader_twice_is_rejected_not_read(data_dir: Path, prefect_harness,
                                                                   tmp_path: Path) -> None:
    from flows.ingest import ingest_file

    settings = load_settings()
    settings.inbox_dir.mkdir(parents=True)
    export = export_dossiers(tmp_path / "x.csv", options=simulator_options(scenario="scale", dossiers=50,
                                                                          seed=3),
                             date_from=date(2021, 1, 1), date_to=date(2021, 3, 31)).path
    target = settings.inbox_dir / "poison.csv"
    target.write_bytes(export.read_bytes())
    for _ in range(inbox.MAX_CRASHES):  # two earlier runs died while reading it
        inbox.crash_guard(settings, file_sha256(target)).__enter__()
    summary = ingest_file(path=str(target), from_inbox=True)
    assert summary["status"] == "rejected"
    assert "stopped the process 2 times" in summary["message"]
    assert not target.exists() and (settings.rejected_dir / "poison.csv").is_file()
    assert summary["rows_in"] == 0  # not read at all
