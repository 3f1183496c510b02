"""Read-only access to the published snapshot, for every reader (``cchc sql``, reports, dashboard).

Readers run in DuckDB's **safe mode** (docs/security.md). The snapshot is attached read-only to
an in-memory DuckDB rather than opened directly: DuckDB caches database instances by path inside
a process, so ``duckdb.connect(path, read_only=True)`` in a long-running reader would hand back
the old snapshot after a publish (checked on 1.5.5). The connection is therefore made with the
settings that can be given at connect (:data:`SAFE_CONFIG`: no extension auto-install or
auto-load, no community extensions), the snapshot attached, the writable in-memory catalog
detached, and before any caller's SQL runs ``enable_external_access = false`` and
``lock_configuration = true`` (:data:`SAFE_SETTINGS`): no statement can then read or write
another file (``read_csv``, ``COPY … TO``, ``EXPORT DATABASE``, ``glob``), ``ATTACH`` another
database, ``INSTALL``/``LOAD`` an extension or change a setting back. ``run_query`` also refuses
any statement that is not a read (an ``EXPLAIN ANALYZE`` is judged by the statement it runs),
with a message that says so, and returns every DuckDB type in a form every output can hold.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cchc.config import LOCAL_TZ, Settings

try:  # the cchc CLI (typer) catches its own vendored click's ClickException, not click's
    from typer._click.exceptions import ClickException as _CommandError
except ImportError:  # an older typer on the real click
    from click import ClickException as _CommandError

if TYPE_CHECKING:
    from datetime import datetime

    import duckdb
    import polars as pl

SNAPSHOT_ALIAS = "snapshot"

# Given at connect: extensions are never fetched or loaded on the readers' behalf.
SAFE_CONFIG: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
# Set right after the attach, before any caller's SQL (the attach itself needs file access).
SAFE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("enable_external_access", "false"),
    ("lock_configuration", "true"),
)

# Statement types a reader may run (duckdb.StatementType names). SHOW, DESCRIBE, SUMMARIZE and
# the informational PRAGMAs (show_tables, table_info, database_size) parse as SELECT.
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+|\([^)]*\)\s*)?(?P<inner>.*)$",
                      re.IGNORECASE | re.DOTALL)  # fmt: skip

# DuckDB types polars reads and every output (table, CSV, JSON) writes; anything else
# (INTERVAL, MAP, BLOB, BIT, UNION, TIME WITH TIME ZONE, HUGEINT, VARINT, …) is shown as
# DuckDB's own text for it.
_PLAIN_TYPES = frozenset({
    "boolean", "tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger",
    "ubigint", "float", "double", "decimal", "varchar", "date", "time", "timestamp",
    "timestamp_s", "timestamp_ms", "timestamp_ns", "timestamp with time zone", "enum", "uuid",
})  # fmt: skip
_NESTED_TYPES = frozenset({"list", "array", "struct"})


class SnapshotUnavailable(_CommandError):
    """The snapshot cannot be read. A click ``ClickException``, so any command that opens it
    (``cchc status``, ``cchc sql``, reports) ends with its one-line message and exit code 1
    instead of a traceback; other callers catch it like any exception."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


class SnapshotMissing(SnapshotUnavailable, FileNotFoundError):
    """Nothing has been published yet."""


class SnapshotCorrupt(SnapshotUnavailable):
    """The published file is not a readable DuckDB database."""


class SnapshotExpired(SnapshotUnavailable):
    """The snapshot published on the day asked for was expired by the lake's upkeep."""

    def __init__(self, published_at: datetime, oldest: datetime | None, months: int) -> None:
        local = published_at.astimezone(ZoneInfo(LOCAL_TZ))
        since = (f"; the oldest kept was published on {oldest.astimezone(ZoneInfo(LOCAL_TZ)):%Y-%m-%d}"
                 if oldest is not None else "")
        super().__init__(
            f"the figures as published then (the snapshot published on {local:%Y-%m-%d %H:%M}) "
            f"are no longer kept: the lake's upkeep keeps the published snapshots of the last "
            f"{months} month(s) ([warehouse] keep_published_months){since}")


