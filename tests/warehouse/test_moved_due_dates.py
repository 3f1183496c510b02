"""Due dates moved after reception: the raw-date macro, the view, form 06 --due, the load check."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from warehouse_fixtures import UNITS_CSV, core_frame, dossier

from transforms.dates import parse_instants
from warehouse.ddl import ensure_schema
from warehouse.form06 import form06
from warehouse.moved_due_dates import findings, moved_in_load_sql
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT, RAW_ONESTOP_DOSSIER_VERSIONS
from warehouse.views import create_views

SAMPLES = [
    "2021-03-14T23:30:00Z", "2021-03-14T23:30:00.250Z", "2021-03-15T06:30:00+07:00",
    "2021-03-15 06:30:00+07:00", "15/03/2021 06:30", "15/03/2021 06:30:15", "15/03/2021",
    "2021-03-15T06:30:00", "2021-03-15 06:30:00", "2021-03-15T06:30", "2021-03-15",
    "15-03-2021 06:30", "15-03-2021", "44270.4375", "44270", " 15/03/2021 17:00 ",
    "30/02/2021", "garbage", "", "123",
]  # fmt: skip


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    seed = tmp_path / "units.csv"
    seed.write_text(UNITS_CSV, encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(seed))
    create_views(con)
    return con


def test_the_sql_reading_of_raw_dates_agrees_with_the_transform(con) -> None:
    ours = parse_instants(pl.Series("t", SAMPLES)).dt.replace_time_zone(None).to_list()
    sql = [con.execute("SELECT cchc_instant(?)", [s]).fetchone()[0] for s in SAMPLES]
    assert sql == ours
    assert sum(v is not None for v in sql) == 16


def _version(code: str, updated: str, due: str | None, load_id: str, received: str | None =
             "2022-03-01T02:00:00Z", fmt: str = "api") -> dict:
    return {"MaHoSo": code, "NgayTiepNhan": received, "NgayHenTra": due, "NgayCapNhat": updated,
            "row_hash": f"{code}|{updated}|{due}|{fmt}", "load_id": load_id}


def _load(con, versions: list[dict], core: list[dict]) -> dict[str, list]:
    """Write the versions load by load, running the load check after each (as the pipeline
    does); then the core rows. Returns each load's check result."""
    found = {}
    for load_id in dict.fromkeys(v["load_id"] for v in versions):
        write_frame(con, RAW_ONESTOP_DOSSIER_VERSIONS,
                    pl.DataFrame([v for v in versions if v["load_id"] == load_id]))
        found[load_id], streamed = (
            con.execute(moved_in_load_sql(keep), {"load_id": load_id}).fetchall()
            for keep in (True, False))
        assert streamed == found[load_id]  # kept in memory or read twice: the same rows
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*core), "L2")
    return found


def test_view_lists_dossiers_whose_due_date_changed_after_reception(con) -> None:
    in_load = _load(con, [
        # moved later once (10:00 UTC = 17:00 local); finished between the two due days
        _version("moved", "2022-03-01T02:00:00Z", "2022-03-04T10:00:00Z", "L1"),
        _version("moved", "2022-03-02T02:00:00Z", "2022-03-09T10:00:00Z", "L2"),
        _version("moved", "2022-03-08T02:00:00Z", "08/03/2022 17:00", "L2", fmt="file"),
        # the same instant as text from a file, and a time change only: not a move
        _version("same", "2022-03-01T02:00:00Z", "2022-03-04T10:00:00Z", "L1"),
        _version("same", "2022-03-02T02:00:00Z", "04/03/2022 08:00", "L2"),
        # submitted online (no reception, no due date yet), then received: not a move
        _version("online", "2022-02-28T02:00:00Z", None, "L1", received=None),
        _version("online", "2022-03-01T02:00:00Z", "2022-03-04T10:00:00Z", "L1"),
        # moved earlier, then later again
        _version("twice", "2022-03-01T02:00:00Z", "2022-03-10T10:00:00Z", "L1"),
        _version("twice", "2022-03-02T02:00:00Z", "2022-03-07T10:00:00Z", "L1"),
        _version("twice", "2022-03-03T02:00:00Z", "2022-03-11T10:00:00Z", "L1"),
    ], [
        dossier("MOVED", received_date="2022-03-01", due_date="2022-03-08", finished_date="2022-03-07"),
        dossier("SAME", received_date="2022-03-01", due_date="2022-03-04", finished_date="2022-03-04"),
        dossier("ONLINE", received_date="2022-03-01", due_date="2022-03-04", finished_date="2022-03-04"),
        dossier("TWICE", received_date="2022-03-01", due_date="2022-03-11", finished_date="2022-03-11"),
    ])  # fmt: skip
    view = con.execute("SELECT * FROM out_onestop__moved_due_dates").pl()
    rows = {r["dossier_code"]: r for r in view.iter_rows(named=True)}
    assert set(rows) == {"MOVED", "TWICE"}
    moved, twice = rows["MOVED"], rows["TWICE"]
    assert (moved["first_due_date"], moved["current_due_date"]) == (date(2022, 3, 4), date(2022, 3, 8))
    assert (moved["days_moved"], moved["times_moved"], moved["times_moved_later"]) == (4, 2, 1)
    assert moved["late_by_first_due"] and moved["on_time_only_by_moved_due"]
    assert (twice["days_moved"], twice["times_moved"], twice["times_moved_later"]) == (1, 2, 1)
    assert twice["late_by_first_due"] and twice["on_time_only_by_moved_due"]  # closed on the 11th

    current = form06(con, date(2022, 3, 1), date(2022, 3, 31)).row(-1, named=True)
    original = form06(con, date(2022, 3, 1), date(2022, 3, 31), due="original").row(-1, named=True)
    assert (current["c8"] + current["c9"], current["c10"], current["late_by_first_due"]) == (4, 0, 2)
    assert (original["c8"] + original["c9"], original["c10"], original["late_by_first_due"]) == (2, 2, 2)
    with pytest.raises(ValueError, match="due must be"):
        form06(con, date(2022, 3, 1), date(2022, 3, 31), due="latest")  # type: ignore[arg-type]

    # The load check: moves that appear with a load's versions and not without them.
    assert in_load == {"L1": [("TWICE", 4)], "L2": [("MOVED", 5)]}


