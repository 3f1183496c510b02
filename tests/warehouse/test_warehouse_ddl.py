"""DDL: derived from the declarations, idempotent, additive migrations, version guard."""

from __future__ import annotations

import duckdb
import pytest

from warehouse import ddl
from warehouse.tables import ALL_TABLES, CORE_ONESTOP_DOSSIERS, ETL_LOADS, ETL_WATERMARKS


def _catalog(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
        "ORDER BY table_name, column_index"
    ).fetchall()


def test_ensure_schema_creates_every_declared_table_once() -> None:
    con = duckdb.connect()
    first = ddl.ensure_schema(con)
    assert {f"created table {t.name}" for t in ALL_TABLES} <= set(first)
    before = _catalog(con)
    assert ddl.ensure_schema(con) == []
    assert _catalog(con) == before
    assert ddl.stored_version(con) == ddl.SCHEMA_VERSION
    for table in ALL_TABLES:
        stored = [r[1] for r in before if r[0] == table.name]
        assert stored == table.column_names


def test_primary_keys_only_on_small_tables() -> None:
    assert not ddl.uses_primary_key(CORE_ONESTOP_DOSSIERS)
    assert ddl.uses_primary_key(ETL_LOADS) and ddl.uses_primary_key(ETL_WATERMARKS)
    con = duckdb.connect()
    ddl.ensure_schema(con)
    constrained = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    }
    assert "core_onestop__dossiers" not in constrained
    assert "raw_onestop__dossier_versions" not in constrained
    assert {"etl_loads", "etl_watermarks", "dim_admin_unit"} <= constrained


def test_not_null_and_comments_come_from_the_declaration() -> None:
    con = duckdb.connect()
    ddl.ensure_schema(con)
    nullable, comment = con.execute(
        "SELECT is_nullable, comment FROM duckdb_columns() "
        "WHERE table_name = 'core_onestop__dossiers' AND column_name = 'applicant_id_number'"
    ).fetchone()
    assert nullable is True and "personal data" in comment
    assert not con.execute(
        "SELECT is_nullable FROM duckdb_columns() "
        "WHERE table_name = 'core_onestop__dossiers' AND column_name = 'updated_at'"
    ).fetchone()[0]


def test_missing_nullable_column_is_added() -> None:
    con = duckdb.connect()
    ddl.ensure_schema(con)
    con.execute("ALTER TABLE etl_loads DROP COLUMN message")
    assert ddl.ensure_schema(con) == ["added column etl_loads.message"]
    assert "message" in [r[0] for r in con.execute("DESCRIBE etl_loads").fetchall()]


def test_type_change_and_newer_warehouse_are_refused() -> None:
    con = duckdb.connect()
    ddl.ensure_schema(con)
    con.execute("ALTER TABLE dq_alerts ALTER COLUMN message TYPE INTEGER USING 0")
    with pytest.raises(ddl.SchemaMismatch, match="dq_alerts.message"):
        ddl.ensure_schema(con)
    con2 = duckdb.connect()
    ddl.ensure_schema(con2)
    con2.execute(f"INSERT INTO {ddl.VERSION_TABLE} VALUES (99, now(), 'future')")
    with pytest.raises(ddl.SchemaMismatch, match="upgrade cchc"):
        ddl.ensure_schema(con2)
