"""Writing a polars frame into a declared table, the way its load strategy says.

Every strategy is plain SQL over the frame registered as an Arrow table (no row-by-row Python).
MERGE keeps one row per key without a PRIMARY KEY (see ``warehouse.ddl``): the frame is reduced
to one winner per key, joined once to the table, and only the rows that win are written. A row
wins when its ``version_column`` is newer, or equally new with a smaller ``row_hash``; this order
is total, so the final table does not depend on the order loads arrive in, and loading the same
frame again writes nothing.

MERGE and APPEND_NEW decide in SQL on the key, version and hash columns only (registered
alone), and the rows to write are then taken from the frame in polars and inserted without a
join. A join between the whole frame and the table made DuckDB build its hash table on the
frame (an Arrow scan has no row estimate), with every column: a copy of the frame per write.
Without a join nothing is pushed down into the Arrow scan, so the frame is handed over with
polars' string views, without copying its text.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.ddl import quote
from warehouse.personal import COMPANIONS, mask_frame, masked_columns
from warehouse.schema import Strategy, Table

FRAME = "_cchc_frame"
STAGE = "_cchc_stage"
INSERT = "_cchc_insert"
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


def _key(key: list[str]) -> pl.Expr:
    """The key as one expression: a single column as itself (a struct would be row-encoded: a
    copy of the keys)."""
    return pl.col(key[0]) if len(key) == 1 else pl.struct(key)


def _one_per_key(table: Table, frame: pl.DataFrame, *, newest: bool,
                 keep: pl.Series | None = None) -> pl.DataFrame:
    """Keep one row per key among the rows ``keep`` marks (None: all): the newest version
    (MERGE) or the first seen (APPEND_NEW). The rows are taken in one copy of the frame; none
    when every row is kept and the keys are unique already (a load's raw versions)."""
    key = list(table.key)
    keys = _key(key) if keep is None else _key(key).filter(keep)
    kept = frame.height if keep is None else int(keep.sum())
    # A count of distinct keys (a hash set) is a few times cheaper than a per-row mask.
    if frame.select(keys.n_unique()).item() == kept:
        return _filtered(frame, keep)
    order = _version_columns(table)
    if newest and order:
        return frame[_newest_rows(frame, key, order, keep)]
    # APPEND_NEW: the first row seen; unversioned MERGE: the last row of the frame, the latest
    return _filtered(frame, keep).unique(subset=key, keep="last" if newest else "first",
                                         maintain_order=True)


def _filtered(frame: pl.DataFrame, keep: pl.Series | None) -> pl.DataFrame:
    """The rows ``keep`` marks (None: the frame itself)."""
    return frame if keep is None else frame.filter(keep)


def _newest_rows(frame: pl.DataFrame, key: list[str], order: list[str],
                 keep: pl.Series | None) -> pl.Series:
    """The ascending positions of each key's newest row among the rows ``keep`` marks (newest
    version, then smallest hash, then first in the frame).

    Decided on the key and version columns only, and only among the rows whose key occurs more
    than once (a row alone with its key wins): sorting the whole (wide) frame would move every
    column, and sorting every row costs twice the sort of the contested ones. The sort is
    stable, so a key's rows keep their relative order and the winner is the one a sort of all
    the rows would pick."""
    rows = _filtered(frame.select(*dict.fromkeys([*key, *order])).with_row_index(_ROW), keep)
    shared = rows.select(_key(key).is_duplicated()).to_series()
    descending = [True] + [False] * (len(order) - 1)  # newest version, then smallest hash
    won = (
        rows.filter(shared)
        .sort(order, descending=descending, nulls_last=True, maintain_order=True)
        .unique(subset=key, keep="first", maintain_order=True)
        .get_column(_ROW)
    )
    return pl.concat([rows.get_column(_ROW).filter(~shared), won]).sort()


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def _rows(frame: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """The frame's rows at the (ascending) positions ``rows``: the frame itself when all."""
    return frame if rows.len() == frame.height else frame[rows]


def _insert(con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame) -> int:
    """Append ``frame`` (the table's columns, in order) as it is: no join, no filter."""
    if frame.height == 0:
        return 0
    cols = ", ".join(quote(c) for c in table.column_names)
    con.register(INSERT, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        con.execute(f"INSERT INTO {quote(table.name)} ({cols}) SELECT {cols} FROM {INSERT}")
    finally:
        con.unregister(INSERT)
    return frame.height


def _decide(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, columns: list[str],
            sql: str) -> pl.DataFrame:
    """Run ``sql`` over ``FRAME``: the frame's ``columns`` and its row positions (``_ROW``)."""
    con.register(FRAME, frame.select(columns).with_row_index(_ROW).to_arrow())
    try:
        return con.execute(sql).pl()
    finally:
        con.unregister(FRAME)


def _merge(con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame) -> WriteResult:
    """Decide on the key, version and hash columns only, then write the winning rows once.

    The decision (row position, is-new) is a small frame; the rows that win are taken from the
    frame in polars: the new ones appended as they are, the others written by one UPDATE.
    """
    name = quote(table.name)
    decide_cols = list(dict.fromkeys([*table.key, *_version_columns(table)]))
    first_key = quote(table.key[0])
    decided = _decide(con, frame, decide_cols, (
        f"SELECT s.{_ROW}, t.{first_key} IS NULL AS _new FROM {FRAME} s "
        f"LEFT JOIN {name} t ON {_key_match(table, 't', 's')} "
        f"WHERE t.{first_key} IS NULL OR {_wins(table, 's', 't')} ORDER BY s.{_ROW}"))
    new = decided.filter(pl.col("_new")).get_column(_ROW)
    old = decided.filter(~pl.col("_new")).get_column(_ROW)
    if old.len():
        assignments = ", ".join(
            f"{quote(c)} = s.{quote(c)}" for c in table.column_names if c not in table.key
        )
        con.register(STAGE, frame[old].to_arrow())
        try:
            con.execute(f"UPDATE {name} AS t SET {assignments} FROM {STAGE} s "
                        f"WHERE {_key_match(table, 't', 's')}")
        finally:
            con.unregister(STAGE)
    inserted = _insert(con, table, _rows(frame, new))
    return WriteResult(inserted, old.len())


def _version_columns(table: Table) -> list[str]:
    """The columns that decide which version wins."""
    if table.version_column is None:
        return []
    tie = [TIE_BREAK] if TIE_BREAK in table.column_names else []
    return [table.version_column, *tie]


def unseen_rows(con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` whose key ``table`` does not hold yet (decided on the key alone)."""
    decided = _decide(con, frame, list(table.key), (
        f"SELECT s.{_ROW} FROM {FRAME} s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {quote(table.name)} t WHERE {_key_match(table, 't', 's')}) "
        f"ORDER BY s.{_ROW}"))
    return _rows(frame, decided.get_column(_ROW))


def _append_new(con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame) -> WriteResult:
    """Append the rows whose key the table does not hold yet."""
    return WriteResult(_insert(con, table, unseen_rows(con, table, frame)), 0)


def _append(con: duckdb.DuckDBPyConnection, table: Table) -> WriteResult:
    cols = ", ".join(quote(c) for c in table.column_names)
    return WriteResult(
        _count(con.execute(f"INSERT INTO {quote(table.name)} ({cols}) SELECT {cols} FROM {FRAME}")),
        0,
    )


def _replace(con: duckdb.DuckDBPyConnection, table: Table) -> WriteResult:
    con.execute(f"DELETE FROM {quote(table.name)}")
    return _append(con, table)


def prepare_frame(table: Table, frame: pl.DataFrame, load_id: str | None = None, *,
                  personal: bool = False, keep: pl.Series | None = None) -> pl.DataFrame:
    """``frame`` made ready for :func:`write_prepared`, in polars alone (no connection): the
    table's columns and types, personal data masked unless ``personal``, only the rows
    ``keep`` marks (None: all), one row per key.

    Unless ``personal`` (a companion table in the personal-data file, ``warehouse.personal``),
    personal-data columns are written NULL and personal values quoted in reasons and messages
    are masked: nothing personal reaches the main warehouse file, whoever calls.
    """
    frame = conform(table, frame, load_id)
    if not personal:
        frame = mask_frame(table, frame)
    return _reduced(table, frame, keep)


def _reduced(table: Table, frame: pl.DataFrame, keep: pl.Series | None = None) -> pl.DataFrame:
    """The rows ``keep`` marks, one per key for the keyed strategies: taken in one copy of the
    frame (a filter, then a pick of one row per key, would be two), none when that is all."""
    if keep is not None and keep.all(ignore_nulls=False) is True:  # a null is not kept
        keep = None
    if table.strategy in (Strategy.MERGE, Strategy.APPEND_NEW):
        if not table.key:
            raise ValueError(f"{table.name}: strategy {table.strategy} needs a key")
        return _one_per_key(table, frame, newest=table.strategy is Strategy.MERGE, keep=keep)
    return _filtered(frame, keep)


def prepare_split(table: Table, companion: Table, frame: pl.DataFrame,
                  load_id: str | None = None, *,
                  keep: pl.Series | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``frame`` made ready for ``table`` and for its personal-data ``companion``: what
    :func:`prepare_frame` makes of it for each, with the rows chosen once for both.

    The companion keeps the table's key, strategy and deciding columns (``warehouse.personal``),
    and masking leaves those columns alone, so both frames keep the same rows: the frame is
    reduced to one row per key once, unmasked, and the two are column selections of it (one
    copy of the rows, not two, and one decision). Otherwise each is prepared on its own."""
    frame = conform(table, frame, load_id)
    if not _same_rows(table, companion):
        return (prepare_frame(table, frame, keep=keep),
                prepare_frame(companion, frame.select(companion.column_names), personal=True,
                              keep=keep))
    frame = _reduced(table, frame, keep)
    return mask_frame(table, frame), frame.select(companion.column_names)


@dataclass(frozen=True)
class PreparedWrite:
    """A frame made ready for ``table`` in polars alone (:func:`prepare_write`): what a write
    costs besides DuckDB's own work, done where it does not hold up the writer (a load prepares
    a part's writes in the thread that transforms it, docs/performance.md)."""

    table: Table
    main: pl.DataFrame  # for the main file: personal data NULL, quoted values masked
    companion: pl.DataFrame | None  # for the personal-data file, when the table has one


def prepare_write(table: Table, frame: pl.DataFrame, load_id: str | None = None, *,
                  keep: pl.Series | None = None) -> PreparedWrite:
    """Conform ``frame`` to ``table``, keep the rows ``keep`` marks (None: all), one per key,
    and split off its personal data (``warehouse.personal``); no connection needed. A row mask
    costs one copy of the frame where filtering it first would cost two."""
    companion_table = COMPANIONS.get(table.name)
    if companion_table is None:
        return PreparedWrite(table, prepare_frame(table, frame, load_id, keep=keep), None)
    main, companion = prepare_split(table, companion_table, frame, load_id, keep=keep)
    return PreparedWrite(table, main, companion)

def _same_rows(table: Table, companion: Table) -> bool:
    """True when one reduction to a row per key serves ``table`` masked and ``companion``: the
    same key, strategy and deciding columns, none of which masking rewrites."""
    deciding = [*table.key, *_version_columns(table)]
    return (companion.key == table.key and companion.strategy is table.strategy
            and _version_columns(companion) == _version_columns(table)
            and masked_columns(table).isdisjoint(deciding))


def write_prepared(con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame, *,
                   keys_new: bool = False) -> WriteResult:
    """Write a frame :func:`prepare_frame` made ready, by the table's strategy; the caller owns
    the transaction. ``keys_new``: the caller knows that the table holds none of the frame's
    keys (``Warehouse.new_keys_only``), so APPEND_NEW appends without deciding."""
    if frame.height == 0 and table.strategy is not Strategy.REPLACE:
        return WriteResult()
    match table.strategy:
        case Strategy.MERGE:
            return _merge(con, table, frame)
        case Strategy.APPEND_NEW if keys_new:
            return WriteResult(_insert(con, table, frame), 0)
        case Strategy.APPEND_NEW:
            return _append_new(con, table, frame)
    con.register(FRAME, frame.to_arrow())
    try:
        match table.strategy:
            case Strategy.APPEND:
                return _append(con, table)
            case Strategy.REPLACE:
                return _replace(con, table)
        raise ValueError(f"unknown strategy {table.strategy!r}")
    finally:
        con.unregister(FRAME)


def write_frame(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pl.DataFrame,
    load_id: str | None = None,
    *,
    personal: bool = False,
) -> WriteResult:
    """Write ``frame`` into ``table`` by its strategy (:func:`prepare_frame`, then
    :func:`write_prepared`); the caller owns the transaction."""
    return write_prepared(con, table, prepare_frame(table, frame, load_id, personal=personal))
