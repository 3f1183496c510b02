"""Lake upkeep: fewer files and snapshots after merging, expiring and cleaning up, while every
kept publication still reads the same figures and an expired one says so."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warehouse_fixtures import core_frame, dossier

from cchc.config import Settings, load_settings
from warehouse import lake
from warehouse.reader import SnapshotExpired, open_snapshot, run_query
from warehouse.tables import CORE_ONESTOP_DOSSIERS
from warehouse.upkeep import NotALake, expirable, months_before, run_upkeep
from warehouse.writer import Warehouse

ROWS_PER_LOAD = 20  # above DuckLake's inlining limit (10): each load writes a Parquet file


@pytest.fixture
def lake_settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CCHC_WAREHOUSE_BACKEND", "ducklake")
    return load_settings()


def _figures(settings: Settings, as_of: datetime | None = None) -> list[tuple]:
    con = open_snapshot(settings, as_of=as_of)
    try:
        return run_query(con, "SELECT status, count(*) AS n FROM core_onestop__dossiers "
                              "GROUP BY ALL ORDER BY ALL").rows()
    finally:
        con.close()


def test_months_before_counts_calendar_months_in_local_time() -> None:
    moment = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)  # 1 April 03:00 in Hà Nội
    assert months_before(moment, 13).date().isoformat() == "2025-03-01"
    assert months_before(datetime(2026, 3, 30, 12, tzinfo=UTC), 1).date().isoformat() == \
        "2026-02-28"


def test_the_retention_rule_keeps_published_recent_and_head() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    day = timedelta(days=1)
    snapshots = [(1, now - 500 * day), (2, now - 400 * day), (3, now - 300 * day),
                 (4, now - 200 * day), (5, now - 2 * day), (6, now - day / 2), (7, now)]
    # 2 was published 400 days ago (too old), 4 within the window; 3 unpublished
    publications = [(2, now - 400 * day), (4, now - 200 * day)]
    assert expirable(snapshots, publications, head=7, now=now,
                     kept_since=now - 395 * day) == [1, 2, 3, 5]
    # the last publication is kept whatever its age; the head and the last day always
    assert expirable(snapshots, publications, head=7, now=now, kept_since=now) == [1, 2, 3, 5]
    assert expirable(snapshots, [(2, now - 400 * day)], head=7, now=now, kept_since=now) == \
        [1, 3, 4, 5]


def test_upkeep_shrinks_the_lake_and_keeps_what_was_published(
        lake_settings: Settings, units_csv: Path) -> None:
    stamps = []
    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        for i in range(4):
            load = wh.begin_load("onestop", "pull", "test")
            with wh.transaction(load):
                wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*(
                    dossier(f"D{i}-{j}", status=10 + i) for j in range(ROWS_PER_LOAD))), load)
            wh.finish_load(load, "succeeded")
            wh.publish()
            time.sleep(0.01)
            stamps.append(datetime.now(UTC))  # just after publication i
    before = {i: _figures(lake_settings, stamps[i]) for i in (0, 2, 3)}
    assert before[0] == [(10, ROWS_PER_LOAD)] and len(before[3]) == 4
    # publications 0 and 1 fall before the window; nothing counts as recent
    report = run_upkeep(lake_settings, kept_since=stamps[1], keep_recent=timedelta(0))
    assert report.files_merged >= 4 and report.files_deleted > 0
    assert report.files_after < report.files_before
    assert report.snapshots_after < report.snapshots_before
    assert report.snapshots_expired == report.snapshots_before + 1 - report.snapshots_after
    assert (report.publications_kept, report.publications_expired) == (2, 2)
    assert _figures(lake_settings) == before[3]  # the current publication
    assert _figures(lake_settings, stamps[2]) == before[2]  # a kept one: the same figures
    with pytest.raises(SnapshotExpired, match=r"no longer kept.*last 13 month\(s\).*oldest kept"):
        open_snapshot(lake_settings, as_of=stamps[0])
    again = run_upkeep(lake_settings, kept_since=stamps[1], keep_recent=timedelta(0))
    assert again.files_deleted == 0 and again.publications_expired == 0


def test_upkeep_on_the_file_backend_compacts_the_file(data_dir: Path) -> None:
    with pytest.raises(NotALake):
        run_upkeep(load_settings())
    from cchc.cli import app

    result = CliRunner().invoke(app, ["lake", "upkeep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "nothing done" in result.output
    result = CliRunner().invoke(app, ["lake", "upkeep"])
    assert result.exit_code == 0, result.output
    assert "the warehouse file is compacted" in result.output


def test_cli_upkeep_dry_run_changes_nothing(lake_settings: Settings, units_csv: Path) -> None:
    from cchc.cli import app

    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        load = wh.begin_load("onestop", "pull", "test")
        with wh.transaction(load):
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A1")), load)
        wh.finish_load(load, "succeeded")
        wh.publish()
    con = lake.connect_writer(lake_settings)
    try:
        count = con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0]
    finally:
        con.close()
    result = CliRunner().invoke(app, ["lake", "upkeep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would expire" in result.output
    con = lake.connect_writer(lake_settings)
    try:
        assert con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0] == count
    finally:
        con.close()


def test_the_dashboard_says_when_the_lake_was_published(lake_settings: Settings,
                                                        units_csv: Path) -> None:
    from cchc.dashboard.data import lake_published_at

    before = datetime.now(UTC)
    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        wh.publish()
    con = open_snapshot(lake_settings)
    try:
        published = lake_published_at(con)
    finally:
        con.close()
    assert published is not None and before <= published <= datetime.now(UTC)
    assert str(published.tzinfo) == "Asia/Ho_Chi_Minh"
