"""The analysts' views on a few dossiers: labels, no personal data, monthly rates, overdue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from warehouse_fixtures import UNITS_CSV, core_frame, dossier

from cchc.config import LOCAL_TZ
from warehouse.ddl import ensure_schema
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import (
    CORE_ONESTOP_DOSSIERS,
    DIM_ADMIN_UNIT,
    ETL_LOADS,
    QUARANTINE_ONESTOP_DOSSIERS,
)
from warehouse.views import create_views, view_names

TODAY = datetime.now(ZoneInfo(LOCAL_TZ)).date()  # the views' "today" is local


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    seed = Path(tmp_path_factory.mktemp("seed")) / "units.csv"
    seed.write_text(UNITS_CSV, encoding="utf-8")
    con = duckdb.connect()
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(seed))
    rows = [
        dossier("on_time", channel=2, received_date="2022-01-03", due_date="2022-01-10",
                finished_date="2022-01-10", digitisation=1, electronic_result=True,
                paid_online=True, rating="RatHaiLong"),
        dossier("late", received_date="2022-01-05", due_date="2022-01-06",
                finished_date="2022-02-01", digitisation=0, electronic_result=False,
                rating="KhongHaiLong"),
        dossier("no_due", received_date="2022-01-07", finished_date="2022-01-08"),
        dossier("overdue", status=4, received_date=TODAY - timedelta(days=20),
                due_date=TODAY - timedelta(days=5)),
        dossier("waiting", status=5, received_date=TODAY - timedelta(days=20),
                due_date=TODAY - timedelta(days=2)),
        dossier("not_yet_due", status=4, received_date=TODAY, due_date=TODAY + timedelta(days=3)),
    ]  # fmt: skip
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L1")
    write_frame(con, ETL_LOADS, pl.DataFrame([{"load_id": "L1", "status": "succeeded",
                                               "rows_in": 7, "rows_duplicate": 0,
                                               "rows_loaded": 6, "rows_quarantined": 1}]))  # fmt: skip
    quarantined = pl.DataFrame(
        [{"row_hash": "q1", "load_id": "L1", "reasons": [
            "TrangThaiHoSo='Đang chờ': status is missing or not a known status",
            "KenhThucHien='': submission channel is missing or unknown"]},
         {"row_hash": "q2", "load_id": "L1", "reasons": [
            "TrangThaiHoSo='11': status is missing or not a known status"]}]
    )  # fmt: skip
    write_frame(con, QUARANTINE_ONESTOP_DOSSIERS, quarantined)
    create_views(con)
    return con


def test_every_view_runs_and_is_commented(con: duckdb.DuckDBPyConnection) -> None:
    comments = dict(
        con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall()
    )
    for name in view_names():
        con.execute(f"SELECT * FROM {name}").fetchall()
        assert comments[name], name


def test_dossiers_view_has_labels_and_no_personal_data(con: duckdb.DuckDBPyConnection) -> None:
    view = con.execute("SELECT * FROM out_onestop__dossiers WHERE dossier_code = 'on_time'").pl()
    assert not set(CORE_ONESTOP_DOSSIERS.pii_columns) & set(view.columns)
    row = view.row(0, named=True)
    assert row["unit_name"] == "Thị trấn Phú Túc" and row["channel_label"] == "Trực tuyến"
    assert row["status_label"] == "Đã trả kết quả" and row["rating_label"] == "Rất hài lòng"


def test_rates_by_unit_month(con: duckdb.DuckDBPyConnection) -> None:
    jan = con.execute(
        "SELECT * FROM out_onestop__rates_by_unit_month WHERE month = DATE '2022-01-01'"
    ).pl().row(0, named=True)  # fmt: skip
    assert (jan["received"], jan["received_online"], jan["online_rate"]) == (3, 1, 0.3333)
    assert (jan["resolved"], jan["resolved_no_due_date"], jan["on_time_rate"]) == (2, 1, 1.0)
    assert jan["digitised_rate"] == 0.3333 and jan["satisfaction_rate"] == 0.5
    feb = con.execute(
        "SELECT * FROM out_onestop__rates_by_unit_month WHERE month = DATE '2022-02-01'"
    ).pl().row(0, named=True)  # fmt: skip
    assert (feb["received"], feb["resolved"], feb["resolved_late"], feb["on_time_rate"]) == (
        0, 1, 1, 0.0,
    )  # fmt: skip


def test_overdue_open(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT dossier_code, waiting, days_overdue FROM out_onestop__overdue_open"
    ).fetchall()
    # the rows were made relative to TODAY; if the local day turned since, the view's today did too
    view_today = con.execute(
        "SELECT (current_timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')::DATE").fetchone()[0]
    turned = (view_today - TODAY).days
    assert rows == [("overdue", False, 5 + turned), ("waiting", True, 2 + turned)]


def test_quality_views(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("SELECT rows_balanced FROM out_quality__loads").fetchall() == [(True,)]
    reasons = con.execute(
        "SELECT raw_field, rule, rows, loads FROM out_quality__quarantine_reasons"
    ).fetchall()
    assert reasons == [
        ("TrangThaiHoSo", "status is missing or not a known status", 2, 1),
        ("KenhThucHien", "submission channel is missing or unknown", 1, 1),
    ]


def test_form06_and_rates_agree(con: duckdb.DuckDBPyConnection) -> None:
    from warehouse.form06 import form06

    form = form06(con, date(2022, 1, 1), date(2022, 2, 28)).row(-1, named=True)
    rates = con.execute(
        "SELECT sum(received_online), sum(received_counter_postal), sum(resolved), "
        "sum(resolved_late) FROM out_onestop__rates_by_unit_month WHERE month < DATE '2022-03-01'"
    ).fetchone()
    assert rates == (form["c4"], form["c5"], form["c7"], form["c10"])
