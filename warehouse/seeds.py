"""Reference data shipped with the code (``warehouse/seeds/*.csv``), typed by its declaration.

Seeds are CSV so that a reviewer reads a diff; every column is read as text first (codes keep
their leading zeros and never turn into numbers), then cast to the declared types. ``aliases``
is one text cell of ``|``-separated spellings.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from warehouse.tables import DIM_ADMIN_UNIT

SEEDS_DIR = Path(__file__).parent / "seeds"
ADMIN_UNITS_CSV = SEEDS_DIR / "dim_admin_unit.csv"
ALIAS_SEPARATOR = "|"


def load_admin_units(path: Path = ADMIN_UNITS_CSV) -> pl.DataFrame:
    """The administrative units seed, with DIM_ADMIN_UNIT's columns and types."""
    schema = DIM_ADMIN_UNIT.polars_schema()
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    missing = [c for c in schema if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    text = raw.select(pl.col(c).str.strip_chars().replace("", None).alias(c) for c in schema)
    typed = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            col = col.str.to_date("%Y-%m-%d")
        elif isinstance(dtype, pl.List):
            col = (
                col.str.split(ALIAS_SEPARATOR)
                .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
                .fill_null([])
            )
        else:
            col = col.cast(dtype)
        typed.append(col.alias(name))
    return text.select(typed)