class QueryRefused(ValueError):
    """The statement would write, or reach outside the snapshot."""


def open_snapshot(settings: Settings, path: Path | None = None, *,
                  as_of: datetime | None = None) -> duckdb.DuckDBPyConnection:
    """A safe-mode, read-only connection on the published snapshot (never the private file).

    On the ``ducklake`` backend the lake is attached read-only at its published snapshot, or
    at the one published last before ``as_of`` (time travel: "as published on day X")."""
    import duckdb

    from warehouse.ddl import literal
    from warehouse.lake import is_lake

    if is_lake(settings) and path in (None, settings.published_path):
        return _open_lake_snapshot(settings, as_of)
    if as_of is not None:
        raise SnapshotUnavailable("reading as published on an earlier day needs the ducklake "
                                  "warehouse backend ([warehouse] backend = \"ducklake\")")
    path = path or settings.published_path
    if not path.is_file():
        raise SnapshotMissing(
            f"no published warehouse at {path}: run `cchc run` or `cchc demo` first"
        )
    con = duckdb.connect(
        ":memory:",
        config={
            **SAFE_CONFIG,
            "memory_limit": settings.duckdb_memory_limit,
            "threads": settings.duckdb_threads,
        },
    )
    try:
        con.execute(f"SET TimeZone = '{LOCAL_TZ}'")  # analysts read local times
        try:
            con.execute(f"ATTACH {literal(str(path))} AS {SNAPSHOT_ALIAS} (READ_ONLY)")
        except duckdb.Error as exc:
            raise SnapshotCorrupt(
                f"the published snapshot {path} is corrupt (DuckDB cannot open it: "
                f"{type(exc).__name__}); publish it again by running a load: `cchc run`"
            ) from None
        con.execute(f"USE {SNAPSHOT_ALIAS}")
        con.execute("DETACH memory")  # nothing writable left but the session's temp catalog
        # the raw layer's Parquet files (warehouse.raw_files), the one folder left readable
        con.execute(f"SET allowed_directories = [{literal(raw_directory(settings))}]")
        for name, value in SAFE_SETTINGS:
            con.execute(f"SET {name} = {value}")
    except BaseException:
        con.close()
        raise
    return con


def raw_directory(settings: Settings) -> str:
    """The folder of the raw layer's files, as ``allowed_directories`` takes it."""
    return str(settings.raw_dir) + "/"


def _open_lake_snapshot(settings: Settings, as_of: datetime | None) -> duckdb.DuckDBPyConnection:
    """The lake attached read-only at the (last before ``as_of``) published snapshot, safe mode
    limited to the lake's own folders."""
    import duckdb

    from warehouse import lake

    local = lake.catalog_file(settings)
    if local is not None and not local.is_file():
        raise SnapshotMissing(f"no published warehouse: the lake catalog {local} does not exist "
                              "yet: run `cchc run` or `cchc demo` first")
    con = duckdb.connect(":memory:", config={
        **SAFE_CONFIG, "memory_limit": settings.duckdb_memory_limit,
        "threads": settings.duckdb_threads})
    try:
        con.execute(f"SET TimeZone = '{LOCAL_TZ}'")
        try:
            lake.load_extensions(con, settings)
        except lake.LakeStorageUnconfigured as exc:  # a one-line message, not a traceback
            raise SnapshotUnavailable(str(exc)) from None
        head = "_cchc_lake_head"
        try:
            con.execute(lake.attach_sql(settings, head, read_only=True))
            found = lake.published_version(con, head, as_of)
            # the last publication is never expired; an earlier one may have been by upkeep
            kept = found is None or as_of is None or lake.snapshot_exists(con, head, found[0])
            oldest = None if kept else lake.oldest_kept_publication(con, head)
            con.execute(f"DETACH {head}")
        except duckdb.Error as exc:
            raise SnapshotCorrupt(f"the lake catalog {lake.catalog(settings)} cannot be read "
                                  f"({type(exc).__name__}: {exc})") from None
        if found is None:
            when = f" before {as_of:%Y-%m-%d %H:%M %Z}" if as_of is not None else ""
            raise SnapshotMissing(f"nothing was published{when} in the lake "
                                  f"{lake.catalog(settings)}: run `cchc run` first")
        if not kept:
            raise SnapshotExpired(found[1], oldest, settings.warehouse.keep_published_months)
        con.execute(lake.attach_sql(settings, SNAPSHOT_ALIAS, read_only=True, version=found[0]))
        con.execute(f"USE {SNAPSHOT_ALIAS}")
        con.execute("DETACH memory")
        dirs = ", ".join("'" + d.replace("'", "''") + "'" for d in lake.reader_directories(settings))
        con.execute(f"SET allowed_directories = [{dirs}]")
        for name, value in SAFE_SETTINGS:
            con.execute(f"SET {name} = {value}")
    except BaseException:
        con.close()
        raise
    return con


