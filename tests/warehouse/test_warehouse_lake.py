"""The warehouse on DuckLake: same declarations, publish = a recorded snapshot, readers attach
the lake read-only at it (another process too, while a writer's transaction is open), reports
as published on an earlier day, personal data never in the lake."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner
from warehouse_fixtures import ROOT, core_frame, dossier

from cchc.config import LOCAL_TZ, Settings, WarehouseSettings, load_settings
from warehouse import lake
from warehouse.ddl import create_table_sql
from warehouse.reader import SnapshotMissing, open_snapshot, run_query
from warehouse.tables import CORE_ONESTOP_DOSSIERS, ETL_LOADS
from warehouse.writer import Warehouse


@pytest.fixture
def lake_settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The ducklake backend with its embedded SQLite catalog (child processes inherit it)."""
    monkeypatch.setenv("CCHC_WAREHOUSE_BACKEND", "ducklake")
    return load_settings()


def _load(wh: Warehouse, *codes: str, publish: bool = True) -> None:
    load = wh.begin_load("onestop", "pull", "test")
    with wh.transaction(load):
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*(dossier(c) for c in codes)), load)
    wh.finish_load(load, "succeeded")
    if publish:
        wh.publish()


def _codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    return run_query(con, "SELECT dossier_code FROM core_onestop__dossiers ORDER BY 1")[
        "dossier_code"].to_list()


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    toml = tmp_path / "cchc.toml"
    toml.write_text('[warehouse]\nbackend = "ducklake"\ncatalog = "postgres:dbname=x"\n')
    chosen = load_settings(toml, env={})
    assert chosen.warehouse.backend == "ducklake" and lake.catalog(chosen) == "postgres:dbname=x"
    assert load_settings(tmp_path / "none.toml", env={}).warehouse.backend == "duckdb"
    with pytest.raises(ValueError, match="backend must be one of"):
        WarehouseSettings(backend="sqlite")


def test_the_lake_has_no_primary_keys_the_file_keeps_them() -> None:
    assert "PRIMARY KEY" in create_table_sql(ETL_LOADS)
    assert "PRIMARY KEY" not in create_table_sql(ETL_LOADS, keys=False)


def test_round_trip_publishes_without_a_copy_and_keeps_personal_data_out(
        lake_settings: Settings, units_csv: Path) -> None:
    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        _load(wh, "A1", "A2")
        _load(wh, "A1", "A2")  # the same rows again: the merge writes nothing
        assert wh.personal(CORE_ONESTOP_DOSSIERS, ["A1"])["applicant_name"].item() == \
            "Nguyễn Văn A"
    con = open_snapshot(lake_settings)
    try:
        assert _codes(con) == ["A1", "A2"]
        names = run_query(con, "SELECT count(applicant_name) AS n FROM core_onestop__dossiers")
        assert names["n"].item() == 0  # NULL in the lake: the values are in personal.duckdb
        assert run_query(con, "SELECT count(*) AS n FROM etl_snapshot")["n"].item() == 1
        assert con.execute("SELECT type FROM duckdb_databases() WHERE database_name = "
                           "current_database()").fetchone()[0] == "ducklake"
    finally:
        con.close()
    assert not lake_settings.published_path.exists()  # nothing copied
    lake_files = [p.name for p in lake_settings.lake_dir.rglob("*")]
    assert not any("personal" in name for name in lake_files)


def test_readers_see_the_published_snapshot_and_travel_back(
        lake_settings: Settings, units_csv: Path) -> None:
    with pytest.raises(SnapshotMissing):
        open_snapshot(lake_settings)
    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        _load(wh, "A1")
        between = datetime.now(UTC)
        time.sleep(0.01)
        _load(wh, "A2")
        _load(wh, "A3", publish=False)  # committed, not published
    latest = open_snapshot(lake_settings)
    earlier = open_snapshot(lake_settings, as_of=between)
    try:
        assert _codes(latest) == ["A1", "A2"]
        assert _codes(earlier) == ["A1"]
    finally:
        latest.close()
        earlier.close()
    with pytest.raises(SnapshotMissing, match="nothing was published before"):
        open_snapshot(lake_settings, as_of=datetime(2000, 1, 1, tzinfo=UTC))


READER = textwrap.dedent("""
    from cchc.config import load_settings
    from warehouse.reader import open_snapshot
    con = open_snapshot(load_settings())
    print(con.execute("SELECT count(*) FROM core_onestop__dossiers").fetchone()[0])
""")


def test_a_reader_in_another_process_reads_during_an_open_write_transaction(
        lake_settings: Settings, units_csv: Path) -> None:
    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        _load(wh, "A1")
        with wh.transaction():
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("B1"), dossier("B2")), "open")
            reader = subprocess.run([sys.executable, "-c", READER], cwd=ROOT,
                                    capture_output=True, text=True, timeout=60)
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.strip() == "1"


