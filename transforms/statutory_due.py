"""Does a dossier's due date say what the law says? Statutory handling time in working days.

Each procedure has a statutory handling time in working days (``dim_procedure``, from the
province's procedure catalogue). Counted from reception by the working-day rule
(``transforms.working_days``: the n-th working day after the first working day on or after the
reception day), it gives the **statutory due day**. The source's own due date (NgayHenTra) is
what timeliness is judged against, always; this only says whether the two agree:

- ``matches``: the due date is the statutory due day;
- ``later``: it lies after it: the appointment gives the office more time than the law does
  (and would hide lateness), a warning;
- ``earlier``: before it (a unit that promises less time than the law allows, or a mistake),
  a warning;
- null: nothing to compare (no due date, no reception day, a procedure not in the catalogue,
  or a day outside the calendar).
"""

from __future__ import annotations

import polars as pl

from transforms.working_days import WorkingCalendar

CHECK_VALUES = ("matches", "later", "earlier")


def statutory_due_columns(
    frame: pl.DataFrame, procedures: pl.DataFrame | None, calendar: WorkingCalendar | None
) -> pl.DataFrame:
    """``frame`` (with ``procedure_code``, ``received_date``, ``due_date``) plus
    ``statutory_days``, ``statutory_due_date`` and ``due_date_check``; all null when the
    catalogue or the calendar is not given."""
    if procedures is None or calendar is None or procedures.height == 0:
        return frame.with_columns(
            pl.lit(None, dtype=pl.Int16).alias("statutory_days"),
            pl.lit(None, dtype=pl.Date).alias("statutory_due_date"),
            pl.lit(None, dtype=pl.String).alias("due_date_check"),
        )
    days = pl.col("procedure_code").replace_strict(
        procedures["procedure_code"], procedures["statutory_days"], default=None, return_dtype=pl.Int16
    )
    out = frame.with_columns(days.alias("statutory_days"))
    out = out.with_columns(
        calendar.add_working_days(pl.col("received_date"), pl.col("statutory_days")).alias(
            "statutory_due_date"
        )
    )
    due, statutory = pl.col("due_date"), pl.col("statutory_due_date")
    return out.with_columns(
        pl.when(due.is_null() | statutory.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(due == statutory)
        .then(pl.lit("matches"))
        .when(due > statutory)
        .then(pl.lit("later"))
        .otherwise(pl.lit("earlier"))
        .alias("due_date_check")
    )
