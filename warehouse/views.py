"""The analysts' views (``views.sql``), recreated in the writer after every schema check.

They live in the private file and therefore in every published snapshot. The SQL is in its own
file so that analysts can read it, and ``COMMENT ON VIEW`` carries each view's explanation into
``duckdb_views()``.

Labels of coded values that a source package declares (``sources.eoffice.vocabulary``) are not
copied into the SQL by hand: ``views.sql`` writes ``{{label <vocabulary> <expression>}}`` and
:func:`views_sql` expands it into a ``CASE`` whose labels are the vocabulary's first (display)
label of each code, so a view can never show a label the vocabulary does not have.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb

from sources.eoffice.vocabulary import (
    DIRECTION_LABELS,
    ELECTRONIC_CODES,
    SECRECY_LABELS,
    STATUS_LABELS,
    TRANSPORT_LABELS,
    URGENCY_LABELS,
)

VIEWS_SQL = Path(__file__).with_name("views.sql")

# Vocabularies a view may label: name in views.sql -> code -> labels (the first one is shown).
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "eoffice_direction": DIRECTION_LABELS,
    "eoffice_secrecy": SECRECY_LABELS,
    "eoffice_urgency": URGENCY_LABELS,
    "eoffice_status": STATUS_LABELS,
    "eoffice_transport": TRANSPORT_LABELS,
}
# Code lists a view may test membership of: name in views.sql -> codes.
CODE_LISTS: dict[str, tuple[str, ...]] = {"eoffice_electronic": ELECTRONIC_CODES}

_LABEL = re.compile(r"\{\{label (\w+) ([\w.]+)\}\}")
_CODES = re.compile(r"\{\{codes (\w+)\}\}")


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def label_case(vocabulary: str, expression: str) -> str:
    """``CASE <expression> WHEN 'code' THEN 'label' … END`` from a declared vocabulary."""
    labels = LABELS[vocabulary]
    whens = " ".join(f"WHEN {sql_text(code)} THEN {sql_text(names[0])}"
                     for code, names in labels.items())  # fmt: skip
    return f"CASE {expression} {whens} END"


def code_list(name: str) -> str:
    """``('DienTu', 'CaHai')``: a declared code list as a SQL list for ``IN``."""
    return "(" + ", ".join(sql_text(code) for code in CODE_LISTS[name]) + ")"


def expand(sql: str) -> str:
    """Replace the ``{{label …}}`` and ``{{codes …}}`` placeholders of ``sql``."""
    sql = _LABEL.sub(lambda m: label_case(m.group(1), m.group(2)), sql)
    return _CODES.sub(lambda m: code_list(m.group(1)), sql)


@cache
def views_sql() -> str:
    """The text of ``views.sql`` with its placeholders expanded (what DuckDB runs)."""
    return expand(VIEWS_SQL.read_text(encoding="utf-8"))


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace every view of ``views.sql`` in the connection's current database."""
    for statement in con.extract_statements(views_sql()):
        con.execute(statement)


def view_names() -> list[str]:
    """The views ``views.sql`` defines, in order."""
    return re.findall(r"CREATE OR REPLACE VIEW (\w+)", views_sql())
