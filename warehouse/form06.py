"""Form 06 (Circular 01/2020/TT-VPCP, biểu II.06a) computed from the dossier rows.

The rules are docs/figures.md §4, by calendar day in local time, over the view
``out_onestop__dossier_lifecycle`` (views.sql), which decides once when each dossier closed:

- in scope: received (status not 1 or 3) on or before ``to`` and not closed before ``from``;
- c4/c5: received in [from, to] online / over the counter or by post; c6: received before ``from``;
- c7: closed in [from, to]: finished (9, 10) or withdrawn (7; counted on time, column 9);
- c8/c9/c10: closed before / on / after the due day; no due day counts in c9 as the vendor does,
  and is shown in ``no_due_date`` so it is flagged, not silent;
- c11: not closed on or before ``to`` — decided from the dates, not from today's status, so a
  past period shows its state at its end and c3 = c7 + c11 always holds;
- c12: waiting (5, 6, 8), no due day, or due on or after ``to``; c13: due before ``to``.

The status groups and the online channel are those of ``sources.onestop.vocabulary``
(NOT_RECEIVED, FINISHED, WITHDRAWN, WAITING in the view; ONLINE_CHANNELS here), written as
``{{codes …}}`` placeholders that ``warehouse.views.expand`` fills.

Extra columns: ``no_due_date`` (in c9), ``open_no_due_date`` (in c12), ``withdrawn`` (in c9),
``late_by_first_due``: dossiers closed in the period on or before their current due day but after
the first due day promised after reception (``out_onestop__moved_due_dates``), i.e. on time only
because the due date was moved later. ``due="original"`` counts c8–c10 and c12–c13 against that
first promised day instead (dossiers whose due date never moved are unaffected); the column then
says how many of c10 the current due date would have counted on time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Literal

from warehouse.dossier_counts import FORM06, count_sql
from warehouse.report_units import (
    Units,
    check_units,
    report_unit_columns,
    report_unit_join,
    unit_join_sql,
    unit_label_sql,
    unit_map_cte,
    units_ctes,
)
from warehouse.views import expand

if TYPE_CHECKING:
    import duckdb
    import polars as pl

By = Literal["unit", "field"]
Due = Literal["current", "original"]
TOTAL_LABEL = "Tổng cộng"
UNKNOWN_FIELD = "(Không rõ lĩnh vực)"
COUNT_COLUMNS = tuple(f"c{i}" for i in range(3, 14))
EXTRA_COLUMNS = ("no_due_date", "open_no_due_date", "withdrawn")
DUE_COLUMNS = ("late_by_first_due",)  # on time by the current due date, late by the first one
IDENTITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("c3", ("c4", "c5", "c6")),
    ("c7", ("c8", "c9", "c10")),
    ("c11", ("c12", "c13")),
    ("c3", ("c7", "c11")),
)
# Order of unit rows: the district first, then its communes (by code).
LEVEL_ORDER = {"province": 0, "district": 1}


def by_level(*then: str) -> list[pl.Expr | str]:
    """Sort keys of a report's unit rows: :data:`LEVEL_ORDER`, then ``then``."""
    import polars as pl

    return [pl.col("level").replace_strict(LEVEL_ORDER, default=2), *then]


def total_row(rows: pl.DataFrame, label: str, counts: Iterable[str],
              *extra: pl.Expr) -> pl.DataFrame:
    """The "Tổng cộng" row of a report's ``rows``: no code or level, the ``label`` column
    reading :data:`TOTAL_LABEL`, the ``extra`` columns, each count summed."""
    import polars as pl

    return rows.select(
        pl.lit(None, pl.String).alias("code"),
        pl.lit(TOTAL_LABEL).alias(label),
        pl.lit(None, pl.String).alias("level"),
        *extra,
        *[pl.col(c).sum().cast(pl.Int64) for c in counts],
    )

_COUNTS = expand(count_sql(FORM06, "$date_from", "$date_to") + """,
    count(*) FILTER (closed_date <= $date_to AND current_timeliness IN ('before_due', 'on_due')
                     AND closed_date > first_due_date) AS late_by_first_due""")

# The due day every count uses: the current one, or the first promised after reception
# (out_onestop__moved_due_dates; the same as the current one for dossiers whose due never moved).
_DUE_DAY = {"current": "l.due_date", "original": "coalesce(m.first_due_date, l.due_date)"}