def test_report_as_published_on_a_day(lake_settings: Settings, units_csv: Path) -> None:
    from cchc.cli import app

    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        _load(wh, "A1")
    runner = CliRunner()
    args = ["report", "form06", "--from", "2020-01-01", "--to", "2030-12-31", "-f", "csv"]
    local_today = datetime.now(ZoneInfo(LOCAL_TZ)).strftime("%Y-%m-%d")  # --as-of is a local day
    today = runner.invoke(app, [*args, "--as-of", local_today])
    assert today.exit_code == 0, today.output
    before = runner.invoke(app, [*args, "--published-on", "2001-01-01"])
    assert before.exit_code == 1 and "nothing was published before 2001-01-02" in before.output
    for report in ("documents", "indicators"):
        old = runner.invoke(app, ["report", report, *args[2:], "--as-of", "2001-01-01"])
        assert old.exit_code == 1 and "nothing was published before" in old.output


@pytest.mark.postgres
def test_the_catalog_in_postgresql(data_dir: Path, units_csv: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The distributed set-up: catalog in PostgreSQL (127.0.0.1:5432, database test), data on a
    shared path; a schema of its own, dropped afterwards."""
    schema = f"cchc_test_{uuid.uuid4().hex[:8]}"
    dsn = "dbname=test host=127.0.0.1 port=5432 connect_timeout=3"
    admin = duckdb.connect()
    admin.execute(f"LOAD '{lake.extension_path('postgres_scanner')}'")
    try:
        admin.execute(f"ATTACH '{dsn}' AS pg (TYPE postgres)")
    except duckdb.Error as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed by the postgres-marked tests: {exc}")
    admin.execute(f"CALL postgres_execute('pg', 'CREATE SCHEMA {schema}')")
    settings = replace(load_settings(), warehouse=WarehouseSettings(
        backend="ducklake", catalog=f"postgres:{dsn}", metadata_schema=schema,
        data_path=str(data_dir / "shared-lake")))
    try:
        with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
            _load(wh, "P1", "P2")
        con = open_snapshot(settings)
        try:
            assert _codes(con) == ["P1", "P2"]
        finally:
            con.close()
        tables = admin.execute(
            "SELECT * FROM postgres_query('pg', 'SELECT count(*) FROM information_schema.tables "
            f"WHERE table_schema = ''{schema}''')").fetchone()[0]
        assert tables > 0  # the catalog is in PostgreSQL, not in a local file
        assert lake.catalog_file(settings) is None
    finally:
        admin.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA {schema} CASCADE')")
        admin.close()


def test_watermarks_move_by_merge_on_the_lake(lake_settings: Settings, units_csv: Path) -> None:
    first, second = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    with Warehouse.open(lake_settings, admin_units_csv=units_csv) as wh:
        wh.set_watermark("onestop.dossiers", first, None)
        wh.set_watermark("onestop.dossiers", second, "L2")
        assert wh.get_watermark("onestop.dossiers") == second
        rows = wh.query("SELECT count(*) AS n FROM etl_watermarks")["n"].item()
    assert rows == 1


@pytest.mark.integration
def test_a_simulated_export_loads_publishes_and_reports_on_the_lake(
        lake_settings: Settings, tmp_path: Path) -> None:
    """The real load path (stage, transform, validate, merge, publish, dashboard) on the lake,
    then form 06 from the published snapshot equals the simulator's own count."""
    from cchc import pipeline
    from simulator.exports import export_dossiers
    from simulator.testing import simulated_dataset
    from sources.files import file_sha256
    from warehouse.form06 import form06

    dataset = simulated_dataset(scenario="scale", years=1, dirt="clean", seed=17, dossiers=300)
    export = export_dossiers(tmp_path / "export.csv", dataset=dataset).path
    batch = pipeline.stage_file(lake_settings, export, file_sha256(export))
    summary = pipeline.load_batch(lake_settings, batch)
    assert summary.status == "succeeded", summary.message
    pipeline.publish(lake_settings)  # the snapshot, then the dashboard page beside it
    pipeline.cleanup(batch)
    assert (lake_settings.published_path.parent / "dashboard.html").is_file()
    con = open_snapshot(lake_settings)
    try:
        loaded = run_query(con, "SELECT count(*) AS n FROM core_onestop__dossiers")["n"].item()
        totals = form06(con, datetime(2000, 1, 1).date(), datetime(2100, 1, 1).date(), "unit")
    finally:
        con.close()
    assert loaded == summary.rows_loaded > 0
    assert totals.row(-1, named=True)["c3"] > 0
