"""Reference data rebuilt at every writer start: the working calendar and the procedure catalogue.

``dim_calendar`` comes from the ``holidays`` package and the announced swaps
(``warehouse.work_calendar``); ``dim_procedure`` from the procedure catalogue CSV named by
``[reference] procedures_csv`` (``warehouse.procedures``; the embedded simulated catalogue when
unset). Both are small REPLACE tables, like ``dim_admin_unit``. Transforms get them through
:func:`transform_reference`, read back from the warehouse, so a load checks due dates against
exactly the tables analysts query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse.procedures import DIM_PROCEDURE, PROCEDURES_CSV, read_procedure_catalogue
from warehouse.work_calendar import DIM_CALENDAR, default_calendar, working_calendar

if TYPE_CHECKING:
    from pathlib import Path

    import duckdb

    from cchc.config import Settings


def procedures_csv(settings: Settings) -> Path:
    """The configured procedure catalogue, else the embedded default."""
    return settings.reference.procedures_path or PROCEDURES_CSV


def write_reference_tables(wh: Any) -> None:
    """Rebuild ``dim_calendar`` and ``dim_procedure`` in the writer ``wh`` (inside its open
    transaction) when their content changed. A bad catalogue or swaps file stops here, naming file, row and field."""
    wh.write_seed(DIM_CALENDAR, default_calendar())
    wh.write_seed(DIM_PROCEDURE, read_procedure_catalogue(procedures_csv(wh.settings)))


def transform_reference(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """``calendar`` and ``procedures`` for ``transforms.context.TransformContext``, read from
    the warehouse (None when a table is empty: the statutory check is then skipped)."""
    days = con.execute("SELECT date, is_working_day FROM dim_calendar ORDER BY date").pl()
    procedures = con.execute(
        "SELECT procedure_code, statutory_days FROM dim_procedure ORDER BY procedure_code"
    ).pl()
    return {
        "calendar": working_calendar(days) if days.height else None,
        "procedures": procedures if procedures.height else None,
    }
