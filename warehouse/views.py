"""The analysts' views (``views.sql``), recreated in the writer after every schema check.

They live in the private file and therefore in every published snapshot. The SQL is in its own
file so that analysts can read it, and ``COMMENT ON VIEW`` carries each view's explanation into
``duckdb_views()``.

Coded values a source package declares in its vocabulary module (``sources/<source>/vocabulary.py``)
are not copied into the SQL by hand. ``views.sql`` writes

- ``{{label <source>.<TABLE> <expression>}}``, e.g. ``{{label onestop.STATUS_LABELS d.status}}``:
  :func:`views_sql` expands it into ``CASE <expression> WHEN <code> THEN '<label>' … END``
  whose label is the vocabulary's first (display) label of each code, so a view can never show
  a label the vocabulary does not have;
- ``{{codes <source>.<GROUP>}}``, e.g. ``{{codes onestop.FINISHED}}``: the group's codes as a SQL
  list for ``IN``, ``(9, 10)``, so a view never writes a status list of its own.

Integer codes are written as numbers, text codes as string literals. The short names of the
first e-document views (``eoffice_status``, ``eoffice_electronic`` …, :data:`LABELS`,
:data:`CODE_LISTS`) are still accepted. Other SQL built in Python (form 06, the console) runs
through :func:`expand` too.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sources.eoffice.vocabulary import (
    DIRECTION_LABELS,
    ELECTRONIC_CODES,
    SECRECY_LABELS,
    STATUS_LABELS,
    TRANSPORT_LABELS,
    URGENCY_LABELS,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import duckdb

VIEWS_SQL = Path(__file__).with_name("views.sql")

# Short names of e-document vocabularies (the first placeholders): name -> code -> labels.
LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "eoffice_direction": DIRECTION_LABELS,
    "eoffice_secrecy": SECRECY_LABELS,
    "eoffice_urgency": URGENCY_LABELS,
    "eoffice_status": STATUS_LABELS,
    "eoffice_transport": TRANSPORT_LABELS,
}
# Short names of e-document code lists: name -> codes.
CODE_LISTS: dict[str, tuple[str, ...]] = {"eoffice_electronic": ELECTRONIC_CODES}

_NAME = r"\w+(?:\.\w+)?"
_LABEL = re.compile(rf"\{{\{{label ({_NAME}) ([\w.$]+)\}}\}}")
_CODES = re.compile(rf"\{{\{{codes ({_NAME})\}}\}}")
# A placeholder left after expansion (a typo); "{{label <vocabulary> …}}" in a comment is prose.
_MALFORMED = re.compile(r"\{\{\s*(?:label|codes)\b(?!\s*<)")


def declared(name: str) -> Any:
    """The object a placeholder names: ``onestop.FINISHED`` is ``FINISHED`` of
    ``sources.onestop.vocabulary``; a name without a dot is one of the short names."""
    if "." not in name:
        if name in LABELS:
            return LABELS[name]
        if name in CODE_LISTS:
            return CODE_LISTS[name]
        raise KeyError(f"views.sql names {name!r}: not a declared vocabulary or code list")
    source, attribute = name.split(".")
    try:
        module = importlib.import_module(f"sources.{source}.vocabulary")
    except ModuleNotFoundError as e:
        raise KeyError(f"views.sql names {name!r}: no module sources.{source}.vocabulary") from e
    if not hasattr(module, attribute):
        raise KeyError(f"views.sql names {name!r}: sources.{source}.vocabulary has no {attribute}")
    return getattr(module, attribute)


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_literal(code: Any) -> str:
    """A code as SQL: an integer as a number, text as a string literal."""
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    if isinstance(code, str):
        return sql_text(code)
    raise TypeError(f"a code must be an integer or text, not {code!r}")


def label_case(vocabulary: str, expression: str) -> str:
    """``CASE <expression> WHEN <code> THEN '<first label>' … END`` from a declared vocabulary."""
    labels: Mapping[Any, Sequence[str]] = declared(vocabulary)
    if not isinstance(labels, dict):
        raise TypeError(f"{vocabulary!r} is not a vocabulary (code -> labels)")
    whens = " ".join(f"WHEN {sql_literal(code)} THEN {sql_text(names[0])}"
                     for code, names in labels.items())  # fmt: skip
    return f"CASE {expression} {whens} END"


def code_list(name: str) -> str:
    """``(9, 10)``, ``('DienTu', 'CaHai')``: a declared code group as a SQL list for ``IN``."""
    codes = declared(name)
    if not isinstance(codes, tuple) or not codes:
        raise TypeError(f"{name!r} is not a declared code group (a non-empty tuple of codes)")
    return "(" + ", ".join(sql_literal(code) for code in codes) + ")"


def expand(sql: str) -> str:
    """Replace the ``{{dossier_counts …}}``, ``{{label …}}`` and ``{{codes …}}`` placeholders
    of ``sql``."""
    from warehouse.dossier_counts import expand_placeholders

    sql = expand_placeholders(sql)
    sql = _LABEL.sub(lambda m: label_case(m.group(1), m.group(2)), sql)
    sql = _CODES.sub(lambda m: code_list(m.group(1)), sql)
    left = _MALFORMED.search(sql)
    if left:
        raise ValueError(f"malformed placeholder: {sql[left.start() :][:80]!r}")
    return sql


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
