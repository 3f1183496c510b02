"""The analysts' views (``views.sql``), recreated in the writer after every schema check.

They live in the private file and therefore in every published snapshot. The SQL is in its own
file so that analysts can read it, and ``COMMENT ON VIEW`` carries each view's explanation into
``duckdb_views()``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb

VIEWS_SQL = Path(__file__).with_name("views.sql")


@cache
def views_sql() -> str:
    return VIEWS_SQL.read_text(encoding="utf-8")


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create or replace every view of ``views.sql`` in the connection's current database."""
    for statement in con.extract_statements(views_sql()):
        con.execute(statement)


def view_names() -> list[str]:
    """The views ``views.sql`` defines, in order."""
    return re.findall(r"CREATE OR REPLACE VIEW (\w+)", views_sql())
