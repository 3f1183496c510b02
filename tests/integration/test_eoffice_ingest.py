"""Register exports of the e-document system through the file-ingest flow: recognised by their
header, direction from the register, every row accounted for, the declared total checked, the
leaked summary of a secret document stored nowhere; dossier lists still go to onestop; files that
are neither, or that lost a required column, are rejected with a reason."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cchc.config import load_settings
from simulator.doc_dataset import get_documents
from simulator.doc_dirt import LEAK_PREFIX
from simulator.doc_exports import RegisterExportResult, export_register
from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from warehouse.reader import open_snapshot

pytestmark = pytest.mark.integration

SIM = simulator_options(scenario="scale", dossiers=3000, documents=3000, seed=5)
PERIOD = dict(date_from=date(2021, 1, 1), date_to=date(2022, 12, 31))
QUARANTINE_KINDS = ("completed_before_receipt", "unknown_bodies", "unknown_labels")
LEAK_NEEDLES = (LEAK_PREFIX.strip(), unicodedata.normalize("NFD", LEAK_PREFIX.strip()))


def _query(sql: str) -> list[tuple]:
    con = open_snapshot(load_settings())
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _query_private(sql: str) -> list[tuple]:
    """The writer's own file, read-only: a load rejected by a batch gate of a file given by path
    is audited there but not published (flows/ingest.py publishes only inbox rejections)."""
    con = duckdb.connect(str(load_settings().warehouse_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _grid(path: Path) -> pl.DataFrame:
    """Every cell of the XLSX's first sheet as text (no header row)."""
    return pl.read_excel(path, engine="calamine", has_header=False, infer_schema_length=0)


def _file_text(path: Path) -> str:
    """Every cell of an XLSX as text, or the CSV's text."""
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8-sig")
    return "\n".join(" ".join("" if v is None else v for v in row) for row in _grid(path).iter_rows())


def _expected_counts(out: RegisterExportResult) -> tuple[int, int]:
    """(exact duplicates, quarantined rows) of an export, from the rows it holds."""
    ids = out.manifest.entries
    rows = _exported_ids(out)
    duplicates = rows.len() - rows.n_unique()
    bad = set(ids.filter(pl.col("kind").is_in(QUARANTINE_KINDS))["MaVanBan"].to_list())
    return duplicates, rows.filter(rows.is_in(sorted(bad))).n_unique()


def _exported_ids(out: RegisterExportResult) -> pl.Series:
    if out.path.suffix == ".csv":
        return pl.read_csv(out.path, infer_schema=False)["Mã văn bản"]
    rows = _grid(out.path).rows()
    header_at = next(i for i, r in enumerate(rows) if r and "Mã văn bản" in r)
    col = rows[header_at].index("Mã văn bản")
    return pl.Series("Mã văn bản", [r[col] for r in rows[header_at + 1:] if r and r[col]], dtype=pl.String)


def _declared_total(path: Path) -> int | None:
    found = re.search(r"Tổng số:\s*([\d.,]+)\s*văn bản", _file_text(path))
    return int(re.sub(r"[.,]", "", found.group(1))) if found else None


def _leak_hits() -> list[str]:
    """Where the leaked summary is stored: raw, quarantine, core (any text column), staging."""
    hits = []
    con = open_snapshot(load_settings())
    try:
        cols = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type IN "
            "('VARCHAR', 'VARCHAR[]') AND table_name LIKE '%eoffice%' AND table_catalog = current_database()"
        ).fetchall()
        for table, column in cols:
            for needle in LEAK_NEEDLES:
                n = con.execute(f'SELECT count(*) FROM "{table}" WHERE strpos(CAST("{column}" AS VARCHAR), ?) > 0',
                                [needle]).fetchone()[0]
                if n:
                    hits.append(f"{table}.{column}: {n}")
    finally:
        con.close()
    staging = load_settings().staging_dir
    for part in staging.rglob("*.parquet") if staging.is_dir() else []:
        frame = pl.read_parquet(part)
        for col, dtype in frame.schema.items():
            if dtype == pl.String and any(frame[col].str.contains(n, literal=True).any() for n in LEAK_NEEDLES):
                hits.append(f"{part}:{col}")
    return hits


