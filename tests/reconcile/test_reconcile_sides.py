"""The other sides: cchc's own form-06 spreadsheet reads back equal, offices' spreadsheets and
published CSVs are read or refused with file, row and field; the warehouse's facts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from reconcile_fixtures import dossier, small_warehouse

from sources.errors import SourceFileError
from sources.form06_file import read_form06_xlsx, report_06_frame
from sources.published_figures import for_period, read_published_figures
from transforms.reconcile import (
    COUNT_COLUMNS,
    EXPLAINED,
    TOTAL_KEY,
    match_form_rows,
    reconcile,
    unexplained,
)
from warehouse import reconcile_facts
from warehouse.form06 import TOTAL_LABEL, form06
from warehouse.form06_xlsx import new_workbook, write_form06_xlsx
from warehouse.reconcile_store import Against, compare
from warehouse.tables import QUARANTINE_ONESTOP_DOSSIERS

Q1 = (date(2022, 1, 1), date(2022, 3, 31))
DOSSIERS = [
    dossier("A1", received_date="2021-12-20", due_date="2022-01-10", status=4),
    dossier("A2", channel=2, received_date="2022-01-10", due_date="2022-01-20",
            finished_date="2022-01-12"),
    dossier("A3", received_date="2022-02-01", due_date="2022-02-10", finished_date="2022-02-15"),
    dossier("A4", received_date="2022-03-01", finished_date="2022-03-02"),  # no due date
    # in progress on 31 March, finished in April
    dossier("A5", received_date="2022-03-20", due_date="2022-03-25", finished_date="2022-04-05"),
    dossier("B1", unit_code="24079", field_name="Đất đai", field_code="DD", status=4,
            received_date="2022-02-01", due_date="2022-04-30"),
    dossier("C1", unit_code="24082", field_name="Đất đai", field_code="DD",
            received_date="2022-01-05", due_date="2022-01-20", finished_date="2022-01-20"),
]  # fmt: skip


class Scope:
    province_code, district_code = "64", "637"


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    return small_warehouse(tmp_path_factory.mktemp("wh"), *DOSSIERS)


def test_the_total_key_is_form06s_total_label() -> None:
    assert TOTAL_KEY == TOTAL_LABEL


@pytest.mark.parametrize("by", ["unit", "field"])
def test_the_form06_spreadsheet_cchc_writes_reads_back_equal(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, by: str
) -> None:
    ours = form06(con, *Q1, by)  # type: ignore[arg-type]
    path = write_form06_xlsx(ours, tmp_path / "form06.xlsx", *Q1, by)  # type: ignore[arg-type]
    read = read_form06_xlsx(path, Q1)
    with pytest.raises(SourceFileError, match="the form is for 01/01/2022 - 31/03/2022, not"):
        read_form06_xlsx(path, (date(2022, 1, 1), date(2022, 6, 30)))
    assert read["label"].to_list() == ours["c2"].to_list()
    assert read.select(COUNT_COLUMNS).equals(ours.select(COUNT_COLUMNS))
    assert read["is_total"].to_list() == [False] * (ours.height - 1) + [True]
    units = reconcile_facts.admin_units(con)
    keyed = match_form_rows(read, ours, by, units, "64", "637")
    result = reconcile(ours, keyed, None, "form", by)
    assert set(result["status"]) == {"agrees"}
    assert result.height == ours.height * 14


def _office_form(path: Path, rows: list[list]) -> Path:
    """An office's form: numbers 1…13 without brackets from column B, names with odd spelling."""
    wb = new_workbook(path)
    ws = wb.add_worksheet("Biểu 06")
    ws.write_string(0, 1, "UBND HUYỆN KRÔNG PA")
    ws.write_string(5, 2, "Số hồ sơ nhận giải quyết")
    for i in range(13):
        ws.write_number(7, 1 + i, i + 1)
    for r, row in enumerate(rows, start=8):
        for c, v in enumerate(row, start=1):
            if isinstance(v, str):
                ws.write_string(r, c, v)
            elif v is not None:
                ws.write_number(r, c, v)
    ws.write_string(len(rows) + 10, 1, "NGƯỜI LẬP BIỂU")
    wb.close()
    return path


