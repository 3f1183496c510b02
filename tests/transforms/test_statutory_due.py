"""The statutory due day of each dossier, and the warning when the source's due date disagrees.

The simulator sets due dates with its own calendar (simulator/calendar.py, transcribed from the
notices); the pipeline counts with dim_calendar (holidays package + seed). The two must agree
on every dossier except those the simulator's ``off_statute_due`` dirt moved on purpose.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from simulator.api import api_items
from simulator.testing import simulated_dataset
from transforms.onestop_dossiers import to_core
from transforms.statutory_due import statutory_due_columns
from transforms.working_days import WorkingCalendar
from warehouse.procedures import read_procedure_catalogue
from warehouse.seeds import load_admin_units
from warehouse.work_calendar import build_calendar, load_day_off_swaps, working_calendar


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return working_calendar(build_calendar(2023, 2027, load_day_off_swaps()))


@pytest.fixture(scope="module")
def procedures() -> pl.DataFrame:
    return read_procedure_catalogue()


def test_due_dates_are_compared_with_the_statutory_day(cal: WorkingCalendar) -> None:
    frame = pl.DataFrame({
        "procedure_code": ["1.000001", "1.000001", "1.000001", "1.000002", "9.999999", "1.000001"],
        "received_date": [date(2024, 4, 26), date(2024, 4, 26), date(2024, 4, 26), date(2024, 4, 27),
                          date(2024, 4, 26), None],
        "due_date": [date(2024, 5, 4), date(2024, 5, 6), date(2024, 5, 3), date(2024, 5, 2),
                     date(2024, 5, 4), date(2024, 5, 4)],
    })
    catalogue = pl.DataFrame({"procedure_code": ["1.000001", "1.000002"], "statutory_days": [3, 0]},
                             schema_overrides={"statutory_days": pl.Int16})
    out = statutory_due_columns(frame, catalogue, cal)
    assert out["statutory_days"].to_list() == [3, 3, 3, 0, None, 3]
    # 26/4/2024 + 3 working days: 27/4–1/5 off (29/4 swapped), 2/5, 3/5, Saturday 4/5 worked.
    assert out["statutory_due_date"].to_list()[:4] == [date(2024, 5, 4)] * 3 + [date(2024, 5, 2)]
    assert out["due_date_check"].to_list() == ["matches", "later", "earlier", "matches", None, None]


def test_without_reference_data_the_columns_are_null() -> None:
    frame = pl.DataFrame({"procedure_code": ["1.000001"], "received_date": [date(2024, 1, 2)],
                          "due_date": [date(2024, 1, 5)]})
    out = statutory_due_columns(frame, None, None)
    assert out.select("statutory_days", "statutory_due_date", "due_date_check").row(0) == (None, None, None)


def _raw(items: pl.DataFrame) -> pl.DataFrame:
    """The simulator's API items as a RAW FRAME (text, as the pull writes it)."""
    raw = pl.DataFrame(api_items(items), infer_schema_length=None).with_columns(pl.all().cast(pl.String))
    return raw.with_columns(pl.lit("api").alias("_source"),
                            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_source_row"))


def test_the_warning_fires_exactly_for_the_dossiers_the_simulator_moved(
    cal: WorkingCalendar, procedures: pl.DataFrame
) -> None:
    # 2024–2025 receptions: the 29/4/2024, 2/5/2025 and 2/1/2026 swaps and their Saturdays.
    ds = simulated_dataset(scenario="scale", dossiers=12_000, seed=11, start_year=2024, years=2,
                           dirt="clean", off_statute_due=0.01)
    moved = ds.manifest.codes("off_statute_due")
    assert len(moved) == ds.manifest.dossiers("off_statute_due") == round(0.01 * ds.truth.height)
    core = to_core(_raw(ds.items), load_admin_units(), province_code="64", district_code="637",
                   as_of=date(2026, 6, 30), calendar=cal, procedures=procedures).frame
    checked = core.filter(pl.col("due_date_check").is_not_null())
    assert checked.height > 0.9 * core.filter(pl.col("due_date").is_not_null()).height
    flagged = checked.filter(pl.col("due_date_check") != "matches")
    assert set(flagged["dossier_code"].to_list()) == moved
    assert set(flagged["due_date_check"].to_list()) == {"later"}
    # Timeliness still follows the source's due date: the moved dossiers finished on time.
    assert set(flagged["timeliness"].to_list()) <= {"before_due", "on_due"}