def _in_scope(due: Due) -> str:
    """The lifecycle rows of the period, with ``due_date`` and ``closed_timeliness`` judged
    against the chosen due day (the view's own rule, restated for the first promised day)."""
    day = _DUE_DAY[due]
    return f"""
    SELECT l.* REPLACE (
        {day} AS due_date,
        CASE
            WHEN l.closed_date IS NULL OR l.closed_timeliness = 'withdrawn' THEN l.closed_timeliness
            WHEN {day} IS NULL THEN 'no_due_date'
            WHEN l.closed_date < {day} THEN 'before_due'
            WHEN l.closed_date = {day} THEN 'on_due'
            ELSE 'after_due'
        END AS closed_timeliness),
        l.closed_timeliness AS current_timeliness,
        m.first_due_date
    FROM out_onestop__dossier_lifecycle l
    LEFT JOIN out_onestop__moved_due_dates m USING (dossier_code)
    WHERE l.received_date <= $date_to AND (l.closed_date IS NULL OR l.closed_date >= $date_from)
"""


_ALL_COUNTS = COUNT_COLUMNS + EXTRA_COLUMNS + DUE_COLUMNS
_ZEROS = ", ".join(f"coalesce(f.{c}, 0) AS {c}" for c in _ALL_COUNTS)

# Rows per unit (the receiving one, or its successor: warehouse/report_units.py): every unit
# with dossiers, plus the other units of the same district(s) that existed during the period,
# so a commune with nothing to report still has its (zero) row.
BY_UNIT_SQL = f"""
WITH {{unit_map}},
scoped AS ({{in_scope}}),
keyed AS (
    SELECT s.* EXCLUDE (unit_code, unit_valid_from),
           {report_unit_columns("s", "s.unit_valid_from")}
    FROM scoped s {report_unit_join("s", "s.unit_valid_from")}
),
f AS (SELECT unit_code, unit_valid_from, {_COUNTS} FROM keyed GROUP BY ALL),
{units_ctes()}
SELECT units.unit_code AS code, {unit_label_sql()} AS c2, u.level,
       units.unit_valid_from AS _valid_from, {_ZEROS}
FROM units
LEFT JOIN f USING (unit_code, unit_valid_from)
{unit_join_sql()}
"""

BY_FIELD_SQL = f"""
WITH scoped AS ({{in_scope}}),
f AS (
    SELECT coalesce(field_name, '{UNKNOWN_FIELD}') AS c2, min(field_code) AS code, {_COUNTS}
    FROM scoped GROUP BY 1
)
SELECT f.code, f.c2, NULL::VARCHAR AS level, {_ZEROS} FROM f ORDER BY f.c2
"""


class Form06IdentityError(ValueError):
    """The computed form breaks one of its identities (a bug or an inconsistent view)."""


def identity_violations(frame: pl.DataFrame) -> list[str]:
    """Rows (by name) where c3 = c4+c5+c6, c7 = c8+c9+c10, c11 = c12+c13 or c3 = c7+c11 fails,
    and columns where the total row differs from the sum of the other rows."""
    problems = []
    for row in frame.iter_rows(named=True):
        for total, parts in IDENTITIES:
            if row[total] != sum(row[p] for p in parts):
                problems.append(
                    f"{row['c2']}: {total}={row[total]} but {' + '.join(parts)}="
                    f"{sum(row[p] for p in parts)}"
                )
    body, last = frame[:-1], frame.row(-1, named=True)
    for col in COUNT_COLUMNS + EXTRA_COLUMNS:
        if last[col] != body[col].sum():
            problems.append(
                f"{TOTAL_LABEL}: {col}={last[col]} but rows sum to {body[col].sum()}"
            )
    return problems


