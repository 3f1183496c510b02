"""Publishing the readers' snapshot: a new DuckDB file, swapped in by an atomic rename.

DuckDB never shares a file between a writer and readers, so readers get their own copy. The
copy is not the private file's bytes: it is rebuilt table by table (``INSERT … SELECT`` between
two attached databases) with every personal-data column (``Column.pii``) set to NULL. A byte
copy would carry personal data to every analyst, and DuckDB does not zero freed blocks, so
nulling columns in place would not remove it from the file either. Rebuilding also compacts the
snapshot. Tables keep their declared columns (PII ones empty), so queries do not break.
Validation reasons quote raw values (``SoGiayTo='0641…': identity number is not 12 digits``);
in reason lists and messages the quoted values of personal-data fields are masked too.

The new file is written next to the published one, fsynced, and renamed over it: a reader that
has the old file open keeps reading the old inode, a new reader sees the whole new load.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from cchc.config import Settings, utc_now
from warehouse.ddl import VERSION_TABLE, ensure_schema, literal, quote
from warehouse.schema import Column
from warehouse.tables import ALL_TABLES
from warehouse.views import create_views

SNAPSHOT_DB = "_cchc_snapshot"
SNAPSHOT_TABLE = "etl_snapshot"


# Free-text columns that may quote raw values: reason lists, and messages.
QUOTING_COLUMNS = ("message", "reason")
MASK = "***"


def _pii_names() -> list[str]:
    """Every name a reason may quote a personal-data value under: columns and raw fields."""
    names = {c.name for t in ALL_TABLES for c in t.columns if c.pii}
    names |= {c.source_field for t in ALL_TABLES for c in t.columns if c.pii and c.source_field}
    return sorted(names)


def _mask(expr: str) -> str:
    pattern = literal(f"\\b({'|'.join(_pii_names())})='[^']*'")
    replacement = literal(f"\\1='{MASK}'")
    return f"regexp_replace({expr}, {pattern}, {replacement}, 'g')"


def _published_value(column: Column) -> str:
    """The SQL that publishes a column: NULL for personal data, masked quotes in free text."""
    name = quote(column.name)
    if column.pii:
        return f"NULL::{column.type} AS {name}"
    if column.type == "VARCHAR[]":
        return f"list_transform({name}, x -> {_mask('x')}) AS {name}"
    if column.type == "VARCHAR" and column.name in QUOTING_COLUMNS:
        return f"{_mask(name)} AS {name}"
    return name


def _fill(con: duckdb.DuckDBPyConnection, private: str) -> list[str]:
    """Copy every declared table into the snapshot, PII nulled; returns the nulled columns."""
    redacted = []
    for table in ALL_TABLES:
        redacted += [f"{table.name}.{c.name}" for c in table.columns if c.pii]
        names = ", ".join(quote(c.name) for c in table.columns)
        values = ", ".join(_published_value(c) for c in table.columns)
        con.execute(
            f"INSERT INTO {SNAPSHOT_DB}.main.{quote(table.name)} ({names}) "
            f"SELECT {values} FROM {quote(private)}.main.{quote(table.name)}"
        )
    con.execute(f"DELETE FROM {SNAPSHOT_DB}.main.{VERSION_TABLE}")
    con.execute(
        f"INSERT INTO {SNAPSHOT_DB}.main.{VERSION_TABLE} "
        f"SELECT * FROM {quote(private)}.main.{VERSION_TABLE}"
    )
    return redacted


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def build_snapshot(con: duckdb.DuckDBPyConnection, target: Path) -> Path:
    """Write the committed state of ``con``'s database to ``target`` atomically.

    ``con`` is the writer's connection (the caller holds the writer lock, no open transaction).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con.execute("CHECKPOINT")
    private = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH {literal(str(tmp))} AS {SNAPSHOT_DB}")
    try:
        con.execute(f"USE {SNAPSHOT_DB}")
        try:
            con.execute("BEGIN TRANSACTION")
            ensure_schema(con)
            redacted = _fill(con, private)
            create_views(con)
            con.execute(
                f"CREATE TABLE {SNAPSHOT_TABLE} AS SELECT ?::TIMESTAMPTZ AS published_at, "
                "?::VARCHAR[] AS redacted_columns",
                [utc_now(), redacted],
            )
            con.execute(
                f"COMMENT ON TABLE {SNAPSHOT_TABLE} IS "
                "'When this snapshot was published, and which personal-data columns it leaves empty.'"
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute(f"USE {quote(private)}")
        con.execute(f"CHECKPOINT {SNAPSHOT_DB}")
    finally:
        con.execute(f"DETACH {SNAPSHOT_DB}")
    try:
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def publish(settings: Settings, *, lock_timeout_s: float | None = None) -> Path:
    """Publish the private warehouse's committed state for readers (takes the writer lock)."""
    from warehouse.writer import DEFAULT_LOCK_TIMEOUT_S, Warehouse

    timeout = DEFAULT_LOCK_TIMEOUT_S if lock_timeout_s is None else lock_timeout_s
    with Warehouse.open(settings, lock_timeout_s=timeout) as wh:
        return wh.publish()
