"""Apply a function to the distinct values of a column only, then map back to every row.

Most raw text columns repeat a few values a million times (procedure codes and names, offices,
labels): parsing each distinct value once and mapping the result back with one hash lookup per
row is several times cheaper than running regexes over every row.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def map_distinct(
    s: pl.Series, fn: Callable[[pl.Series], pl.Series], dtype: pl.DataType | type[pl.DataType]
) -> pl.Series:
    """``fn`` applied to the distinct non-null values of ``s``; null stays null."""
    distinct = s.drop_nulls().unique()
    if distinct.is_empty():
        return pl.Series(s.name, [None] * len(s), dtype=dtype)
    mapped = fn(distinct).cast(dtype)
    return s.replace_strict(distinct, mapped, default=None, return_dtype=dtype).alias(s.name)