def form06(
    con: duckdb.DuckDBPyConnection,
    date_from: date,
    date_to: date,
    by: By = "unit",
    *,
    strict: bool = True,
    due: Due = "current",
    units: Units = "received",
) -> pl.DataFrame:
    """The 13 columns of form 06 per unit or per field, then a "Tổng cộng" row.

    Columns: ``c1`` (row number), ``code``, ``c2`` (unit or field), ``level`` (unit level),
    ``c3``…``c13``, then ``no_due_date``, ``open_no_due_date``, ``withdrawn``,
    ``late_by_first_due``. ``due`` is the due day timeliness is judged against: ``current`` (the
    newest version's) or ``original`` (the first promised after reception). ``units``: rows
    by the unit that received the dossier (``received``) or by today's successor of that unit
    (``new``; warehouse/report_units.py); the total is the same. With ``strict``, a
    broken identity raises :class:`Form06IdentityError`.
    """
    import polars as pl

    if date_from > date_to:
        raise ValueError(f"the period starts ({date_from}) after it ends ({date_to})")
    if by not in ("unit", "field"):
        raise ValueError(f"by must be 'unit' or 'field', not {by!r}")
    if due not in _DUE_DAY:
        raise ValueError(f"due must be 'current' or 'original', not {due!r}")
    check_units(units)
    sql = (BY_UNIT_SQL if by == "unit" else BY_FIELD_SQL).replace("{in_scope}", _in_scope(due))
    sql = sql.replace("{unit_map}", unit_map_cte(units))
    rows = con.execute(sql, {"date_from": date_from, "date_to": date_to}).pl()
    counts = [pl.col(c).cast(pl.Int64) for c in _ALL_COUNTS]
    rows = rows.with_columns(counts)
    if by == "unit":
        rows = rows.sort(by_level("code", "_valid_from"))
    rows = rows.with_columns(c1=pl.int_range(1, rows.height + 1, dtype=pl.Int64))
    total = total_row(rows, "c2", _ALL_COUNTS, pl.lit(None, pl.Int64).alias("c1"))
    order = ["c1", "code", "c2", "level", *_ALL_COUNTS]
    out = pl.concat([rows.select(order), total.select(order)], how="vertical_relaxed")
    problems = identity_violations(out)
    if problems and strict:
        raise Form06IdentityError("form 06 identities do not hold: " + "; ".join(problems[:10]))
    return out


# Short Vietnamese headers for screens and CSV: the form's column number keeps them unique.
HEADERS: dict[str, str] = {
    "c1": "(1) STT",
    "code": "Mã",
    "c3": "(3) Tổng số nhận",
    "c4": "(4) Trực tuyến",
    "c5": "(5) Trực tiếp, BCCI",
    "c6": "(6) Kỳ trước chuyển qua",
    "c7": "(7) Đã giải quyết",
    "c8": "(8) Trước hạn",
    "c9": "(9) Đúng hạn",
    "c10": "(10) Quá hạn",
    "c11": "(11) Đang giải quyết",
    "c12": "(12) Trong hạn",
    "c13": "(13) Quá hạn",
    "no_due_date": "Không có ngày hẹn (trong 9)",
    "open_no_due_date": "Đang giải quyết không có ngày hẹn (trong 12)",
    "withdrawn": "Rút hồ sơ (trong 9)",
    "late_by_first_due": "Quá ngày hẹn trả đầu tiên (ngày hẹn đã lùi)",
}
SUBJECT_HEADER: dict[str, str] = {"unit": "(2) Đơn vị", "field": "(2) Lĩnh vực"}


def with_headers(frame: pl.DataFrame, by: By) -> pl.DataFrame:
    """The form with its Vietnamese short headers (for screens and CSV), without ``level``.
    A CSV writer passes the result through :func:`csv_safe`."""
    names = {**HEADERS, "c2": SUBJECT_HEADER[by]}
    return frame.drop("level").rename(names)


# What a spreadsheet takes as the start of a formula (OWASP "CSV injection"): = + - @, and a tab
# or carriage return that some spreadsheets skip before one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with a single quote so it
    shows them as text (``=cmd|' /C calc'!A0`` -> ``'=cmd|' /C calc'!A0``). Only text columns:
    numbers (``-5``) are left as they are. For every CSV that people open in a spreadsheet
    (``cchc sql --format csv``, ``cchc report … --format csv``)."""
    import polars as pl

    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    pattern = "^[" + "".join(FORMULA_PREFIXES).replace("-", "\\-") + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c))
        .alias(c)
        for c in text
    )  # fmt: skip


# Two-line headers for a terminal, where thirteen columns must fit.
COMPACT_HEADERS: dict[str, str] = {
    "c3": "(3)\nNhận",
    "c4": "(4)\nTr.tuyến",
    "c5": "(5)\nTr.tiếp",
    "c6": "(6)\nKỳ trước",
    "c7": "(7)\nĐã GQ",
    "c8": "(8)\nTrước hạn",
    "c9": "(9)\nĐúng hạn",
    "c10": "(10)\nQuá hạn",
    "c11": "(11)\nĐang GQ",
    "c12": "(12)\nTrong hạn",
    "c13": "(13)\nQuá hạn",
}
