"""Which units a by-unit report lists, and under which unit each row counts: shared by form 06,
the e-document report and the service-index report.

``units="received"`` (the default): a row counts for the unit that received it, the unit valid
on its reception day (``unit_code`` with ``unit_valid_from``; a code reused by a new commune
after the 1 July 2025 reform is two rows, labelled with their validity). ``units="new"``: a row
counts for today's successor of that unit (``dim_admin_unit.successor_code``): every old
commune's figures, carried-over dossiers included, go to the new commune's row, so a period
before the reform can be compared with one after it. A unit without a successor keeps its row
(the district's own desk: the district level ended and nothing took its place).

The SQL pieces, in a report's ``WITH``: :func:`unit_map_cte` first (``unit_map``), facts keyed
through :func:`report_unit_columns` in CTE ``f`` (``unit_code``, ``unit_valid_from``), then
:func:`units_ctes` (``units``: every unit with figures plus the other units of the same
district(s) that existed during the period, so a commune with nothing to report still has its
zero row), and :func:`unit_label_sql` for the row's name. Parameters ``$date_from``/``$date_to``.
"""

from __future__ import annotations

from typing import Literal

Units = Literal["received", "new"]
UNITS_MODES: tuple[str, ...] = ("received", "new")


def check_units(units: str) -> None:
    if units not in UNITS_MODES:
        raise ValueError(f"units must be 'received' or 'new', not {units!r}")


def unit_map_cte(units: Units = "received") -> str:
    """CTE ``unit_map(src_code, src_from, unit_code, unit_valid_from)``: each unit of
    ``dim_admin_unit`` and the unit its figures are reported under."""
    check_units(units)
    if units == "received":
        return """unit_map AS (
    SELECT unit_code AS src_code, valid_from AS src_from, unit_code, valid_from AS unit_valid_from
    FROM dim_admin_unit
)"""
    # the successor is the row of successor_code that began first after the unit ended
    return """unit_map AS (
    SELECT u.unit_code AS src_code, u.valid_from AS src_from,
           coalesce(s.unit_code, u.unit_code) AS unit_code,
           coalesce(s.valid_from, u.valid_from) AS unit_valid_from
    FROM dim_admin_unit u
    LEFT JOIN (
        SELECT p.unit_code AS pred_code, p.valid_from AS pred_from,
               arg_min(n.unit_code, n.valid_from) AS unit_code, min(n.valid_from) AS valid_from
        FROM dim_admin_unit p
        JOIN dim_admin_unit n ON n.unit_code = p.successor_code AND n.valid_from > p.valid_to
        GROUP BY ALL
    ) s ON s.pred_code = u.unit_code AND s.pred_from = u.valid_from
)"""


def report_unit_join(alias: str, valid_from_expr: str) -> str:
    """``LEFT JOIN unit_map`` for fact rows ``alias`` whose unit is (``alias.unit_code``,
    ``valid_from_expr``); select :func:`report_unit_columns` afterwards."""
    return (f"LEFT JOIN unit_map m ON m.src_code = {alias}.unit_code "
            f"AND m.src_from = {valid_from_expr}")


def report_unit_columns(alias: str, valid_from_expr: str) -> str:
    """The report unit of a fact row (its own when ``dim_admin_unit`` does not know it)."""
    return (f"coalesce(m.unit_code, {alias}.unit_code) AS unit_code, "
            f"coalesce(m.unit_valid_from, {valid_from_expr}) AS unit_valid_from")


def units_ctes() -> str:
    """CTEs ``districts``, ``siblings`` and ``units`` after ``f`` (keyed by unit_code,
    unit_valid_from) and ``unit_map``."""
    return """
districts AS (
    SELECT DISTINCT coalesce(u.district_code,
                             CASE WHEN u.level = 'district' THEN u.unit_code END) AS code
    FROM dim_admin_unit u
    JOIN f ON f.unit_code = u.unit_code AND f.unit_valid_from = u.valid_from
),
district_less AS (  -- communes after the reform: no district, siblings within the province
    SELECT DISTINCT u.province_code
    FROM dim_admin_unit u
    JOIN f ON f.unit_code = u.unit_code AND f.unit_valid_from = u.valid_from
    WHERE u.district_code IS NULL AND u.level NOT IN ('province', 'district')
),
siblings AS (
    SELECT u.unit_code, u.valid_from FROM dim_admin_unit u
    WHERE (u.district_code IN (SELECT code FROM districts)
           OR u.unit_code IN (SELECT code FROM districts)
           OR (u.district_code IS NULL AND u.level NOT IN ('province', 'district')
               AND u.province_code IN (SELECT province_code FROM district_less)))
      AND u.valid_from <= $date_to
      AND (u.valid_to IS NULL OR u.valid_to >= $date_from)
),
units AS (
    SELECT unit_code, unit_valid_from FROM f
    UNION
    SELECT m.unit_code, m.unit_valid_from
    FROM siblings s JOIN unit_map m ON m.src_code = s.unit_code AND m.src_from = s.valid_from
)"""


def unit_label_sql(units_alias: str = "units", unit_alias: str = "u") -> str:
    """The unit's name, with its validity when the report shows its code twice (the old and the
    new Xã Uar): "Xã Uar (đến 30/06/2025)", "Xã Uar (từ 01/07/2025)"."""
    name = f"coalesce({unit_alias}.name, {units_alias}.unit_code)"
    validity = (
        f"CASE WHEN {unit_alias}.valid_to IS NOT NULL "
        f"THEN 'đến ' || strftime({unit_alias}.valid_to, '%d/%m/%Y') "
        f"ELSE 'từ ' || strftime({unit_alias}.valid_from, '%d/%m/%Y') END"
    )
    return (
        f"CASE WHEN count(*) OVER (PARTITION BY {units_alias}.unit_code) > 1 "
        f"THEN {name} || ' (' || {validity} || ')' ELSE {name} END"
    )


def unit_join_sql(units_alias: str = "units", unit_alias: str = "u") -> str:
    """``LEFT JOIN dim_admin_unit`` for the listed units."""
    return (f"LEFT JOIN dim_admin_unit {unit_alias} ON {unit_alias}.unit_code = "
            f"{units_alias}.unit_code AND {unit_alias}.valid_from = {units_alias}.unit_valid_from")


# Kept for callers written before units had validity: the "received" grouping.
UNITS_CTES = units_ctes()
