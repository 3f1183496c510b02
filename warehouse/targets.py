"""National targets of the service-index indicators, declared once (docs/figures.md §6).

The targets below come from secondary sources and were not checked against the legal texts:
they are the 2025 targets quoted with the service index of Decision 766/QĐ-TTg (2022). They are
configuration, not rules: change a ``minimum`` here (and only here) and every report, view
reader and dashboard that calls :func:`target` follows. An indicator without a stated target
(on time, progress, online uptake, electronic result, online payment, signed) has none: it is
shown without a verdict rather than against an invented threshold.

A target applies to the levels of ``dim_admin_unit.level`` it names (``None``: every unit).
Rows that cover the whole district (a report's total row, the rows by month) are held to the
district's target (:data:`WHOLE_DISTRICT`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

DECISION_766 = "Quyết định 766/QĐ-TTg (2022), Bộ chỉ số phục vụ người dân, doanh nghiệp"
UNCHECKED = (
    "2025 national target from secondary sources, not checked against the text; configurable "
    "in warehouse/targets.py"
)
# The level a district-wide row (total, month) is judged at.
WHOLE_DISTRICT = "district"


@dataclass(frozen=True)
class Target:
    """At least ``minimum`` (a fraction) of ``indicator`` for units of ``levels``."""

    indicator: str
    minimum: Fraction
    levels: tuple[str, ...] | None
    source: str
    note: str

    @property
    def percent(self) -> float:
        return float(self.minimum * 100)


TARGETS: tuple[Target, ...] = (
    Target("online", Fraction(50, 100), None, DECISION_766,
           f"≥ 50 % of dossiers submitted online; {UNCHECKED}"),
    Target("digitised", Fraction(80, 100), None, DECISION_766,
           f"≥ 80 % of dossiers digitised; {UNCHECKED}"),
    Target("satisfaction", Fraction(90, 100), None, DECISION_766,
           f"≥ 90 % of rated dossiers (very) satisfied; {UNCHECKED}"),
    Target("edoc_electronic", Fraction(80, 100), ("district",), DECISION_766,
           "80 % of the district's work files handled online (the national digital-transformation "
           "programme, Decision 749/QĐ-TTg (2020), is the likely origin); measured by the share of "
           f"documents exchanged electronically; {UNCHECKED}"),
    Target("edoc_electronic", Fraction(60, 100), ("town", "commune"), DECISION_766,
           "60 % of a commune's work files handled online (likely origin: Decision 749/QĐ-TTg "
           "(2020)); measured by the share of documents exchanged electronically; "
           f"{UNCHECKED}"),
)


def target_for(indicator: str, level: str | None) -> Target | None:
    """The target of ``indicator`` for a unit of ``level`` (None: a district-wide row), or None
    when no target is stated for it."""
    level = level or WHOLE_DISTRICT
    for t in TARGETS:
        if t.indicator == indicator and (t.levels is None or level in t.levels):
            return t
    return None


def target(indicator: str, level: str | None) -> float | None:
    """The minimum of ``indicator`` for a unit of ``level`` as a fraction (0.5), or None."""
    found = target_for(indicator, level)
    return None if found is None else float(found.minimum)
