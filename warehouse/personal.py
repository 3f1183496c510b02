"""Personal data (Decree 13/2023) kept out of the main warehouse file by construction.

For every declared table with personal-data columns (``Column.pii``) a *companion* table of the
same name lives in a separate DuckDB file next to the private warehouse (``personal.duckdb``,
attached by the writer as ``personal``). It holds the table's key, the columns that decide which
version wins (``version_column``, ``row_hash``) and the personal-data columns, and is written
with the table's own strategy and key: newest-wins merge for core, append-new by ``row_hash`` for
raw and quarantine. The main table keeps its personal-data columns declared but always NULL, so
SQL and views do not change and the published snapshot has the declared schema.

Validation reasons and messages quote raw values (``SoGiayTo='0641…': …``); the quoted values
of personal-data fields are masked (``SoGiayTo='***'``) before any write to the main file
(``mask_frame``, ``mask_text``), so the main file can be published byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cchc.config import Settings
from warehouse.ddl import quote
from warehouse.schema import Table
from warehouse.tables import ALL_TABLES

if TYPE_CHECKING:
    import duckdb

PERSONAL_DB = "personal"
PERSONAL_FILE = "personal.duckdb"
TIE_BREAK = "row_hash"
MASK = "***"
# Free-text columns that may quote raw values (besides every VARCHAR[] reason list).
QUOTING_COLUMNS = ("message", "reason")


def personal_path(settings: Settings) -> Path:
    """The personal-data file: next to the private warehouse, never published."""
    return settings.warehouse_path.with_name(PERSONAL_FILE)


def companion(table: Table) -> Table | None:
    """The personal-data companion of ``table`` (None when it has no personal data)."""
    if not table.pii_columns:
        return None
    if not table.key:
        raise ValueError(f"{table.name}: personal-data columns need a keyed table")
    deciding = [table.version_column] if table.version_column else []
    if TIE_BREAK in table.column_names:
        deciding.append(TIE_BREAK)
    names = list(dict.fromkeys([*table.key, *deciding, *table.pii_columns]))
    return Table(
        name=table.name,
        description=f"Personal data of {table.name} (key, version, personal-data columns).",
        columns=tuple(table.column(n) for n in names),
        key=table.key,
        strategy=table.strategy,
        version_column=table.version_column,
    )


COMPANIONS: dict[str, Table] = {t.name: c for t in ALL_TABLES if (c := companion(t)) is not None}


def pii_names() -> list[str]:
    """Every name a reason may quote a personal-data value under: columns and raw fields."""
    names = {c.name for t in ALL_TABLES for c in t.columns if c.pii}
    names |= {c.source_field for t in ALL_TABLES for c in t.columns if c.pii and c.source_field}
    return sorted(names)


_PATTERN = rf"\b({'|'.join(pii_names())})='[^']*'"
_REPLACEMENT = f"${{1}}='{MASK}'"
_RE = re.compile(_PATTERN)


def mask_text(text: str | None) -> str | None:
    """``SoGiayTo='0641…': rule`` → ``SoGiayTo='***': rule`` (other fields untouched)."""
    return None if text is None else _RE.sub(rf"\1='{MASK}'", text)


def masked_columns(table: Table) -> set[str]:
    """The columns :func:`mask_frame` may rewrite: personal data, reason lists, messages."""
    return {c.name for c in table.columns if c.pii or _quotes_values(c.type, c.name)}


def _quotes_values(column_type: str, name: str) -> bool:
    return column_type == "VARCHAR[]" or (column_type == "VARCHAR" and name in QUOTING_COLUMNS)


def mask_frame(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Null the personal-data columns and mask quoted personal values in reasons/messages."""
    exprs = [pl.lit(None, c.polars_type).alias(c.name) for c in table.columns if c.pii]
    for c in table.columns:
        if c.pii or c.name not in frame.columns or not _quotes_values(c.type, c.name):
            continue
        if c.type == "VARCHAR[]":
            exprs.append(
                pl.col(c.name).list.eval(pl.element().str.replace_all(_PATTERN, _REPLACEMENT))
            )
        else:
            exprs.append(pl.col(c.name).str.replace_all(_PATTERN, _REPLACEMENT))
    return frame.with_columns(exprs) if exprs else frame


def personal_rows(cursor: duckdb.DuckDBPyConnection, decl: Table, keys: list[Any]) -> pl.DataFrame:
    """The key and personal-data columns of the current main row of each key found
    (``Warehouse.personal``), on a cursor of the writer (main and personal file attached). The
    companion row is matched on the main row's ``row_hash`` too, so a companion left ahead by a
    failed commit is never returned for another version."""
    companion = COMPANIONS.get(decl.name)
    if companion is None:
        raise KeyError(f"{decl.name} has no personal-data columns")
    key_schema = {k: decl.column(k).polars_type for k in decl.key}
    rows = [k if isinstance(k, tuple) else (k,) for k in keys]
    wanted = pl.DataFrame(rows, schema=key_schema, orient="row")
    version = ["row_hash"] if "row_hash" in companion.column_names else []
    match = list(dict.fromkeys([*decl.key, *version]))
    on = " AND ".join(f"m.{quote(c)} = p.{quote(c)}" for c in match)
    keys_sql = ", ".join(f"m.{quote(k)}" for k in decl.key)
    semi = " AND ".join(f"m.{quote(k)} = w.{quote(k)}" for k in decl.key)
    cols = ", ".join(
        [f"m.{quote(k)}" for k in decl.key] + [f"p.{quote(c)}" for c in decl.pii_columns]
    )
    name = quote(decl.name)
    cursor.register("_cchc_keys", wanted.to_arrow())
    return cursor.execute(
        f"SELECT {cols} FROM {name} m JOIN {PERSONAL_DB}.main.{name} p ON {on} "
        f"SEMI JOIN _cchc_keys w ON {semi} ORDER BY {keys_sql}"
    ).pl()
