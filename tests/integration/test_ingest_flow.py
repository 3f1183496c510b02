"""The file-ingest flow through Prefect: XLSX and CSV exports, duplicates, rejects, the inbox."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cchc.config import load_settings
from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from warehouse.reader import open_snapshot

pytestmark = pytest.mark.integration

SIM = simulator_options(scenario="scale", dossiers=1500, seed=11, finish_before_reception=3,
                        unknown_units=3, unknown_status=3, duplicates=0.02, reappear=0.2)
PERIOD = dict(date_from=date(2021, 1, 1), date_to=date(2021, 6, 30))


def _query(sql: str) -> list[tuple]:
    con = open_snapshot(load_settings())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("fmt,dates", [("xlsx", "mixed"), ("csv", "text")])
def test_an_export_loads_with_every_row_accounted_for(data_dir: Path, prefect_harness: None, tmp_path: Path,
                                                     fmt: str, dates: str) -> None:
    from flows.ingest import ingest_file

    out = export_dossiers(tmp_path / f"export.{fmt}", options=SIM, dates=dates, **PERIOD)
    summary = ingest_file(path=str(out.path))
    assert summary["status"] == "succeeded"
    assert summary["rows_in"] == out.rows
    assert summary["rows_in"] == summary["rows_duplicate"] + summary["rows_loaded"] + summary["rows_quarantined"]
    untrustable = ("finish_before_reception", "unknown_units", "unknown_status")
    assert summary["rows_quarantined"] == sum(out.manifest.items(k) for k in untrustable)
    # Row numbers name the spreadsheet row, so a clerk can find a quarantined row.
    rows = _query("SELECT source, source_row, reasons FROM quarantine_onestop__dossiers")
    assert rows and all(r[0] == str(out.path) and r[1] >= 2 and r[2] for r in rows)
    # Codes typed as numbers in the file are restored to d.dddddd.
    bad_codes = _query("SELECT count(*) FROM core_onestop__dossiers WHERE procedure_code NOT SIMILAR TO '[0-9][.][0-9]{6}'")
    assert bad_codes == [(0,)]


def test_the_same_file_twice_is_recognised_and_not_loaded_again(data_dir: Path, prefect_harness: None,
                                                               tmp_path: Path) -> None:
    from flows.ingest import ingest_file

    out = export_dossiers(tmp_path / "export.csv", options=SIM, **PERIOD)
    first = ingest_file(path=str(out.path))
    before = _query("SELECT count(*) FROM raw_onestop__dossier_versions")
    second = ingest_file(path=str(out.path))
    assert first["status"] == "succeeded"
    assert second["status"] == "skipped" and second["load_id"] == first["load_id"]
    assert _query("SELECT count(*) FROM raw_onestop__dossier_versions") == before


def test_a_file_missing_a_required_column_is_rejected_with_its_reason(data_dir: Path, prefect_harness: None,
                                                                     tmp_path: Path) -> None:
    from flows.ingest import ingest_file

    out = export_dossiers(tmp_path / "export.csv", options=SIM, **PERIOD)
    lines = out.path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    drop = header.index("Trạng thái")
    broken = tmp_path / "inbox-broken.csv"
    broken.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop)
                                for line in lines[:50]) + "\n", encoding="utf-8")
    summary = ingest_file(path=str(broken))
    assert summary["status"] == "rejected"
    assert "Trạng thái" in summary["message"]
    loads = _query("SELECT status, message FROM etl_loads")
    assert loads[0][0] == "rejected" and "Trạng thái" in loads[0][1]
    assert _query("SELECT count(*) FROM core_onestop__dossiers") == [(0,)]


def test_inbox_files_move_to_archive_or_rejected_with_a_reason(data_dir: Path, prefect_harness: None,
                                                              tmp_path: Path) -> None:
    from flows.ingest import ingest_file

    settings = load_settings()
    settings.inbox_dir.mkdir(parents=True)
    good = export_dossiers(settings.inbox_dir / "good.xlsx", options=SIM, **PERIOD).path
    bad = settings.inbox_dir / "bad.xlsx"
    bad.write_bytes(b"this is not a workbook")
    assert ingest_file(path=str(good), from_inbox=True)["status"] == "succeeded"
    assert ingest_file(path=str(bad), from_inbox=True)["status"] == "rejected"
    assert (settings.archive_dir / "good.xlsx").is_file()
    assert (settings.rejected_dir / "bad.xlsx").is_file()
    reason = (settings.rejected_dir / "bad.xlsx.reason.txt").read_text(encoding="utf-8")
    assert "bad.xlsx" in reason
    assert list(settings.inbox_dir.iterdir()) == []
    outside = tmp_path / "outside.csv"
    outside.write_text("x\n", encoding="utf-8")
    with pytest.raises(Exception, match="inside"):
        ingest_file(path=str(outside), from_inbox=True)
