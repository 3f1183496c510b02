"""dim_calendar and dim_procedure: seeds checked row by row, built at writer start, used by views."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from warehouse_fixtures import UNITS_CSV, core_frame, dossier

from cchc.config import load_settings
from simulator.catalog import catalogue_rows
from warehouse.ddl import ensure_schema
from warehouse.procedures import CATALOGUE_HEADERS, PROCEDURES_CSV, read_procedure_catalogue
from warehouse.reference import transform_reference
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT
from warehouse.views import create_views
from warehouse.work_calendar import DIM_CALENDAR, build_calendar, load_day_off_swaps
from warehouse.writer import Warehouse

SWAP_HEADER = "date,kind,reason,decision\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2024-05-06,day_off,r,d", None),
        ("2024-05-04,day_off,r,d", r"row 1 \(line 2\), kind: 2024-05-04 is a weekend day"),
        ("06/05/2024,day_off,r,d", r"row 1 \(line 2\), date: '06/05/2024' is not a date"),
        ("2024-05-06,holiday,r,d", r"row 1 \(line 2\), kind: 'holiday' is not one of"),
        ("2024-05-06,day_off,r,", r"row 1 \(line 2\), decision: is empty"),
    ],
)
def test_swaps_seed_is_checked_row_by_row(tmp_path: Path, row: str, message: str | None) -> None:
    path = _write(tmp_path / "swaps.csv", SWAP_HEADER + row + "\n")
    if message is None:
        assert load_day_off_swaps(path)["date"].to_list() == [date(2024, 5, 6)]
        return
    with pytest.raises(ValueError, match=message) as err:
        load_day_off_swaps(path)
    assert str(path) in str(err.value)


def test_a_weekday_working_day_must_override_a_holiday(tmp_path: Path) -> None:
    holiday = load_day_off_swaps(_write(tmp_path / "a.csv", SWAP_HEADER + "2026-11-24,working_day,r,d\n"))
    days = build_calendar(2026, 2026, holiday).filter(pl.col("date") == date(2026, 11, 24))
    assert days["is_working_day"].to_list() == [True]  # the seed wins over the package
    plain = load_day_off_swaps(_write(tmp_path / "b.csv", SWAP_HEADER + "2026-11-25,working_day,r,d\n"))
    with pytest.raises(ValueError, match="2026-11-25 .* is a working day already"):
        build_calendar(2026, 2026, plain)


def _catalogue(path: Path, *rows: tuple[str, ...]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CATALOGUE_HEADERS)
        w.writerows(rows)
    return path


def test_catalogue_rows_are_checked(tmp_path: Path) -> None:
    good = ("1.004873.000.00.00.H21", "Cấp Giấy xác nhận", "HT", "Hộ tịch", "4", "3", "QĐ 1/QĐ-UBND")
    frame = read_procedure_catalogue(_catalogue(tmp_path / "ok.csv", good, ("1.00123", "x", "", "", "", "0", "")))
    assert frame["procedure_code"].to_list() == ["1.004873", "1.001230"]  # lost trailing zero restored
    assert frame["statutory_days"].to_list() == [3, 0] and frame["source"][1] == "ok.csv"
    cases = [
        (good[:5] + ("3 ngày",) + good[6:], r"row 1 \(line 2\), ThoiHanGiaiQuyet='3 ngày': is not a whole"),
        (good[:4] + ("5",) + good[5:], r"row 1 \(line 2\), MucDo='5'"),
        (("abc",) + good[1:], r"row 1 \(line 2\), MaTTHC='abc'"),
    ]
    for row, message in cases:
        with pytest.raises(ValueError, match=message):
            read_procedure_catalogue(_catalogue(tmp_path / "bad.csv", row))
    with pytest.raises(ValueError, match=r"row 2 \(line 3\), MaTTHC='1.004873': the procedure 1.004873 is already on row 1"):
        read_procedure_catalogue(_catalogue(tmp_path / "dup.csv", good, ("1.004873",) + good[1:]))


def test_the_embedded_catalogue_is_the_simulators() -> None:
    with PROCEDURES_CSV.open(encoding="utf-8", newline="") as fh:
        rows = [tuple(r) for r in csv.reader(fh)]
    assert rows[0] == CATALOGUE_HEADERS and rows[1:] == catalogue_rows()


def test_writer_builds_the_reference_tables_from_the_configured_catalogue(
    data_dir: Path, tmp_path: Path, units_csv: Path
) -> None:
    catalogue = _catalogue(tmp_path / "tinh.csv", ("1.001193", "Đăng ký khai sinh", "HT", "Hộ tịch", "4", "0", "QĐ"))
    _write(Path("cchc.toml"), f'[reference]\nprocedures_csv = "{catalogue}"\n')
    settings = load_settings()
    assert settings.reference.procedures_path == catalogue.resolve()
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        assert wh.con.execute("SELECT count(*) FROM dim_procedure").fetchone() == (1,)
        days = wh.con.execute("SELECT count(*), min(date) FROM dim_calendar").fetchone()
        assert days[0] > 365 * 8 and days[1] == date(2019, 1, 1)
        ref = transform_reference(wh.con)
        assert ref["procedures"]["statutory_days"].to_list() == [0] and ref["calendar"].first == date(2019, 1, 1)


def test_dossiers_view_counts_working_days(tmp_path: Path) -> None:
    units = _write(tmp_path / "units.csv", UNITS_CSV)
    con = duckdb.connect()
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(units))
    write_frame(con, DIM_CALENDAR, build_calendar(2024, 2024, load_day_off_swaps()))
    rows = [
        dossier("same_day", received_date="2024-03-12", finished_date="2024-03-12", due_date="2024-03-12"),
        dossier("tet", received_date="2024-02-07", finished_date="2024-02-16", due_date="2024-02-19",
                statutory_days=3, statutory_due_date=date(2024, 2, 19), due_date_check="matches"),
        dossier("swap", status=4, received_date="2024-04-26", due_date="2024-05-04"),
    ]
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L1")
    create_views(con)
    got = con.execute(
        "SELECT dossier_code, working_days_taken, working_days_allowed, statutory_days, due_date_check "
        "FROM out_onestop__dossiers ORDER BY dossier_code").fetchall()
    assert got == [("same_day", 0, 0, None, None), ("swap", None, 3, None, None), ("tet", 2, 3, 3, "matches")]


def test_an_open_rewrites_a_seed_only_when_its_content_changed(data_dir: Path,
                                                               tmp_path: Path) -> None:
    units = _write(tmp_path / "units.csv", UNITS_CSV)
    settings = load_settings()
    with Warehouse.open(settings, admin_units_csv=units) as wh:
        first = wh.query("SELECT table_name, written_at FROM etl_seeds ORDER BY 1")
    assert first["table_name"].to_list() == ["dim_admin_unit", "dim_calendar", "dim_procedure"]
    with Warehouse.open(settings, admin_units_csv=units) as wh:
        assert wh.query("SELECT table_name, written_at FROM etl_seeds ORDER BY 1").equals(first)
        wh.con.execute("DELETE FROM dim_admin_unit WHERE unit_code = '24082'")  # a manual edit
    _write(units, UNITS_CSV.replace("Xã Ia Rsai", "Xã Ia Rsai (mới)"))
    with Warehouse.open(settings, admin_units_csv=units) as wh:
        names = wh.query("SELECT unit_code, name FROM dim_admin_unit ORDER BY 1")
        later = wh.query("SELECT table_name, written_at FROM etl_seeds ORDER BY 1")
    assert names.filter(pl.col("unit_code") == "24079")["name"].item() == "Xã Ia Rsai (mới)"
    assert "24082" in names["unit_code"].to_list()  # the changed seed is written whole again
    assert later["written_at"][0] > first["written_at"][0]
    assert later["written_at"][1:].equals(first["written_at"][1:])