@pytest.mark.parametrize(
    "register,fmt,dates",
    [("den", "xlsx", "excel"), ("di", "xlsx", "text"), ("den", "csv", "text")],
)
def test_a_register_loads_as_eoffice_with_every_row_accounted_for(
    data_dir: Path, prefect_harness: None, tmp_path: Path, register: str, fmt: str, dates: str
) -> None:
    from flows.ingest import ingest_file

    out = export_register(tmp_path / f"so-{register}.{fmt}", register=register, options=SIM, dates=dates,
                          **PERIOD)
    summary = ingest_file(path=str(out.path))
    assert summary["status"] == "succeeded", summary["message"]
    assert summary["system"] == "eoffice"
    assert summary["rows_in"] == out.rows
    assert summary["rows_in"] == summary["rows_duplicate"] + summary["rows_loaded"] + summary["rows_quarantined"]
    duplicates, quarantined = _expected_counts(out)
    assert (summary["rows_duplicate"], summary["rows_quarantined"]) == (duplicates, quarantined)
    assert quarantined > 0
    if fmt == "xlsx":  # the footer "Tổng số: N văn bản" counts every data row
        assert _declared_total(out.path) == out.rows

    direction = "DEN" if register == "den" else "DI"
    assert _query("SELECT DISTINCT direction FROM core_eoffice__documents") == [(direction,)]
    n_core = _query("SELECT count(*) FROM core_eoffice__documents")[0][0]
    assert n_core == summary["rows_loaded"] == summary["core_inserted"]
    # Dates read the same whether typed as dd/mm/yyyy text or as Excel date cells.
    ours = pl.DataFrame(_query("SELECT document_id, received_date, issued_date, deadline_date, completed_date "
                               "FROM core_eoffice__documents"),
                        schema=["MaVanBan", "r", "i", "d", "c"], orient="row")
    joined = ours.join(_truth(), on="MaVanBan")
    assert joined.height == ours.height > 0
    for mine, theirs in (("r", "NgayDen"), ("i", "NgayBanHanh"), ("d", "HanXuLy"), ("c", "NgayHoanThanh")):
        assert joined.filter(pl.col(mine).ne_missing(pl.col(theirs))).height == 0, theirs
    assert _query("SELECT DISTINCT source_system FROM etl_loads") == [("eoffice",)]
    day = "received_date" if register == "den" else "issued_date"
    assert _query(f"SELECT min({day}) >= DATE '2021-01-01', max({day}) <= DATE '2022-12-31' "
                  "FROM core_eoffice__documents") == [(True, True)]

    leaked = out.manifest.ids("secret_leak")
    if leaked:  # the incoming register of this district carries leaked summaries
        assert any(n in _file_text(out.path) for n in LEAK_NEEDLES), "the export should carry the leak"
        assert summary["rows_withheld"] >= len(leaked)
        assert not _leak_hits()
        flagged = {r[0] for r in _query("SELECT document_id FROM core_eoffice__documents WHERE secret_leak_dropped")}
        assert leaked <= flagged
    else:
        assert register == "di"

    if fmt == "csv":  # the same file again: recognised by its content, not loaded twice
        before = _query("SELECT count(*), sum(hash(row_hash)) FROM raw_eoffice__document_versions")
        again = ingest_file(path=str(out.path))
        assert again["status"] == "skipped" and again["load_id"] == summary["load_id"]
        assert _query("SELECT count(*), sum(hash(row_hash)) FROM raw_eoffice__document_versions") == before


def _truth() -> pl.DataFrame:
    return get_documents(SIM).truth


