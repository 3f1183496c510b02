"""Hostile queries on the readers' side: the non-interactive `cchc sql`, the Python connection,
the Python fallback shell and the real DuckDB shell (driven through stdin) all stay inside the
read-only snapshot: no program runs, no file is written or read, no other database is attached,
no setting is changed back (docs/security.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner
from warehouse_fixtures import ROOT, core_frame, dossier

from cchc import query_cli
from cchc.cli import app
from cchc.config import Settings
from warehouse.personal import personal_path
from warehouse.reader import QueryRefused, open_snapshot, run_query
from warehouse.tables import CORE_ONESTOP_DOSSIERS, RAW_ONESTOP_DOSSIER_VERSIONS
from warehouse.writer import Warehouse

runner = CliRunner()


@pytest.fixture
def published(settings: Settings, units_csv: Path) -> Settings:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A"), dossier("B")), "L1")
        # the raw layer is Parquet files the snapshot's view reads (warehouse.raw_files)
        wh.write(RAW_ONESTOP_DOSSIER_VERSIONS,
                 pl.DataFrame({"MaHoSo": ["A", "B"], "row_hash": ["ha", "hb"]}), "L1")
        wh.publish()
    # tables only the private files hold: a reader that reaches one has left the snapshot
    for path, table in ((settings.warehouse_path, "private_only"),
                        (personal_path(settings), "personal_only")):  # fmt: skip
        con = duckdb.connect(str(path))
        con.execute(f"CREATE TABLE {table} AS SELECT 42 AS secret")
        con.close()
    return settings


def hostile_sql(s: Settings, out: Path) -> list[str]:
    """SQL statements (one per line) that must all fail; the marker ``leaked`` in a column
    name shows up in the output only if one ran."""
    private, personal = s.warehouse_path, personal_path(s)
    return [
        f"COPY (SELECT 1) TO '{out}/copy.csv';",
        f"COPY out_onestop__dossiers TO '{out}/copy2.parquet' (FORMAT parquet);",
        f"EXPORT DATABASE '{out}/export';",
        f"ATTACH '{private}' AS priv;",
        "SELECT count(*) AS leaked_private FROM priv.private_only;",
        f"ATTACH '{personal}' AS pers;",
        "SELECT count(*) AS leaked_personal FROM pers.personal_only;",
        "SELECT count(*) AS leaked_passwd FROM read_csv('/etc/passwd');",
        "SELECT count(*) AS leaked_passwd_text FROM read_text('/etc/passwd');",
        f"SELECT count(*) AS leaked_parquet FROM read_parquet('{private}');",
        f"SELECT count(*) AS leaked_private_text FROM read_text('{private}');",
        f"SELECT count(*) AS leaked_personal_blob FROM read_blob('{personal}');",
        f"SELECT count(*) AS leaked_glob FROM glob('{s.data_dir}/**');",
        "INSTALL httpfs;",
        "LOAD httpfs;",
        "SET enable_external_access = true;",
        "SET lock_configuration = false;",
        f"SET allowed_directories = ['{s.data_dir}'];",
        f"PRAGMA profiling_output = '{out}/profile.json';",
        "EXPLAIN ANALYZE CREATE TABLE memory.main.leaked_explain AS SELECT 1;",
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{out}/explain.csv';",
        "EXPLAIN ANALYZE DROP VIEW out_onestop__dossiers;",
        "CREATE TABLE leaked_create (a INTEGER);",
        "INSERT INTO dim_admin_unit SELECT * FROM dim_admin_unit;",
        "DROP VIEW out_onestop__dossiers;",
        "SELECT count(*) AS leaked_after_set FROM read_csv('/etc/passwd');",
    ]


DOT_COMMANDS = [
    ".shell echo $((6*7))SHELLRAN",
    ".system echo $((6*7))SYSTEMRAN",
    ".output {out}/output.txt",
    ".once {out}/once.txt",
    ".log {out}/log.txt",
    ".read {out}/script.sql",
    ".import /etc/passwd leaked_import",
    ".open {private}",
    ".cd /",
]


def assert_contained(out: Path, stdout: str) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["script.sql"], "a file was written"
    assert "42SHELLRAN" not in stdout and "42SYSTEMRAN" not in stdout and "READRAN" not in stdout
    assert "leaked" not in stdout, stdout
    assert "root:" not in stdout


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "script.sql").write_text(".shell touch READRAN\nSELECT 1 AS leaked_read;\n")
    return folder


def test_the_python_connection_is_in_safe_mode(published: Settings, out: Path) -> None:
    con = open_snapshot(published)
    try:
        for sql in hostile_sql(published, out):
            with pytest.raises((QueryRefused, duckdb.Error)):
                run_query(con, sql)
            if not sql.startswith(("EXPLAIN", "CREATE", "INSERT", "DROP")):
                with pytest.raises(duckdb.Error):  # refused by DuckDB itself, not only the filter
                    con.execute(sql).fetchall()
        assert con.execute(
            "SELECT current_setting('enable_external_access'), "
            "current_setting('lock_configuration')").fetchone() == (False, True)  # fmt: skip
        assert run_query(con, "SELECT count(*) AS n FROM out_onestop__dossiers").item() == 2
        assert run_query(con, "SELECT count(*) AS n FROM raw_onestop__dossier_versions").item() == 2
    finally:
        con.close()
    assert_contained(out, "")


def test_the_non_interactive_sql_refuses_every_one(published: Settings, out: Path) -> None:
    private = published.warehouse_path
    for sql in [*hostile_sql(published, out),
                *[d.format(out=out, private=private) for d in DOT_COMMANDS]]:  # fmt: skip
        result = runner.invoke(app, ["sql", sql])
        assert result.exit_code != 0, (sql, result.output)
        assert_contained(out, result.stdout)


def _script(published: Settings, out: Path) -> str:
    private = published.warehouse_path
    lines = [d.format(out=out, private=private) for d in DOT_COMMANDS]
    lines += hostile_sql(published, out)
    lines += [
        "SELECT count(*) AS leaked_import FROM leaked_import;",
        "SELECT count(*) AS leaked_open FROM private_only;",
        "SELECT count(*) AS dossiers_still_there FROM out_onestop__dossiers;",
        "SELECT count(*) AS raw_versions_readable FROM raw_onestop__dossier_versions;",
    ]
    return "\n".join(lines) + "\n"


def test_the_python_fallback_shell_stays_inside(
    published: Settings, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(query_cli, "duckdb_binary", lambda: None)
    result = runner.invoke(app, ["sql"], input=_script(published, out) + ".quit\n")
    assert result.exit_code == 0, result.output
    assert_contained(out, result.stdout)
    assert "dossiers_still_there" in result.stdout


@pytest.mark.skipif(query_cli.duckdb_binary() is None, reason="no DuckDB CLI installed")
def test_the_duckdb_shell_runs_in_safe_mode(published: Settings, out: Path) -> None:
    script = ".mode csv\n" + _script(published, out) + (
        "SELECT current_setting('enable_external_access') AS ext, "
        "current_setting('lock_configuration') AS locked;\n"
    )
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cchc"), "sql"],
        input=script, capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "CCHC_DATA_DIR": str(published.data_dir)},
    )  # fmt: skip
    assert_contained(out, result.stdout)
    assert "dossiers_still_there\n2\n" in result.stdout, (result.stdout, result.stderr)
    assert "raw_versions_readable\n2\n" in result.stdout, (result.stdout, result.stderr)
    assert "ext,locked\nfalse,true\n" in result.stdout
    assert "cannot be used in -safe mode" in result.stderr
    assert not (ROOT / "READRAN").exists()
