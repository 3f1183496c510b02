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
from warehouse.publish import publish
from warehouse.reader import QueryRefused, SnapshotMissing, open_snapshot, run_query
from warehouse.tables import CORE_ONESTOP_DOSSIERS, RAW_ONESTOP_DOSSIER_VERSIONS
from warehouse.writer import Warehouse

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
        wh.finish_load(load, "succeeded")
        wh.publish()


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return run_query(con, "SELECT count(*) AS n FROM core_onestop__dossiers")["n"].item()


def test_nothing_published_yet(settings: Settings) -> None:
    with pytest.raises(SnapshotMissing, match="run `cchc run` or `cchc demo` first"):
        open_snapshot(settings)


def test_snapshot_leaves_personal_data_out(settings: Settings, units_csv: Path) -> None:
    _load(settings, units_csv, "A", "B")
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:  # the private file keeps it
        assert wh.query("SELECT count(applicant_name) AS n FROM core_onestop__dossiers").item() == 2
    con = open_snapshot(settings)
    core = run_query(
        con,
        "SELECT count(*) AS n, count(applicant_name) AS names, count(applicant_id_number) AS ids, "
        "count(applicant_phone) AS phones, count(unit_code) AS units FROM core_onestop__dossiers",
    )
    assert core.row(0) == (2, 0, 0, 0, 2)
    assert run_query(con, "SELECT count(ChuHoSo) FROM raw_onestop__dossier_versions").item() == 0
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
    con.close()
    data = settings.published_path.read_bytes()
    assert (
        b"064123456789" not in data
        and b"0641234" not in data
        and "Nguyễn Văn A".encode() not in data
    )


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
