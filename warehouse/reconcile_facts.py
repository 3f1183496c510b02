"""What the warehouse knows that can explain a reconciliation difference (queries only).

- dossiers in progress at the period's end that closed after it (``out_onestop__dossier_lifecycle``):
  a system that judges a past period by today's status counts them as resolved, or not at all;
  split by the column a resolved count would put them in (c8/c9/c10, by the closing day against
  the due day) and by the column form 06 has them in (c12/c13);
- dossiers held in quarantine that no loaded version accounts for: the source counts them.

The pure counting (period, unit) is ``transforms.reconcile``; form 06's own ``no_due_date`` and
``open_no_due_date`` columns are the third fact.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from transforms.reconcile import TOTAL_KEY
from warehouse.form06 import UNKNOWN_FIELD, By

if TYPE_CHECKING:
    import duckdb
    import polars as pl

_CLOSED_AFTER = """
WITH scoped AS (
    SELECT *, {key} AS key FROM out_onestop__dossier_lifecycle
    WHERE received_date <= $date_to AND (closed_date IS NULL OR closed_date >= $date_from)
      AND closed_date > $date_to
)
SELECT coalesce(key, $total) AS key,
    count(*) AS closed_after_to,
    count(*) FILTER (closed_timeliness = 'before_due') AS closed_after_to_c8,
    count(*) FILTER (closed_timeliness IN ('on_due', 'no_due_date', 'withdrawn'))
        AS closed_after_to_c9,
    count(*) FILTER (closed_timeliness = 'after_due') AS closed_after_to_c10,
    count(*) FILTER (waiting OR due_date IS NULL OR due_date >= $date_to) AS closed_after_to_c12,
    count(*) FILTER (NOT waiting AND due_date < $date_to) AS closed_after_to_c13
FROM scoped
GROUP BY GROUPING SETS ((key), ())
"""

_QUARANTINED = """
SELECT q.MaHoSo, q.MaDVHC, q.TenDonVi, q.TenLinhVuc, q.NgayTiepNhan, q.NgayKetThucXuLy
FROM quarantine_onestop__dossiers q
WHERE NOT EXISTS (
    SELECT 1 FROM core_onestop__dossiers d
    WHERE d.dossier_code = upper(replace(trim(q.MaHoSo), ' ', ''))
)
"""


def closed_after_period(con: duckdb.DuckDBPyConnection, date_from: date, date_to: date,
                        by: By = "unit") -> pl.DataFrame:
    """Per form-06 row key (unit code or field name) and for the total (``Tổng cộng``): the
    dossiers in scope still in progress at ``date_to`` that closed after it."""
    key = "unit_code" if by == "unit" else f"coalesce(field_name, '{UNKNOWN_FIELD}')"
    return con.execute(_CLOSED_AFTER.format(key=key), {
        "date_from": date_from, "date_to": date_to, "total": TOTAL_KEY,
    }).pl()


def quarantined_dossiers(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The raw rows held in quarantine of dossiers that have no loaded version (text as the
    source gave it: the period and unit are read by ``transforms.reconcile``)."""
    return con.execute(_QUARANTINED).pl()


def admin_units(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """``dim_admin_unit``, to resolve names the other side writes."""
    return con.execute("SELECT * FROM dim_admin_unit ORDER BY unit_code").pl()
