"""The dossier counts of form 06 and the service index, each rule written once for any period.

Form 06 (``warehouse/form06.py``) counts one period given as parameters, the indicators
(``warehouse/indicator_counts.py``) several periods given as columns, and the view
``out_onestop__indicators_by_unit_month`` every calendar month. All three count rows of
``out_onestop__dossier_lifecycle`` that are in scope for the period (received by its end, not
closed before its start), with the rules of docs/figures.md §4 and §6; they differ only in how
the period's first and last day are written, so the rules live here with ``$START`` / ``$END``
standing for them. ``views.sql`` writes ``{{dossier_counts <group> <start> <end>}}``, e.g.
``{{dossier_counts index month month_end}}``; Python calls :func:`count_sql`. The status groups
and channels are ``{{codes …}}`` placeholders of the one-stop vocabulary (``warehouse.views``).
"""

from __future__ import annotations

import re

_OPEN_AT_END = "(closed_date IS NULL OR closed_date > $END)"
_CLOSED = "closed_date <= $END"
_ONLINE = "channel IN {{codes onestop.ONLINE_CHANNELS}}"

# name -> the rows it counts (None: every row in scope)
RULES: dict[str, str | None] = {
    "c3": None,
    "c4": f"received_date >= $START AND {_ONLINE}",
    "c5": f"received_date >= $START AND ({_ONLINE}) IS NOT TRUE",
    "c6": "received_date < $START",
    "c7": _CLOSED,
    "c8": f"{_CLOSED} AND closed_timeliness = 'before_due'",
    # a withdrawal, and a dossier without a due day, count on the due day, as the vendor does
    "c9": f"{_CLOSED} AND closed_timeliness IN ('on_due', 'no_due_date', 'withdrawn')",
    "c10": f"{_CLOSED} AND closed_timeliness = 'after_due'",
    "c11": _OPEN_AT_END,
    "c12": f"{_OPEN_AT_END} AND (waiting OR due_date IS NULL OR due_date >= $END)",
    "c13": f"{_OPEN_AT_END} AND NOT waiting AND due_date < $END",
    "no_due_date": f"{_CLOSED} AND closed_timeliness = 'no_due_date'",
    "open_no_due_date": f"{_OPEN_AT_END} AND due_date IS NULL",
    "withdrawn": f"{_CLOSED} AND closed_timeliness = 'withdrawn'",
    # the service index (docs/figures.md §6)
    "received": "received_date >= $START",
    "digitised": "received_date >= $START AND digitisation IN {{codes onestop.DIGITISED}}",
    "paid_online": "received_date >= $START AND paid_online",
    "finished": f"{_CLOSED} AND status IN {{{{codes onestop.FINISHED}}}}",
    "electronic_results": f"{_CLOSED} AND status IN {{{{codes onestop.FINISHED}}}} "
                          "AND electronic_result",
    "rated": f"{_CLOSED} AND rating IS NOT NULL",
    "satisfied": f"{_CLOSED} AND rating IN {{{{codes onestop.SATISFIED}}}}",
}

FORM06 = ("c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13",
          "no_due_date", "open_no_due_date", "withdrawn")
INDEX = (*(c for c in FORM06 if c != "open_no_due_date"), "received", "digitised",
         "paid_online", "finished", "electronic_results", "rated", "satisfied")
GROUPS: dict[str, tuple[str, ...]] = {"form06": FORM06, "index": INDEX}

PLACEHOLDER = re.compile(r"\{\{dossier_counts (\w+) (\S+) (\S+)\}\}")


def count_sql(names: tuple[str, ...], start: str, end: str) -> str:
    """``count(*) FILTER (…) AS name, …`` for the period from ``start`` to ``end`` (SQL
    expressions: ``$date_from``, ``period_from``, ``month``), with ``{{codes …}}`` left for
    ``warehouse.views.expand``."""
    items = []
    for name in names:
        rule = RULES[name]
        if rule is None:
            items.append(f"count(*) AS {name}")
        else:
            items.append(f"count(*) FILTER ({rule.replace('$START', start).replace('$END', end)})"
                         f" AS {name}")
    return ",\n    ".join(items)


def expand_placeholders(sql: str) -> str:
    """Replace every ``{{dossier_counts <group> <start> <end>}}`` of ``sql``."""
    return PLACEHOLDER.sub(lambda m: count_sql(GROUPS[m.group(1)], m.group(2), m.group(3)), sql)
