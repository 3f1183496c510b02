"""Writing a polars frame into a declared table, the way its load strategy says.

Every strategy is plain SQL over the frame registered as an Arrow table (no row-by-row Python).
MERGE keeps one row per key without a PRIMARY KEY (see ``warehouse.ddl``): the frame is reduced
to one winner per key, joined once to the table, and only the rows that win are written. A row
wins when its ``version_column`` is newer, or equally new with a smaller ``row_hash``; this order
is total, so the final table does not depend on the order loads arrive in, and loading the same
frame again writes nothing.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.ddl import quote
from warehouse.personal import mask_frame
from warehouse.schema import Strategy, Table

FRAME = "_cchc_frame"
STAGE = "_cchc_stage"
TIE_BREAK = "row_hash"
_ROW = "__cchc_row"


@dataclass(frozen=True)
class WriteResult:
    """Rows a write added and rows whose stored version it replaced."""

    inserted: int = 0
    updated: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.inserted + other.inserted, self.updated + other.updated)


def conform(table: Table, frame: pl.DataFrame, load_id: str | None = None) -> pl.DataFrame:
    """The frame with exactly the table's columns, in order, with the declared types.

    Missing nullable columns become null; a missing ``load_id`` is filled from ``load_id``.
    Unknown columns are an error: a typo must not silently drop data.
    """
    schema = table.polars_schema()
    extra = [c for c in frame.columns if c not in schema]
    if extra:
        raise ValueError(f"{table.name}: the frame has columns the table does not declare: {extra}")
    if "load_id" in schema and "load_id" not in frame.columns and load_id is not None:
        frame = frame.with_columns(load_id=pl.lit(load_id, pl.String))
    missing_required = [
        c.name for c in table.columns if not c.nullable and c.name not in frame.columns
    ]
    if missing_required:
        raise ValueError(f"{table.name}: the frame lacks required columns {missing_required}")
    return frame.select(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    )


def _key_match(table: Table, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{quote(k)} = {right}.{quote(k)}" for k in table.key)


def _wins(table: Table, new: str, old: str) -> str:
    """SQL: the row ``new`` should replace the stored row ``old``."""
    if table.version_column is None:
        return "TRUE"  # unversioned merge (audit rows): the latest write wins
    v = quote(table.version_column)
    if TIE_BREAK not in table.column_names:
        return f"{new}.{v} > {old}.{v}"
    h = quote(TIE_BREAK)
    return f"({new}.{v} > {old}.{v} OR ({new}.{v} = {old}.{v} AND {new}.{h} < {old}.{h}))"


def _one_per_key(table: Table, frame: pl.DataFrame, *, newest: bool) -> pl.DataFrame:
    """Keep one row per key: the newest version (MERGE) or the first seen (APPEND_NEW)."""
    key = list(table.key)
    if frame.select(pl.struct(key).is_unique().all()).item():
        return frame
    if not newest:
        return frame.unique(subset=key, keep="first", maintain_order=True)
    order = _version_columns(table)
    if not order:  # unversioned: the last row of the frame is the latest write
        return frame.unique(subset=key, keep="last", maintain_order=True)
    # Decide on the key and version columns only, then take the winning rows once: sorting the
    # whole (wide) frame would move every column.
    descending = [True] + [False] * (len(order) - 1)  # newest version, then smallest hash
    winners = (
        frame.select(*dict.fromkeys([*key, *order])).with_row_index(_ROW)
        .sort(order, descending=descending, nulls_last=True, maintain_order=True)
        .unique(subset=key, keep="first", maintain_order=True)
        .get_column(_ROW).sort()
    )
    return frame[winners]


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def _merge(con: duckdb.DuckDBPyConnection, table: Table) -> WriteResult:
    """Decide on the key, version and hash columns only, then copy the winning rows once.

    The decision is a small temp table (key, is-new); the frame's other columns are read from
    Arrow only for the rows that win, by a semi-join, so nothing is materialised twice.
    """
    name, cols = quote(table.name), ", ".join(quote(c) for c in table.column_names)
    keys = ", ".join(quote(k) for k in table.key)
    decide_cols = list(dict.fromkeys([*table.key, *_version_columns(table)]))
    first_key = quote(table.key[0])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGE} AS "
        f"SELECT {', '.join(f's.{quote(k)}' for k in table.key)}, t.{first_key} IS NULL AS _new "
        f"FROM (SELECT {', '.join(quote(c) for c in decide_cols)} FROM {FRAME}) s "
        f"LEFT JOIN {name} t ON {_key_match(table, 't', 's')} "
        f"WHERE t.{first_key} IS NULL OR {_wins(table, 's', 't')}"
    )
    try:
        inserted, updated = con.execute(
            f"SELECT count(*) FILTER (_new), count(*) FILTER (NOT _new) FROM {STAGE}"
        ).fetchone() or (0, 0)
        winners = f"{FRAME} f SEMI JOIN (SELECT {keys} FROM {STAGE} WHERE {{}}) d USING ({keys})"
        if updated:
            assignments = ", ".join(
                f"{quote(c)} = s.{quote(c)}" for c in table.column_names if c not in table.key
            )
            con.execute(
                f"UPDATE {name} AS t SET {assignments} "
                f"FROM (SELECT f.* FROM {winners.format('NOT _new')}) s "
                f"WHERE {_key_match(table, 't', 's')}"
            )
        if inserted:
            con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {winners.format('_new')}")
    finally:
        # After an error that aborted the transaction the DROP would fail too and hide that
        # error behind "Current transaction is aborted"; the rollback drops the table anyway.
        with suppress(duckdb.TransactionException):
            con.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return WriteResult(int(inserted), int(updated))


def _version_columns(table: Table) -> list[str]:
    """The columns that decide which version wins."""
    if table.version_column is None:
        return []
    tie = [TIE_BREAK] if TIE_BREAK in table.column_names else []
    return [table.version_column, *tie]


def _append_new(con: duckdb.DuckDBPyConnection, table: Table) -> WriteResult:
    name, cols = quote(table.name), ", ".join(quote(c) for c in table.column_names)
    inserted = _count(
        con.execute(
            f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {FRAME} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {name} t WHERE {_key_match(table, 't', 's')})"
        )
    )
    return WriteResult(inserted, 0)


def _append(con: duckdb.DuckDBPyConnection, table: Table) -> WriteResult:
    cols = ", ".join(quote(c) for c in table.column_names)
    return WriteResult(
        _count(con.execute(f"INSERT INTO {quote(table.name)} ({cols}) SELECT {cols} FROM {FRAME}")),
        0,
    )


def _replace(con: duckdb.DuckDBPyConnection, table: Table) -> WriteResult:
    con.execute(f"DELETE FROM {quote(table.name)}")
    return _append(con, table)


def write_frame(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pl.DataFrame,
    load_id: str | None = None,
    *,
    personal: bool = False,
) -> WriteResult:
    """Write ``frame`` into ``table`` by its strategy; the caller owns the transaction.

    Unless ``personal`` (a companion table in the personal-data file, ``warehouse.personal``),
    personal-data columns are written NULL and personal values quoted in reasons and messages
    are masked: nothing personal reaches the main warehouse file, whoever calls.
    """
    frame = conform(table, frame, load_id)
    if not personal:
        frame = mask_frame(table, frame)
    if table.strategy in (Strategy.MERGE, Strategy.APPEND_NEW):
        if not table.key:
            raise ValueError(f"{table.name}: strategy {table.strategy} needs a key")
        frame = _one_per_key(table, frame, newest=table.strategy is Strategy.MERGE)
    if frame.height == 0 and table.strategy is not Strategy.REPLACE:
        return WriteResult()
    con.register(FRAME, frame.to_arrow())
    try:
        match table.strategy:
            case Strategy.MERGE:
                return _merge(con, table)
            case Strategy.APPEND_NEW:
                return _append_new(con, table)
            case Strategy.APPEND:
                return _append(con, table)
            case Strategy.REPLACE:
                return _replace(con, table)
        raise ValueError(f"unknown strategy {table.strategy!r}")
    finally:
        con.unregister(FRAME)
