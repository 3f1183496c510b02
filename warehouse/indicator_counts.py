"""The counts behind the service-index indicators (``warehouse.indicators``), per unit, for any
number of periods in one query.

The rules are form 06's (``warehouse.dossier_counts``) and the e-document report's; this module
only says how the periods are given. :data:`COUNTS_SQL` counts every period of a CTE
``periods(period_code, period_from, period_to)``; :func:`period_counts` gives it a list of
periods, so a reader that needs several (the dashboard: two years and the months of its trends)
reads the dossier lifecycle view, the expensive part, once rather than once per period: the
``lifecycle`` CTE is materialised and every period is a row of the same joins. A period's
counts do not depend on the other periods of the query. :data:`BY_MONTH_SQL` is the whole
district by calendar month (``indicators(…, by="month")``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from warehouse.report_units import (
    Units,
    check_units,
    report_unit_columns,
    report_unit_join,
    unit_map_cte,
)
from warehouse.views import expand

if TYPE_CHECKING:
    import duckdb
    import polars as pl

FORM06_COLUMNS = tuple(f"c{i}" for i in range(3, 14))
DOSSIER_COLUMNS = ("no_due_date", "withdrawn", "received", "digitised", "paid_online", "finished",
                   "electronic_results", "rated", "satisfied")  # fmt: skip
UPTAKE_COLUMNS = ("procedures_offered_online", "procedures_with_online")
DOCUMENT_COLUMNS = ("docs_received", "docs_received_electronic", "docs_issued",
                    "docs_issued_electronic", "docs_issued_signed")  # fmt: skip
COUNT_COLUMNS = FORM06_COLUMNS + DOSSIER_COLUMNS + UPTAKE_COLUMNS + DOCUMENT_COLUMNS
# Counts that add up over months (all of them add up over units).
MONTH_ADDITIVE = ("c4", "c5", "no_due_date", "received", "digitised", "paid_online",
                  "docs_received", "docs_received_electronic", "docs_issued",
                  "docs_issued_electronic", "docs_issued_signed")  # fmt: skip

# Counts per (period, unit) for the periods p(period_code, period_from, period_to): the rules of
# form 06 (warehouse/form06.py) with p's bounds for $date_from / $date_to. ``{unit_map}``:
# report_units.unit_map_cte. A (period, unit) is listed when it has a dossier in scope (then
# c3 > 0), a procedure offered online (procedures_offered_online > 0) or a document.
COUNTS_SQL = expand("""
{unit_map},
lifecycle AS MATERIALIZED (  -- dossiers under their report unit (report_units.py); read once
    SELECT l.* EXCLUDE (unit_code, unit_valid_from),
           """ + report_unit_columns("l", "l.unit_valid_from") + """
    FROM out_onestop__dossier_lifecycle l """ + report_unit_join("l", "l.unit_valid_from") + """
),
documents_keyed AS (
    SELECT d.* EXCLUDE (unit_code, unit_valid_from),
           """ + report_unit_columns("d", "d.day_unit") + """
    FROM (SELECT *, cchc_unit_from(unit_code, unit_valid_from,
                                   coalesce(received_date, issued_date)) AS day_unit
          FROM core_eoffice__documents) d
    """ + report_unit_join("d", "d.day_unit") + """
),
scoped AS (
    SELECT p.period_code, p.period_from, p.period_to, l.*
    FROM periods p
    JOIN lifecycle l
      ON l.received_date <= p.period_to
     AND (l.closed_date IS NULL OR l.closed_date >= p.period_from)
),
dossiers AS (
    SELECT
        period_code, unit_code, unit_valid_from,
    {{dossier_counts index period_from period_to}}
    FROM scoped
    GROUP BY period_code, unit_code, unit_valid_from
),
offered AS (
    SELECT unit_code, unit_valid_from, procedure_code, min(received_date) AS offered_from
    FROM lifecycle
    WHERE service_level IN {{codes onestop.ONLINE_LEVELS}} AND procedure_code IS NOT NULL
    GROUP BY unit_code, unit_valid_from, procedure_code
),
used_online AS (
    SELECT DISTINCT p.period_code, l.unit_code, l.unit_valid_from, l.procedure_code
    FROM periods p
    JOIN lifecycle l
      ON l.received_date BETWEEN p.period_from AND p.period_to
    WHERE l.channel IN {{codes onestop.ONLINE_CHANNELS}}
),
uptake AS (
    SELECT
        p.period_code, o.unit_code, o.unit_valid_from,
        count(*) AS procedures_offered_online,
        count(u.procedure_code) AS procedures_with_online
    FROM periods p
    JOIN offered o ON o.offered_from <= p.period_to
    LEFT JOIN used_online u
      ON u.period_code = p.period_code AND u.unit_code = o.unit_code
     AND u.unit_valid_from = o.unit_valid_from AND u.procedure_code = o.procedure_code
    GROUP BY p.period_code, o.unit_code, o.unit_valid_from
),
documents AS (
    SELECT
        p.period_code, d.unit_code, d.unit_valid_from,
        count(*) FILTER (d.direction = 'DEN') AS docs_received,
        count(*) FILTER (d.direction = 'DEN' AND d.transport IN {{codes eoffice.ELECTRONIC_CODES}})
            AS docs_received_electronic,
        count(*) FILTER (d.direction = 'DI') AS docs_issued,
        count(*) FILTER (d.direction = 'DI' AND d.transport IN {{codes eoffice.ELECTRONIC_CODES}})
            AS docs_issued_electronic,
        count(*) FILTER (d.direction = 'DI' AND d.digitally_signed) AS docs_issued_signed
    FROM periods p
    JOIN (
        SELECT unit_code, unit_valid_from, direction, transport, digitally_signed,
               CASE direction WHEN 'DEN' THEN received_date WHEN 'DI' THEN issued_date END
                   AS report_date
        FROM documents_keyed
    ) d ON d.report_date BETWEEN p.period_from AND p.period_to
    GROUP BY p.period_code, d.unit_code, d.unit_valid_from
),
counted AS (
    SELECT period_code, unit_code, unit_valid_from FROM dossiers
    UNION SELECT period_code, unit_code, unit_valid_from FROM uptake
    UNION SELECT period_code, unit_code, unit_valid_from FROM documents
),
counts AS (
    SELECT
        k.period_code, k.unit_code, k.unit_valid_from,
        """ + ",\n        ".join(f"coalesce({c}, 0) AS {c}" for c in COUNT_COLUMNS) + """
    FROM counted k
    LEFT JOIN dossiers USING (period_code, unit_code, unit_valid_from)
    LEFT JOIN uptake USING (period_code, unit_code, unit_valid_from)
    LEFT JOIN documents USING (period_code, unit_code, unit_valid_from)
)""")

# The periods of $period_from / $period_to (lists of days), numbered from 0 in their order.
PERIODS_SQL = f"""
WITH periods AS (
    SELECT unnest(range(len($period_from::DATE[]))) AS period_code,
           unnest($period_from::DATE[]) AS period_from,
           unnest($period_to::DATE[]) AS period_to
),
{COUNTS_SQL}
SELECT c.period_code AS period, p.period_from, p.period_to, c.* EXCLUDE (period_code)
FROM counts c
JOIN periods p USING (period_code)
ORDER BY period, unit_code, unit_valid_from
"""

# One row per calendar month of the period (cut to it) and one for the whole period, summed
# over the units.
BY_MONTH_SQL = f"""
WITH periods AS (
    SELECT
        strftime(m, '%Y-%m') AS period_code,
        greatest(m::DATE, $date_from::DATE) AS period_from,
        least(last_day(m::DATE), $date_to::DATE) AS period_to
    FROM generate_series(date_trunc('month', $date_from::DATE)::TIMESTAMP,
                         date_trunc('month', $date_to::DATE)::TIMESTAMP,
                         INTERVAL 1 MONTH) AS t(m)
    UNION ALL
    SELECT 'total', $date_from::DATE, $date_to::DATE
),
{COUNTS_SQL}
SELECT
    p.period_code AS code, p.period_from, p.period_to,
    {", ".join(f"coalesce(sum(c.{col}), 0) AS {col}" for col in COUNT_COLUMNS)}
