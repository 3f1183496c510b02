"""Form 06 on a hand-made set where every dossier exercises one rule of docs/figures.md §4.

Period: 2022-01-01 to 2022-03-31. Unit 24076 holds the cases, 24079 one open dossier without a
due day; 637 (the district) and 24082 have nothing and still get their zero rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from warehouse_fixtures import UNITS_CSV, core_frame, dossier

from warehouse.ddl import ensure_schema
from warehouse.form06 import (
    COUNT_COLUMNS,
    TOTAL_LABEL,
    Form06IdentityError,
    form06,
    identity_violations,
)
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT
from warehouse.views import create_views

Q1 = (date(2022, 1, 1), date(2022, 3, 31))
Q2 = (date(2022, 4, 1), date(2022, 6, 30))

CASES = [
    # carried over, still open, due before the end: c6, c11, c13
    dossier("carried_open", received_date="2021-12-20", due_date="2022-01-10", status=4),
    # carried over, finished on its due day in the period: c6, c7, c9
    dossier("carried_done", received_date="2021-12-15", due_date="2022-01-05",
            finished_date="2022-01-05"),
    # finished before the period: not in the report at all
    dossier("done_before", received_date="2021-11-01", due_date="2021-11-30",
            finished_date="2021-12-20"),
    # online, finished before its due day: c4, c7, c8
    dossier("online_early", channel=2, received_date="2022-01-10", due_date="2022-01-20",
            finished_date="2022-01-12"),
    # finished late: c5, c7, c10
    dossier("late", status=9, received_date="2022-02-01", due_date="2022-02-10",
            finished_date="2022-02-15"),
    # withdrawn, no finish day: closed on its last update, 4 Feb 18:00 UTC = 5 Feb local: c9
    dossier("withdrawn", channel=3, status=7, received_date="2022-02-03", due_date="2022-02-04",
            updated_at=datetime(2022, 2, 4, 18, 0, tzinfo=UTC)),
    # no due day: on time like the vendor, and flagged
    dossier("no_due", received_date="2022-03-01", finished_date="2022-03-02"),
    # finished after the period: still in progress at its end (c11), overdue on 31 March (c13)
    dossier("finished_after", received_date="2022-03-20", due_date="2022-03-25",
            finished_date="2022-04-05"),
    # waiting for the applicant: not overdue although its due day has passed (c12)
    dossier("waiting", status=5, received_date="2022-03-10", due_date="2022-03-15"),
    # open, due after the period: c12
    dossier("open_within", status=4, received_date="2022-03-28", due_date="2022-04-10"),
    # open, due on the last day: not overdue yet (c12)
    dossier("due_on_to", status=4, received_date="2022-03-01", due_date="2022-03-31"),
    # never received (1: submitted online, 3: refused): left out of every column
    dossier("submitted", status=1, received_date="2022-02-01", due_date="2022-02-10"),
    dossier("refused", status=3, received_date="2022-02-01", due_date="2022-02-10"),
    # received after the period, withdrawn before it: left out
    dossier("after", status=4, received_date="2022-04-02", due_date="2022-04-20"),
    dossier("withdrawn_before", status=7, received_date="2021-12-01",
            finished_date="2021-12-10"),
    # another commune: open without a due day (c12, open_no_due_date)
    dossier("other_unit", unit_code="24079", field_name="Đất đai", field_code=None, status=4,
            received_date="2022-02-01"),
]  # fmt: skip


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    seed = Path(tmp_path_factory.mktemp("seed")) / "units.csv"
    seed.write_text(UNITS_CSV, encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(seed))
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*CASES), "L1")
    create_views(con)
    return con


def _row(frame: pl.DataFrame, name: str) -> dict:
    return frame.filter(pl.col("c2") == name).row(0, named=True)


def _counts(row: dict) -> dict:
    return {k: v for k, v in row.items() if k in COUNT_COLUMNS and v} | {
        k: row[k] for k in ("no_due_date", "open_no_due_date", "withdrawn") if row[k]
    }


def test_by_unit_counts_every_rule(con: duckdb.DuckDBPyConnection) -> None:
    form = form06(con, *Q1, by="unit")
    assert form["c2"].to_list() == [
        "Huyện Krông Pa", "Thị trấn Phú Túc", "Xã Ia Rsai", "Xã Ia Rsươm", TOTAL_LABEL,
    ]  # fmt: skip
    assert form["c1"].to_list() == [1, 2, 3, 4, None]
    assert _counts(_row(form, "Thị trấn Phú Túc")) == {
        "c3": 10, "c4": 1, "c5": 7, "c6": 2,
        "c7": 5, "c8": 1, "c9": 3, "c10": 1,
        "c11": 5, "c12": 3, "c13": 2,
        "no_due_date": 1, "withdrawn": 1,
    }  # fmt: skip
    assert _counts(_row(form, "Xã Ia Rsai")) == {
        "c3": 1, "c5": 1, "c11": 1, "c12": 1, "open_no_due_date": 1,
    }  # fmt: skip
    assert _counts(_row(form, "Huyện Krông Pa")) == {}
    assert _counts(_row(form, TOTAL_LABEL)) == {
        "c3": 11, "c4": 1, "c5": 8, "c6": 2,
        "c7": 5, "c8": 1, "c9": 3, "c10": 1,
        "c11": 6, "c12": 4, "c13": 2,
        "no_due_date": 1, "open_no_due_date": 1, "withdrawn": 1,
    }  # fmt: skip
    assert identity_violations(form) == []


def test_by_field(con: duckdb.DuckDBPyConnection) -> None:
    form = form06(con, *Q1, by="field")
    assert form["c2"].to_list() == ["Tư pháp", "Đất đai", TOTAL_LABEL]
    assert form["code"].to_list() == ["TP", None, None]
    assert _row(form, TOTAL_LABEL)["c3"] == 11


def test_carried_over_equals_the_previous_periods_in_progress(
    con: duckdb.DuckDBPyConnection,
) -> None:
    first, second = form06(con, *Q1), form06(con, *Q2)
    assert second["c6"].to_list() == first["c11"].to_list()
    finished_after = _row(second, "Thị trấn Phú Túc")
    assert finished_after["c7"] >= 1  # "finished_after" is resolved in Q2


def test_a_one_day_period_and_bad_arguments(con: duckdb.DuckDBPyConnection) -> None:
    day = form06(con, date(2022, 1, 5), date(2022, 1, 5))
    assert _row(day, "Thị trấn Phú Túc")["c9"] == 1  # carried_done, on its due day
    with pytest.raises(ValueError, match="starts"):
        form06(con, date(2022, 2, 1), date(2022, 1, 1))
    with pytest.raises(ValueError, match="by must be"):
        form06(con, *Q1, by="district")  # type: ignore[arg-type]


def test_identity_violations_are_reported() -> None:
    good = {c: 0 for c in COUNT_COLUMNS} | {"no_due_date": 0, "open_no_due_date": 0,
                                            "withdrawn": 0}  # fmt: skip
    bad = pl.DataFrame([{"c2": "X", **good, "c3": 1, "c4": 1}, {"c2": TOTAL_LABEL, **good}])
    problems = identity_violations(bad)
    assert any("X: c3=1 but c7 + c11=0" in p for p in problems)
    assert any("Tổng cộng: c3=0 but rows sum to 1" in p for p in problems)
    assert issubclass(Form06IdentityError, ValueError)
