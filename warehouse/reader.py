"""Read-only access to the published snapshot, for every reader (``cchc sql``, reports, dashboard).

The snapshot is attached read-only to an in-memory DuckDB rather than opened directly: DuckDB
caches database instances by path inside a process, so a long-running reader that opened the
file directly would keep seeing the old snapshot after a publish. After the attach, external
access is switched off and the configuration locked, so a query cannot read or write other
files, attach databases or install extensions. ``run_query`` also refuses any statement that is
not a read, with a message that says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cchc.config import LOCAL_TZ, Settings

if TYPE_CHECKING:
    import duckdb
    import polars as pl

SNAPSHOT_ALIAS = "snapshot"

# Statement types a reader may run (duckdb.StatementType names). SHOW, DESCRIBE, SUMMARIZE and
# the informational PRAGMAs (show_tables, table_info, database_size) parse as SELECT.
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})


class SnapshotMissing(FileNotFoundError):
    """Nothing has been published yet."""


class QueryRefused(ValueError):
    """The statement would write, or reach outside the snapshot."""


def open_snapshot(settings: Settings, path: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the published snapshot (not on the writer's private file)."""
    import duckdb

    from warehouse.ddl import literal

    path = path or settings.published_path
    if not path.is_file():
        raise SnapshotMissing(
            f"no published warehouse at {path}: run `cchc run` or `cchc demo` first"
        )
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": settings.duckdb_memory_limit,
            "threads": settings.duckdb_threads,
        },
    )
    try:
        con.execute(f"SET TimeZone = '{LOCAL_TZ}'")  # analysts read local times
        con.execute(f"ATTACH {literal(str(path))} AS {SNAPSHOT_ALIAS} (READ_ONLY)")
        con.execute(f"USE {SNAPSHOT_ALIAS}")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except Exception:
        con.close()
        raise
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse ``sql`` unless every statement in it only reads."""
    try:
        statements = con.extract_statements(sql)
    except Exception as exc:  # a parser error: let the user see DuckDB's message
        raise QueryRefused(f"could not parse the query: {exc}") from exc
    if not statements:
        raise QueryRefused("the query is empty")
    for st in statements:
        kind = st.type.name
        if kind not in READ_STATEMENTS:
            raise QueryRefused(
                f"only reading statements (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE, SUMMARIZE) run "
                f"on the published snapshot; refused a {kind} statement: "
                f"{st.query.strip()[:80]!r}"
            )


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """Run a read-only query and return its result as a polars frame (the last statement's)."""
    check_read_only(con, sql)
    result = None
    for st in con.extract_statements(sql):
        result = con.execute(st)
    if result is None or result.description is None:
        import polars as pl

        return pl.DataFrame()
    return result.pl()
