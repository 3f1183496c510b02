"""Current timeliness class by calendar day (warehouse/tables.py, ``timeliness``)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from transforms.timeliness import CLASSES, timeliness_expr

AS_OF = date(2021, 3, 20)
D = date


@pytest.mark.parametrize(
    ("status", "due", "finished", "expected"),
    [
        (10, D(2021, 3, 17), D(2021, 3, 16), "before_due"),
        (9, D(2021, 3, 17), D(2021, 3, 17), "on_due"),
        (10, D(2021, 3, 17), D(2021, 3, 18), "after_due"),
        (7, D(2021, 3, 17), None, "withdrawn"),
        (7, None, None, "withdrawn"),
        (1, None, None, "not_received"),
        (3, D(2021, 3, 17), None, "not_received"),
        (10, None, D(2021, 3, 16), "no_due_date"),  # the vendor counts it on time: flag it
        (4, None, None, "no_due_date"),
        (4, D(2021, 3, 20), None, "open_within"),  # due today: not yet overdue
        (4, D(2021, 3, 19), None, "open_overdue"),
        (2, D(2021, 3, 25), None, "open_within"),
        (5, D(2021, 3, 1), None, "open_within"),  # waiting for the applicant: clock stopped
        (8, D(2021, 3, 1), None, "open_within"),  # suspended
        (6, D(2021, 3, 1), None, "open_within"),  # waiting for fees
        (10, D(2021, 3, 17), None, None),  # finished without a finish date: cannot be classed
        (None, D(2021, 3, 17), None, None),
        (12, D(2021, 3, 17), None, None),
    ],
)
def test_classes(
    status: int | None, due: date | None, finished: date | None, expected: str | None
) -> None:
    df = pl.DataFrame(
        {"status": [status], "due": [due], "finished": [finished]},
        schema={"status": pl.Int8, "due": pl.Date, "finished": pl.Date},
    )
    got = df.select(
        timeliness_expr(pl.col("status"), pl.col("due"), pl.col("finished"), AS_OF)
    ).item()
    assert got == expected
    assert got is None or got in CLASSES
