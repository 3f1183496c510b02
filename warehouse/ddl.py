"""DDL derived from the table declarations, and the schema version for future migrations.

Primary keys: a DuckDB PRIMARY KEY is an ART index that every insert and update maintains and
that must fit in memory. The big entity tables (versioned MERGE, APPEND_NEW) keep their keys
unique through the write SQL instead (``warehouse.strategies``), which is faster on bulk loads;
the small tables (audit, dimensions) get a real PRIMARY KEY, which costs nothing there and
catches a duplicate seed row or a second row for one load at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from warehouse.schema import Column, Strategy, Table
from warehouse.tables import ALL_TABLES

# Bump when a change needs more than adding a nullable column, and add its step to MIGRATIONS.
SCHEMA_VERSION = 3
VERSION_TABLE = "etl_schema_versions"


class SchemaMismatch(RuntimeError):
    """The warehouse file disagrees with the declarations in a way no additive step can fix."""


def _personal_data_split(con: duckdb.DuckDBPyConnection) -> None:
    """2: personal data moved to personal.duckdb; a version-1 file holds it in its own blocks.

    Nulling the columns in place would not do: DuckDB does not zero freed blocks, and the main
    file is now published byte for byte. Such a file must be rebuilt from the archived inputs.
    """
    raise SchemaMismatch(
        "this warehouse file predates schema 2 (personal data kept in personal.duckdb) and holds "
        "personal data in its own blocks, which a byte-copy publish would hand to readers: move "
        "data/warehouse/ aside and reload the archived inputs"
    )


def _units_keyed_by_validity(con: duckdb.DuckDBPyConnection) -> None:
    """3: ``dim_admin_unit`` keyed by (unit_code, valid_from): the new communes of the 2025
    reform reuse old codes. Core rows gained ``unit_valid_from`` (added, null, just before this
    step): every unit they name is a pre-reform one, the only kind the old table held. The table
    itself is rebuilt from the seeds right after the schema check, as on every open."""
    from warehouse.tables import DIM_ADMIN_UNIT

    for core in ("core_onestop__dossiers", "core_eoffice__documents"):
        if existing_columns(con, core).get("unit_valid_from"):
            con.execute(
                f"UPDATE {quote(core)} AS c SET unit_valid_from = u.valid_from "
                "FROM dim_admin_unit u WHERE u.unit_code = c.unit_code "
                "AND c.unit_valid_from IS NULL"
            )
    con.execute(f"DROP TABLE IF EXISTS {quote(DIM_ADMIN_UNIT.name)}")
    con.execute(create_table_sql(DIM_ADMIN_UNIT, keys=takes_keys(con)))
    for stmt in comment_sql(DIM_ADMIN_UNIT):
        con.execute(stmt)


# version -> step that brings a warehouse from version - 1 to version.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    2: _personal_data_split,
    3: _units_keyed_by_validity,
}


def quote(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal (for COMMENT ON, which takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def uses_primary_key(table: Table) -> bool:
    """Small keyed tables get a PRIMARY KEY; bulk-written ones rely on the write SQL."""
    if not table.key:
        return False
    bulk = table.strategy is Strategy.APPEND_NEW or (
        table.strategy is Strategy.MERGE and table.version_column is not None
    )
    return not bulk


def column_sql(column: Column) -> str:
    return f"{quote(column.name)} {column.type}" + ("" if column.nullable else " NOT NULL")


def takes_keys(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's current database has PRIMARY KEYs (a DuckLake has none: its
    keyed tables rely on the write SQL, as the big tables do everywhere)."""
    row = con.execute("SELECT type FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()
    return not (row and row[0] == "ducklake")


def create_table_sql(table: Table, *, keys: bool = True) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one declaration (``keys``: with its PRIMARY KEY)."""
    parts = [column_sql(c) for c in table.columns]
    if keys and uses_primary_key(table):
        parts.append(f"PRIMARY KEY ({', '.join(quote(k) for k in table.key)})")
    body = ",\n    ".join(parts)
    return f"CREATE TABLE IF NOT EXISTS {quote(table.name)} (\n    {body}\n)"


def comment_sql(table: Table) -> list[str]:
    """COMMENT ON statements, so analysts see the descriptions in ``duckdb_columns()``."""
    out = [f"COMMENT ON TABLE {quote(table.name)} IS {literal(table.description)}"]
    for c in table.columns:
        text = c.description + (
            " [personal data: always NULL here, kept in personal.duckdb, never published]"
            if c.pii
            else ""
        )
        out.append(f"COMMENT ON COLUMN {quote(table.name)}.{quote(c.name)} IS {literal(text)}")
    return out


def existing_columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """The stored columns of table or view ``name`` (main schema), in order, with their types."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [name],
    ).fetchall()
    return dict(rows)


def _same_type(declared: str, stored: str) -> bool:
    aliases = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}
    return aliases.get(declared, declared) == stored


def _reconcile(con: duckdb.DuckDBPyConnection, table: Table, stored: dict[str, str]) -> list[str]:
    """Add declared columns the file lacks (nullable only); refuse type changes."""
    actions = []
    for c in table.columns:
        if c.name not in stored:
            if not c.nullable:
                raise SchemaMismatch(
                    f"{table.name}.{c.name} is declared NOT NULL but missing from the warehouse: "
                    "write a migration (warehouse.ddl.MIGRATIONS) that fills it"
                )
            con.execute(f"ALTER TABLE {quote(table.name)} ADD COLUMN {column_sql(c)}")
            actions.append(f"added column {table.name}.{c.name}")
        elif c.type != "JSON" and not _same_type(c.type, stored[c.name]):
            raise SchemaMismatch(
                f"{table.name}.{c.name} is {stored[c.name]} in the warehouse but declared "
                f"{c.type}: write a migration (warehouse.ddl.MIGRATIONS)"
            )
    return actions


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def ensure_schema(
    con: duckdb.DuckDBPyConnection, tables: tuple[Table, ...] = ALL_TABLES, *,
    raw_root: Path | None = None,
) -> list[str]:
    """Create missing tables, add missing nullable columns, run pending migrations.

    With ``raw_root``, the tables declared ``files=True`` are views over Parquet files under
    it (``warehouse.raw_files``), a table of an earlier version moved there.

    Idempotent: on an up-to-date warehouse it changes nothing and returns ``[]``; otherwise it
    returns what it did, one line per step. Run it inside a transaction.
    """
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} "
        "(version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL, note VARCHAR)"
    )
    actions: list[str] = []
    keys = takes_keys(con)
    in_files = [t for t in tables if t.files and raw_root is not None]
    for table in tables:
        if table in in_files:
            continue  # after the manifest table exists
        stored = existing_columns(con, table.name)
        if stored:
            actions += _reconcile(con, table, stored)
            continue
        con.execute(create_table_sql(table, keys=keys))
        for stmt in comment_sql(table):
            con.execute(stmt)
        actions.append(f"created table {table.name}")
    if in_files:
        from warehouse import raw_files

        for table in in_files:
            actions += raw_files.ensure(con, table, raw_root)
    current = stored_version(con)
    if current > SCHEMA_VERSION:
        raise SchemaMismatch(
            f"the warehouse is at schema version {current}, newer than this code "
            f"({SCHEMA_VERSION}): upgrade cchc"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        step = MIGRATIONS.get(version)
        if step is not None and current > 0:  # a fresh warehouse is created at the newest
            step(con)
        con.execute(
            f"INSERT INTO {VERSION_TABLE} VALUES (?, now(), ?)",
            [version, "created" if current == 0 else "migrated"],
        )
        actions.append(f"schema version {version}")
    return actions