def test_load_check_finds_a_move_between_two_spellings_of_one_dossier_code(con) -> None:
    """Each spelling alone has one due date; only as one dossier (canonical code) do they
    show the move: the check must not skip a dossier because each raw spelling looks unmoved."""
    in_load = _load(con, [
        _version("hs\u200b-7", "2022-03-01T02:00:00Z", "2022-03-04T10:00:00Z", "L1"),
        _version("HS-7", "2022-03-02T02:00:00Z", "2022-03-09T10:00:00Z", "L1"),
        _version("hs-8", "2022-03-01T02:00:00Z", "2022-03-04T10:00:00Z", "L1"),
    ], [dossier("HS-7", received_date="2022-03-01", due_date="2022-03-09")])
    assert in_load == {"L1": [("HS-7", 5)]}


def test_findings_one_warning_naming_the_dossiers_or_none() -> None:
    from warehouse.moved_due_dates import MovedInLoad

    assert findings(MovedInLoad([], 0), "L1") == []
    (finding,) = findings(MovedInLoad(["A", "B"], 5), "L1")
    assert finding.severity == "warning" and finding.counts == {"dossiers": 2, "max_days_moved": 5}
    assert "2 hồ sơ" in finding.message and "A, B" in finding.message_en and finding.load_id == "L1"


def test_a_bulk_load_is_checked_within_a_small_memory_limit(tmp_path: Path) -> None:
    """A bulk load touches nearly every code: its check must not hold them all at once. The form
    that joined the versions against the touched codes needed more than 64 MB for 300,000
    versions with two threads (and ran out at 5M dossiers under the load's 256 MB); the
    grouping it uses now completes at 40 MB."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    create_views(con)
    n = 300_000
    code = pl.lit("000.00.19.H29-") + pl.int_range(n).cast(pl.String)
    first = pl.select(code.alias("MaHoSo"), pl.int_range(n).cast(pl.String).alias("row_hash"))
    moved = first.filter(pl.int_range(n) % 1000 == 0).with_columns(
        pl.col("row_hash") + "b", NgayHenTra=pl.lit("2022-03-09T10:00:00Z"),
        NgayCapNhat=pl.lit("2022-03-02T02:00:00Z"))
    versions = pl.concat([
        first.with_columns(NgayHenTra=pl.lit("2022-03-04T10:00:00Z"),
                           NgayCapNhat=pl.lit("2022-03-01T02:00:00Z")),
        moved,
    ]).with_columns(NgayTiepNhan=pl.lit("2022-03-01T02:00:00Z"), load_id=pl.lit("L1"))
    write_frame(con, RAW_ONESTOP_DOSSIER_VERSIONS, versions)
    con.execute("CHECKPOINT")  # the versions on disk, not in the buffer pool
    con.execute("SET memory_limit = '64MB'; SET threads = 2")
    rows = con.execute(moved_in_load_sql(keep_touched=False), {"load_id": "L1"}).fetchall()
    assert len(rows) == n // 1000 and {days for _, days in rows} == {5}
