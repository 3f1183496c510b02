"""Publish and read: atomic snapshot, personal data left out, readers never blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest
from warehouse_fixtures import ROOT, core_frame, dossier

from cchc.config import Settings
from warehouse.personal import personal_path
from warehouse.reader import QueryRefused, SnapshotMissing, open_snapshot, run_query
from warehouse.tables import (
    ALL_TABLES,
    CORE_ONESTOP_DOSSIERS,
    QUARANTINE_ONESTOP_DOSSIERS,
    RAW_ONESTOP_DOSSIER_VERSIONS,
)
from warehouse.writer import Warehouse, publish

WARNINGS = [
    "SoGiayTo='0641234': identity number is not 12 digits",
    "MaTTHC='1.00123': procedure code is not of the form d.dddddd",
]


def _load(settings: Settings, units_csv: Path, *codes: str) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        load = wh.begin_load("onestop", "pull", "test")
        with wh.transaction(load):
            warned = [dossier(c, dq_warnings=WARNINGS) for c in codes]
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*warned), load)
            raw = pl.DataFrame({"MaHoSo": list(codes), "ChuHoSo": ["Nguyễn Văn A"] * len(codes)})
            wh.write(
                RAW_ONESTOP_DOSSIER_VERSIONS, raw.with_columns(row_hash=pl.col("MaHoSo")), load
            )
            bad = raw.with_columns(
                SoGiayTo=pl.lit("0641234"),
                SoDienThoai=pl.lit("0900000001"),
                row_hash=pl.col("MaHoSo") + "#q",
                reasons=pl.lit(["SoGiayTo='0641234': identity number is not 12 digits",
                                "SoDienThoai='0900000001', MaHoSo='X': made-up rule"]),
            )  # fmt: skip
            wh.write(QUARANTINE_ONESTOP_DOSSIERS, bad, load)
        wh.raise_alert("warnings", "warning", "onestop", "ChuHoSo='Nguyễn Văn A': odd", load)
        wh.finish_load(load, "succeeded", message="SoDienThoai='0900000001': noted")
        wh.publish()


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return run_query(con, "SELECT count(*) AS n FROM core_onestop__dossiers")["n"].item()


def test_nothing_published_yet(settings: Settings) -> None:
    with pytest.raises(SnapshotMissing, match="run `cchc run` or `cchc demo` first"):
        open_snapshot(settings)


PERSONAL_VALUES = ("064123456789", "0641234", "0900000000", "0900000001", "Nguyễn Văn A")


def test_snapshot_leaves_personal_data_out(settings: Settings, units_csv: Path) -> None:
    _load(settings, units_csv, "A", "B")
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        # the main file has none: the personal-data file keeps it, for authorised lookups
        assert wh.query("SELECT count(applicant_name) AS n FROM core_onestop__dossiers").item() == 0
        assert wh.personal(CORE_ONESTOP_DOSSIERS, ["A", "B"]).rows() == [
            ("A", "Nguyễn Văn A", "064123456789", "0900000000"),
            ("B", "Nguyễn Văn A", "064123456789", "0900000000"),
        ]
        assert wh.personal("quarantine_onestop__dossiers", ["A#q"]).rows() == [
            ("A#q", "Nguyễn Văn A", "0641234", "0900000001")
        ]
        quarantined = wh.query("SELECT reasons FROM quarantine_onestop__dossiers LIMIT 1").item()
        assert quarantined.to_list() == [  # masked at write time: the main file is published
            "SoGiayTo='***': identity number is not 12 digits",
            "SoDienThoai='***', MaHoSo='X': made-up rule",
        ]
    con = open_snapshot(settings)
    for table in ALL_TABLES:  # every personal-data column of every table is empty
        for column in table.pii_columns:
            sql = f'SELECT count("{column}") FROM {table.name}'
            assert run_query(con, sql).item() == 0, (table.name, column)
    assert run_query(con, "SELECT count(*) FROM core_onestop__dossiers").item() == 2
    redacted = run_query(con, "SELECT redacted_columns FROM etl_snapshot").item().to_list()
    assert "core_onestop__dossiers.applicant_id_number" in redacted
    assert "quarantine_onestop__dossiers.SoDienThoai" in redacted
    views = run_query(con, "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal")
    assert views.filter(pl.col("comment").is_null()).height == 0
    assert "out_onestop__rates_by_unit_month" in views["view_name"].to_list()
    warnings = run_query(con, "SELECT dq_warnings FROM core_onestop__dossiers LIMIT 1").item()
    assert warnings.to_list() == [
        "SoGiayTo='***': identity number is not 12 digits",
        "MaTTHC='1.00123': procedure code is not of the form d.dddddd",
    ]
    assert run_query(con, "SELECT message FROM dq_alerts").item() == "ChuHoSo='***': odd"
    messages = run_query(con, "SELECT message FROM etl_loads WHERE message IS NOT NULL")
    assert messages["message"].to_list() == ["SoDienThoai='***': noted"]
    con.close()
    for path in (settings.published_path, settings.warehouse_path):
        data = path.read_bytes()
        assert not [v for v in PERSONAL_VALUES if v.encode() in data], path
    assert "Nguyễn Văn A".encode() in personal_path(settings).read_bytes()


def test_published_file_is_the_checkpointed_main_file(settings: Settings, units_csv: Path) -> None:
    """The first two publishes copy the file byte for byte (later ones bring the snapshot
    before last up to date: tests/warehouse/test_snapshot_spare.py)."""
    _load(settings, units_csv, "A")
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.publish()
        main = settings.warehouse_path.read_bytes()
        assert settings.published_path.read_bytes() == main
        assert not settings.warehouse_path.with_name("cchc.duckdb.wal").exists()
    published = [p.name for p in settings.published_path.parent.iterdir()]
    assert published == [settings.published_path.name]  # personal.duckdb is never published


def test_publish_is_atomic_for_readers_in_other_processes(
    settings: Settings, units_csv: Path
) -> None:
    _load(settings, units_csv, "A")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.data_dir)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        assert reader.stdout.readline().strip() == "1"  # the other process has it open
        same_process_old = open_snapshot(settings)
        _load(settings, units_csv, "B", "C")  # publishes while both readers hold the old file
        reader.stdin.write("again\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # still the old snapshot, unbroken
        assert _count(same_process_old) == 1
        assert _count(open_snapshot(settings)) == 3  # a new reader sees the new load
    finally:
        reader.kill()
        reader.wait()
    leftovers = [p.name for p in settings.published_path.parent.iterdir()]
    assert leftovers == [settings.published_path.name]


READER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from cchc.config import Settings
    from warehouse.reader import open_snapshot
    con = open_snapshot(Settings(data_dir=Path(sys.argv[1])))
    q = "SELECT count(*) FROM core_onestop__dossiers"
    print(con.execute(q).fetchone()[0], flush=True)
    sys.stdin.readline()
    print(con.execute(q).fetchone()[0], flush=True)
    """
)


