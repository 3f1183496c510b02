"""Read a published-figures CSV: the figures a written report states (docs/source-systems.md §9).

``indicator,value,unit,period_from,period_to,scope``, one figure a line, UTF-8 (with or without
BOM). Values are kept as written ("98.5"), because the precision a figure was published with
is what a reconciliation compares it at. Anything unreadable is a ``SourceFileError`` naming
the file, the line (as a spreadsheet numbers it: the header is line 1) and the column.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import polars as pl

from sources.errors import SourceFileError
from transforms.reconcile import INDICATOR_NAMES, RATES

COLUMNS = ("indicator", "value", "unit", "period_from", "period_to", "scope")
RATE_NAMES = frozenset(f.name for f in RATES)
_COUNT = re.compile(r"^\d+$")
_RATE = re.compile(r"^\d+(\.\d+)?$")
SCHEMA = {"indicator": pl.String, "value": pl.String, "unit": pl.String,
          "period_from": pl.Date, "period_to": pl.Date, "scope": pl.String,
          "source_row": pl.Int64}  # fmt: skip


def read_published_figures(path: Path) -> pl.DataFrame:
    """Every figure of the file, checked: ``indicator``, ``value`` (text as written), ``unit``,
    ``period_from``, ``period_to`` (dates), ``scope`` (a unit code, null when empty),
    ``source_row``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceFileError(path, None, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise SourceFileError(path, None, None, f"cannot read the file: {exc.strerror}") from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().casefold() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SourceFileError(path, 1, None, f"the header lacks {', '.join(missing)}; expected "
                              f"{','.join(COLUMNS)}")  # fmt: skip
    at = {c: header.index(c) for c in COLUMNS}
    rows, seen = [], {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cell = {c: (cells[i].strip() if i < len(cells) else "") for c, i in at.items()}
        row = _checked(path, line, cell)
        ident = (row["indicator"], row["period_from"], row["period_to"], row["scope"])
        if ident in seen:
            raise SourceFileError(path, line, "indicator", f"{row['indicator']} for this period "
                                  f"and scope is already on line {seen[ident]}")  # fmt: skip
        seen[ident] = line
        rows.append(row | {"source_row": line})
    if not rows:
        raise SourceFileError(path, None, None, "no figures in the file")
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def _checked(path: Path, line: int, cell: dict[str, str]) -> dict:
    indicator = cell["indicator"]
    if indicator not in INDICATOR_NAMES:
        raise SourceFileError(path, line, "indicator", f"unknown indicator {indicator!r}; known: "
                              f"{', '.join(INDICATOR_NAMES)}")  # fmt: skip
    value = cell["value"].replace(",", "") if indicator not in RATE_NAMES else cell["value"]
    pattern = _RATE if indicator in RATE_NAMES else _COUNT
    if not pattern.match(value):
        kind = "a percentage like 98.5" if indicator in RATE_NAMES else "a whole number"
        raise SourceFileError(path, line, "value", f"{cell['value']!r} is not {kind}")
    days = {}
    for name in ("period_from", "period_to"):
        try:
            days[name] = date.fromisoformat(cell[name])
        except ValueError:
            raise SourceFileError(path, line, name, f"{cell[name]!r} is not a date "
                                  "YYYY-MM-DD") from None  # fmt: skip
    if days["period_from"] > days["period_to"]:
        raise SourceFileError(path, line, "period_to", "the period ends before it starts")
    return {"indicator": indicator, "value": value, "unit": cell["unit"] or None, **days,
            "scope": cell["scope"] or None}


def for_period(frame: pl.DataFrame, path: Path, date_from: date, date_to: date) -> pl.DataFrame:
    """The figures of exactly ``[date_from, date_to]``; an error naming the periods the file
    has when it has none of that period."""
    rows = frame.filter((pl.col("period_from") == date_from) & (pl.col("period_to") == date_to))
    if rows.is_empty():
        periods = frame.select("period_from", "period_to").unique().sort("period_from")
        listed = ", ".join(f"{a}..{b}" for a, b in periods.iter_rows())
        raise SourceFileError(path, None, "period_from", f"no figures for {date_from}..{date_to};"
                              f" the file has {listed}")  # fmt: skip
    return rows
