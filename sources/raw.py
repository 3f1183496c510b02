"""Build RAW FRAMEs (docs/architecture.md): every raw field as text, plus provenance.

Raw frames keep the source's values as text so that nothing is lost before validation can
quote it: an API integer becomes its decimal text and a boolean ``"true"``/``"false"``; codes
like ``1.001230`` are never parsed as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN


def raw_schema(fields: Sequence[str]) -> pl.Schema:
    """The raw frame's schema for a system's raw fields."""
    return pl.Schema(
        [(f, pl.String()) for f in fields]
        + [(SOURCE_COLUMN, pl.String()), (SOURCE_ROW_COLUMN, pl.Int64())]
    )


_TEXT_TYPES = frozenset({str, type(None)})


def stringify(value: Any) -> str | None:
    """Text for one API value: ints in decimal, booleans "true"/"false", null stays null.

    Floats keep Python's shortest round-trip form (``1.00123``), nested values become compact
    JSON: neither should occur in this API, but a raw layer must not crash on them.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _text_column(values: list[Any]) -> list[str | None]:
    """Stringify a column; the common all-text case costs one type scan and no copy."""
    if set(map(type, values)) <= _TEXT_TYPES:
        return values
    return [stringify(v) for v in values]


def items_to_raw_frame(
    items: Sequence[Mapping[str, Any]], source: str, first_row: int, fields: Sequence[str]
) -> tuple[pl.DataFrame, set[str], set[str]]:
    """Raw frame from API items, numbered from ``first_row``; also the keys not in ``fields``
    and the keys that were present (the column gate judges what the source sent).

    Unknown keys are dropped from the frame (the raw tables have fixed columns) but returned so
    the pull can report schema drift instead of losing it silently.
    """
    columns = {
        key: pl.Series(key, _text_column([it.get(key) for it in items]), dtype=pl.String)
        for key in fields
    }
    n = len(items)
    frame = pl.DataFrame(columns).with_columns(
        pl.lit(source, dtype=pl.String).alias(SOURCE_COLUMN),
        pl.int_range(first_row, first_row + n, dtype=pl.Int64).alias(SOURCE_ROW_COLUMN),
    )
    seen = set().union(*(it.keys() for it in items))
    return frame, seen - set(fields), seen


def assemble_raw_frame(
    frame: pl.DataFrame, fields: Mapping[str, str], source: str, row_column: str,
    raw_fields: Sequence[str],
) -> pl.DataFrame:
    """Raw frame from a file's columns: ``fields`` maps raw field -> column of ``frame``;
    raw fields the file lacks become null columns, ``row_column`` becomes ``_source_row``."""
    return frame.select(
        *(
            pl.col(fields[f]).cast(pl.String).alias(f)
            if f in fields
            else pl.lit(None, dtype=pl.String).alias(f)
            for f in raw_fields
        ),
        pl.lit(source, dtype=pl.String).alias(SOURCE_COLUMN),
        pl.col(row_column).cast(pl.Int64).alias(SOURCE_ROW_COLUMN),
    )