def published_load_of(settings: Settings, sha256: str) -> str | None:
    """The load id of a successful load of the same file content in the published snapshot, or
    None: asked without the writer, so a file loaded before costs no wait and no staging (the
    load step asks the private warehouse again, under the writer)."""
    try:
        con = open_snapshot(settings)
    except SnapshotUnavailable:
        return None
    try:
        row = con.execute(
            "SELECT load_id FROM etl_loads WHERE file_sha256 = ? "
            "AND status IN ('succeeded', 'recovered') ORDER BY started_at DESC LIMIT 1",
            [sha256]).fetchone()
    except duckdb.Error:  # an older snapshot without the column: the load step decides
        return None
    finally:
        con.close()
    return row[0] if row else None


def _inner_of_explain(sql: str) -> str | None:
    match = _EXPLAIN.match(_strip_comments(sql))
    return match.group("inner") if match else None


def _strip_comments(sql: str) -> str:
    """Leading ``--`` and ``/* */`` comments removed (what precedes EXPLAIN)."""
    text = sql.lstrip()
    while text.startswith(("--", "/*")):
        if text.startswith("--"):
            _, _, text = text.partition("\n")
        else:
            _, _, text = text.partition("*/")
        text = text.lstrip()
    return text


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
        if kind == "EXPLAIN":
            inner = _inner_of_explain(st.query)
            if inner is None:
                raise QueryRefused(f"could not read the EXPLAIN statement {st.query.strip()[:80]!r}")
            check_read_only(con, inner)
            continue
        if kind not in READ_STATEMENTS:
            raise QueryRefused(
                f"only reading statements (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE, SUMMARIZE) run "
                f"on the published snapshot; refused a {kind} statement: "
                f"{st.query.strip()[:80]!r}"
            )


def _plain_type(dtype) -> bool:
    """Whether polars reads the DuckDB type ``dtype`` and every output writes it."""
    kind = dtype.id
    if kind in _PLAIN_TYPES:
        return True
    if kind in _NESTED_TYPES:
        return all(_plain_type(child) for _, child in dtype.children if hasattr(child, "id"))
    return False


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """Run a read-only query and return its result as a polars frame (the last statement's).

    Columns of types polars cannot hold or outputs cannot write (INTERVAL, MAP, BLOB, BIT,
    UNION, …, or nested types holding one) come back as DuckDB's text for them.
    """
    import polars as pl

    check_read_only(con, sql)
    statements = con.extract_statements(sql)
    for st in statements[:-1]:
        con.execute(st)
    rel = con.sql(statements[-1].query)
    if rel is None:
        return pl.DataFrame()
    if all(_plain_type(t) for t in rel.types):
        return rel.pl()
    columns = ", ".join(
        f"#{i}" if _plain_type(t) else f"CAST(#{i} AS VARCHAR) AS {_ident(name)}"
        for i, (name, t) in enumerate(zip(rel.columns, rel.types, strict=True), start=1)
    )
    return rel.query("result", f"SELECT {columns} FROM result").pl()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
