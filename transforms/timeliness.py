"""The current timeliness class of a dossier, by calendar day in local time.

Form 06 (docs/figures.md §4) compares dates by calendar day: finished before, on or after the due
day. This column gives each dossier its class as of the load, so analysts can count without
re-deriving the rules; the form-06 report itself is computed from the dates for any past period.

Rules, first match wins:

1. status 1 or 3 (never received: submitted online but not accepted, or refused) → ``not_received``;
2. status 7 (withdrawn at the applicant's request) → ``withdrawn`` (form 06 counts it resolved on
   time, but it is not a finished case and must not inflate the on-time rate);
3. no due date → ``no_due_date``: the vendor report counts such dossiers as on time, a silent
   inflation this class makes visible instead (docs/figures.md §4);
4. status 9 or 10 with a finish date → ``before_due`` / ``on_due`` / ``after_due`` comparing the
   finish day with the due day; status 9 or 10 *without* a finish date cannot be classed → null
   (validation reports it);
5. any other known status is in progress: ``open_overdue`` when the due day is before ``as_of``,
   else ``open_within``; waiting for the applicant (5) or fees (6) and suspended (8) never count
   as overdue, as in the official rule (the clock is stopped);
6. unknown status → null.

The status groups (NOT_RECEIVED, WITHDRAWN, FINISHED, IN_PROGRESS, WAITING) are declared once in
``sources.onestop.vocabulary``, shared with the views and form 06.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sources.onestop.vocabulary import FINISHED, IN_PROGRESS, NOT_RECEIVED, WAITING, WITHDRAWN

CLASSES = (
    "before_due",
    "on_due",
    "after_due",
    "open_within",
    "open_overdue",
    "no_due_date",
    "not_received",
    "withdrawn",
)


def timeliness_expr(
    status: pl.Expr, due_date: pl.Expr, finished_date: pl.Expr, as_of: date
) -> pl.Expr:
    """The class (see the module docstring) from status (1–10), due and finish days."""
    return (
        pl.when(status.is_in(NOT_RECEIVED))
        .then(pl.lit("not_received"))
        .when(status.is_in(WITHDRAWN))
        .then(pl.lit("withdrawn"))
        .when(status.is_in(FINISHED + IN_PROGRESS) & due_date.is_null())
        .then(pl.lit("no_due_date"))
        .when(status.is_in(FINISHED) & finished_date.is_not_null())
        .then(
            pl.when(finished_date < due_date)
            .then(pl.lit("before_due"))
            .when(finished_date == due_date)
            .then(pl.lit("on_due"))
            .otherwise(pl.lit("after_due"))
        )
        .when(status.is_in(WAITING))
        .then(pl.lit("open_within"))
        .when(status.is_in(IN_PROGRESS))
        .then(
            pl.when(due_date < pl.lit(as_of))
            .then(pl.lit("open_overdue"))
            .otherwise(pl.lit("open_within"))
        )
        .otherwise(pl.lit(None, dtype=pl.String))
    )