def test_a_dossier_list_still_goes_to_onestop(data_dir: Path, prefect_harness: None, tmp_path: Path) -> None:
    from flows.ingest import ingest_file

    out = export_dossiers(tmp_path / "ds.csv", options=SIM, date_from=date(2021, 1, 1), date_to=date(2021, 3, 31))
    summary = ingest_file(path=str(out.path))
    assert summary["status"] == "succeeded" and summary["system"] == "onestop"
    assert summary["rows_in"] == out.rows
    assert _query("SELECT count(*) FROM core_eoffice__documents") == [(0,)]
    assert _query("SELECT count(*) > 0 FROM core_onestop__dossiers") == [(True,)]


def test_a_file_that_is_neither_is_rejected_saying_so(data_dir: Path, prefect_harness: None,
                                                     tmp_path: Path) -> None:
    from flows.ingest import ingest_file

    other = tmp_path / "bang-luong.csv"
    other.write_text("Họ và tên,Chức vụ,Lương cơ bản\nNguyễn Văn A,Chuyên viên,4680000\n", encoding="utf-8")
    summary = ingest_file(path=str(other))
    assert summary["status"] == "rejected"
    message = summary["message"]
    assert "dossier list" in message and "document register" in message, message
    assert "'Mã văn bản'" in message and "'Mã hồ sơ'" in message, message
    assert "LoaiVanBan" not in message, "a register has no direction column: do not ask for one"
    loads = _query("SELECT status, source_system, message FROM etl_loads")
    assert loads == [("rejected", "unknown", message)]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_register_without_a_required_column_is_rejected_naming_it(
    data_dir: Path, prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    from flows.ingest import ingest_file
    from simulator import doc_catalog

    broken = tmp_path / f"so-den-broken.{fmt}"
    if fmt == "csv":
        out = export_register(tmp_path / "so-den.csv", register="den", options=SIM,
                              date_from=date(2021, 1, 1), date_to=date(2021, 3, 31))
        pl.read_csv(out.path, infer_schema=False).drop("Độ mật").write_csv(broken, include_bom=True)
    else:  # the same export made by a system that lost the column (header and values)
        columns = tuple(c for c in doc_catalog.REGISTER_COLUMNS if c[1] != "Độ mật")
        monkeypatch.setattr(doc_catalog, "REGISTER_COLUMNS", columns)
        export_register(broken, register="den", options=SIM, date_from=date(2021, 1, 1), date_to=date(2021, 3, 31))
        monkeypatch.undo()
    assert "Độ mật" not in _file_text(broken).splitlines()[0 if fmt == "csv" else 4]
    assert "Trích yếu" in _file_text(broken)
    summary = ingest_file(path=str(broken))
    assert summary["status"] == "rejected"
    assert "Độ mật" in summary["message"], summary["message"]
    assert _query_private("SELECT count(*) FROM core_eoffice__documents") == [(0,)]
    assert _query_private("SELECT count(*) FROM raw_eoffice__document_versions") == [(0,)]
    assert _query_private("SELECT count(*) FROM quarantine_eoffice__documents") == [(0,)]


def test_a_wrong_declared_total_is_rejected(data_dir: Path, prefect_harness: None, tmp_path: Path) -> None:
    from flows.ingest import ingest_file

    out = export_register(tmp_path / "so-di.xlsx", register="di", options=SIM,
                          date_from=date(2021, 1, 1), date_to=date(2021, 3, 31))
    # Rewrite the footer's shared string "Tổng số: N văn bản" (N + 3) in the workbook's XML.
    broken = tmp_path / "so-di-total.xlsx"
    with zipfile.ZipFile(out.path) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                old = f"Tổng số: {out.rows} văn bản".encode()
                assert old in data
                data = data.replace(old, f"Tổng số: {out.rows + 3} văn bản".encode())
            dst.writestr(item, data)
    assert _declared_total(broken) == out.rows + 3
    summary = ingest_file(path=str(broken))
    assert summary["status"] == "rejected"
    assert str(out.rows + 3) in summary["message"] and str(out.rows) in summary["message"]
    assert _query_private("SELECT count(*) FROM core_eoffice__documents") == [(0,)]