def test_publish_function_takes_the_lock_itself(settings: Settings, units_csv: Path) -> None:
    _load(settings, units_csv, "A")
    settings.published_path.unlink()
    assert publish(settings, lock_timeout_s=5) == settings.published_path
    assert _count(open_snapshot(settings)) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO etl_loads (load_id) VALUES ('x')",
        "ATTACH 'other.duckdb' AS other",
        "COPY core_onestop__dossiers TO 'out.csv'",
        "SELECT 1; DROP TABLE etl_loads",
        "SET threads = 1",
        "INSTALL httpfs",
        "LOAD httpfs",
        "CREATE TABLE t AS SELECT 1",
        "CALL checkpoint()",
        "EXPORT DATABASE 'x'",
    ],
)
def test_run_query_refuses_statements_that_write(sql: str) -> None:
    with pytest.raises(QueryRefused, match="only reading statements"):
        run_query(duckdb.connect(), sql)  # refused from the parse, before anything runs


def test_run_query_reads_but_cannot_reach_other_files(settings: Settings, units_csv: Path) -> None:
    _load(settings, units_csv, "A")
    con = open_snapshot(settings)
    assert run_query(con, "SHOW TABLES").height > 0
    assert run_query(con, "DESCRIBE out_onestop__dossiers").height > 0
    assert run_query(con, "WITH x AS (SELECT 1 AS a) SELECT a FROM x").item() == 1
    with pytest.raises(duckdb.PermissionException):
        run_query(con, "SELECT * FROM read_csv('/etc/hostname')")
    with pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access = true")


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(
        f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')").fetchone()[0]


def test_the_publish_leaves_row_groups_as_loaded_and_compact_merges_them(
        settings: Settings, units_csv: Path) -> None:
    """A load's partly filled row groups are merged by the upkeep's compaction, not by the
    CHECKPOINT of the publish after the load (which would rewrite all the load appended)."""
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.con.execute("CREATE TABLE scratch (n BIGINT)")
        for _ in range(3):  # three loads of 1.1 row groups each
            with wh.transaction():
                wh.con.execute("INSERT INTO scratch SELECT range FROM range(135000)")
        wh.publish()
        loaded = _row_groups(wh.con, "scratch")
        assert loaded == 6
        wh.compact()
        assert _row_groups(wh.con, "scratch") < loaded  # partly filled row groups merged
        assert wh.con.execute("SELECT count(*), sum(n) FROM scratch").fetchone() == (
            405_000, 3 * sum(range(135_000)))
    published = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        assert _row_groups(published, "scratch") == loaded  # as published, before compaction
    finally:
        published.close()