def test_an_office_form_matches_units_by_code_in_the_name_or_by_folded_name(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    ours = form06(con, *Q1, "unit")
    by_code = {r["code"]: r for r in ours.iter_rows(named=True)}
    rows: list[list] = [[None, "Xã, phường, thị trấn"]]
    for name, code in [("UBND thị trấn Phú Túc (24076)", "24076"), ("xã IA RSAI", "24079"),
                       ("Ia Rsuom", "24082"), ("Huyện Krông Pa", "637")]:
        rows.append([1, name, *[by_code[code][c] for c in COUNT_COLUMNS]])
    rows.append([None, "Tổng cộng", *[ours.row(-1, named=True)[c] for c in COUNT_COLUMNS]])
    read = read_form06_xlsx(_office_form(tmp_path / "office.xlsx", rows))
    keyed = match_form_rows(read, ours, "unit", reconcile_facts.admin_units(con), "64", "637")
    assert keyed["key"].to_list() == ["24076", "24079", "24082", "637", TOTAL_KEY]
    assert set(reconcile(ours, keyed, None, "form")["status"]) == {"agrees"}


def test_an_unreadable_cell_names_file_row_and_column(tmp_path: Path) -> None:
    rows = [[1, "Xã Ia Rsai", 5, 1, 4, 0, 5, 5, 0, 0, 0, 0, "năm"],
            [None, "Tổng cộng", *[0] * 11]]  # fmt: skip
    with pytest.raises(SourceFileError) as err:
        read_form06_xlsx(_office_form(tmp_path / "bad.xlsx", rows))
    assert "bad.xlsx, row 9, column '(13)'" in str(err.value) and "'năm'" in str(err.value)
    no_total = _office_form(tmp_path / "no_total.xlsx", rows[:1])
    no_total_rows = [[1, "Xã Ia Rsai", *[0] * 11]]
    with pytest.raises(SourceFileError, match="no Tổng cộng row"):
        read_form06_xlsx(_office_form(no_total, no_total_rows))


def test_published_csv_is_checked_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "pub.csv"
    path.write_text("\ufeffindicator,value,unit,period_from,period_to,scope\n"
                    "received_total,\"87,221\",dossiers,2021-01-01,2022-12-31,637\n"
                    "online_rate_pct,1.19,percent,2021-01-01,2022-12-31,637\n", encoding="utf-8")
    frame = read_published_figures(path)
    assert frame["value"].to_list() == ["87221", "1.19"]
    assert frame["source_row"].to_list() == [2, 3]
    with pytest.raises(SourceFileError, match="no figures for 2022-01-01..2022-12-31"):
        for_period(frame, path, date(2022, 1, 1), date(2022, 12, 31))
    path.write_text("indicator,value,unit,period_from,period_to,scope\n"
                    "received_total,87221,dossiers,2021-01-01,2022-12-31,637\n"
                    "online_share,1.19,percent,2021-01-01,2022-12-31,637\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as err:
        read_published_figures(path)
    assert "pub.csv, row 3, column 'indicator'" in str(err.value)
    path.write_text("indicator,value,unit,period_from,period_to,scope\n"
                    "received_total,many,dossiers,2021-01-01,2022-12-31,637\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match="row 2, column 'value'"):
        read_published_figures(path)


def test_the_system_report_frame_refuses_a_missing_count() -> None:
    body = {"rows": [{"code": "24076", "name": "Thị trấn Phú Túc", **dict.fromkeys(
        COUNT_COLUMNS, 0)}], "total": dict.fromkeys(COUNT_COLUMNS, 0)}
    assert report_06_frame(body, "u")["code"].to_list() == ["24076", None]
    del body["total"]["c9"]
    with pytest.raises(Exception, match=r"total.c9 is None, not a count"):
        report_06_frame(body, "u")


def test_facts_explain_a_vendor_report_judged_by_todays_status_and_quarantine(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A5 was in progress on 31 March and finished on 5 April: the vendor counts it resolved
    (late); one dossier held in quarantine is counted by the source too."""
    quarantine = pl.DataFrame({
        "MaHoSo": ["Q1"], "MaDVHC": ["24076"], "TenDonVi": ["UBND thị trấn Phú Túc"],
        "TenLinhVuc": ["Tư pháp"], "NgayTiepNhan": ["10/02/2022 08:00"],
        "NgayKetThucXuLy": ["2022-01-01T03:00:00Z"], "row_hash": ["h1"], "reasons": [["x"]],
    })  # fmt: skip
    from warehouse.strategies import write_frame

    q = con.cursor()
    q.execute("BEGIN")
    write_frame(q, QUARANTINE_ONESTOP_DOSSIERS, quarantine, "L2")
    try:
        ours = form06(con, *Q1, "unit")
        vendor = ours.with_columns(
            pl.when(pl.col("code") == "24076").then(pl.col("c7") + 1).otherwise("c7").alias("c7"),
            pl.when(pl.col("code") == "24076").then(pl.col("c10") + 1).otherwise("c10")
            .alias("c10"),
            pl.when(pl.col("code") == "24076").then(pl.col("c11") - 1).otherwise("c11")
            .alias("c11"),
            pl.when(pl.col("code") == "24076").then(pl.col("c13") - 1).otherwise("c13")
            .alias("c13"),
        )
        body_rows = [{"code": r["code"], "name": r["c2"], **{c: r[c] for c in COUNT_COLUMNS}}
                     for r in vendor.iter_rows(named=True) if r["c2"] != TOTAL_LABEL]
        total = {c: sum(r[c] for r in body_rows) for c in COUNT_COLUMNS}
        for c in ("c3", "c5", "c7", "c9"):  # the quarantined dossier: in the total only
            total[c] += 1
        theirs = report_06_frame({"rows": body_rows, "total": total}, "http://x/reports/06")
        result = compare(q, theirs, Against("system", "http://x"), *Q1, "unit", Scope())
    finally:
        q.execute("ROLLBACK")
    diffs = result.filter(pl.col("status") != "agrees")
    assert unexplained(result).is_empty(), unexplained(result).to_dicts()
    codes = {(r["key"], r["figure"]): r["explanation_code"] for r in diffs.iter_rows(named=True)}
    assert codes[("24076", "c7")] == "closed_after_to"
    assert codes[("24076", "c13")] == "closed_after_to"
    assert codes[(TOTAL_KEY, "c3")] == "quarantine"
    assert codes[(TOTAL_KEY, "c7")] == "closed_after_to+quarantine"
    assert set(diffs["status"]) == {EXPLAINED}