FROM periods p
LEFT JOIN counts c USING (period_code)
GROUP BY p.period_code, p.period_from, p.period_to
ORDER BY p.period_code = 'total', p.period_from
"""


def check_period(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise ValueError(f"the period starts ({date_from}) after it ends ({date_to})")


def period_counts(
    con: duckdb.DuckDBPyConnection, spans: Sequence[tuple[date, date]],
    units: Units = "received",
) -> pl.DataFrame:
    """The counts of every period ``spans[i] = (from, to)`` per unit, in one query: ``period``
    (i), ``period_from``, ``period_to``, ``unit_code``, ``unit_valid_from``, then
    :data:`COUNT_COLUMNS` (Int64). Only the (period, unit) pairs with something to count have a
    row; ``units`` as in ``warehouse.report_units``."""
    import polars as pl

    for date_from, date_to in spans:
        check_period(date_from, date_to)
    check_units(units)
    params = {"period_from": [f for f, _ in spans], "period_to": [t for _, t in spans]}
    frame = con.execute(PERIODS_SQL.replace("{unit_map}", unit_map_cte(units)), params).pl()
    return frame.with_columns(
        pl.col("period").cast(pl.Int64),
        pl.col("period_from", "period_to", "unit_valid_from").cast(pl.Date),
        pl.col("unit_code").cast(pl.String),
        *[pl.col(c).cast(pl.Int64) for c in COUNT_COLUMNS],
    )
