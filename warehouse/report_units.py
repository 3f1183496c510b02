"""Which units a by-unit report lists: shared by form 06 and the e-document report.

Every unit with figures (CTE ``f`` with a ``unit_code`` column), plus the other units of the
same district(s) that existed during the period, so a commune with nothing to report still has
its (zero) row. Parameters ``$date_from`` / ``$date_to``.
"""

from __future__ import annotations

UNITS_CTES = """
districts AS (
    SELECT DISTINCT coalesce(u.district_code,
                             CASE WHEN u.level = 'district' THEN u.unit_code END) AS code
    FROM dim_admin_unit u JOIN f USING (unit_code)
),
units AS (
    SELECT unit_code FROM f
    UNION
    SELECT u.unit_code FROM dim_admin_unit u
    WHERE (u.district_code IN (SELECT code FROM districts)
           OR u.unit_code IN (SELECT code FROM districts))
      AND (u.valid_from IS NULL OR u.valid_from <= $date_to)
      AND (u.valid_to IS NULL OR u.valid_to >= $date_from)
)"""
