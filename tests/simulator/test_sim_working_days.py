"""The simulator's working days: swaps and make-up Saturdays, the catalogue CSV, moved due dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from simulator import calendar as cal_
from simulator.cli import app
from simulator.testing import simulated_dataset

SMALL = {"scenario": "scale", "dossiers": 15_000, "seed": 4, "start_year": 2024, "years": 2}


def test_swapped_days_off_and_makeup_saturdays() -> None:
    cal = cal_.business_calendar(2024, 2026)
    days = cal.business_days(cal_.day_of("2024-01-01"), cal_.day_of("2026-12-31"))
    for worked in ("2024-05-04", "2025-04-26", "2026-01-10", "2026-08-22"):
        assert cal_.day_of(worked) in days
    for off in ("2024-04-29", "2025-05-02", "2026-01-02", "2026-08-31", "2026-02-16"):
        assert cal_.day_of(off) not in days
    # Friday 26/4/2024 + 3 working days: 29/4–1/5 off, then 2/5, 3/5 and Saturday 4/5.
    assert cal.offset(cal_.day_of("2024-04-26"), 3) == cal_.day_of("2024-05-04")


def test_catalogue_command_writes_the_embedded_default(tmp_path: Path) -> None:
    out = tmp_path / "tthc.csv"
    result = CliRunner().invoke(app, ["catalogue", "--out", str(out)])
    assert result.exit_code == 0, result.output
    seed = Path(__file__).resolve().parents[2] / "warehouse" / "seeds" / "dim_procedure.csv"
    assert out.read_bytes() == seed.read_bytes()


def test_moved_due_dates_are_counted_and_keep_the_totals() -> None:
    clean = simulated_dataset(dirt="clean", **SMALL)
    moved = simulated_dataset(dirt="clean", off_statute_due=0.02, **SMALL)
    codes = moved.manifest.codes("off_statute_due")
    assert len(codes) == moved.manifest.dossiers("off_statute_due") == round(0.02 * clean.truth.height)
    assert moved.truth.equals(clean.truth)  # the truth keeps the statutory due date
    emitted = moved.items.join(clean.items.select("MaHoSo", pl.col("NgayHenTra").alias("statutory")), on="MaHoSo")
    changed = emitted.filter(pl.col("NgayHenTra") != pl.col("statutory"))
    assert set(changed["MaHoSo"].to_list()) == codes
    old, new = (cal_.local_day(changed[c].to_numpy()) for c in ("statutory", "NgayHenTra"))
    shift = cal_.business_calendar(2024, 2025).count(old + 1, new + 1)  # working days after old, up to new
    assert set(shift.tolist()) == {1, 2, 3}
    before, after = clean.expected_report06(), moved.expected_report06()
    same = ("c3", "c4", "c5", "c6", "c7", "c10", "c11")
    assert {k: after["total"][k] for k in same} == {k: before["total"][k] for k in same}
    assert after["total"]["c8"] + after["total"]["c9"] == before["total"]["c8"] + before["total"]["c9"]
    assert np.all(changed["_idx"].to_numpy() >= 0) and clean.period[0] == date(2024, 1, 1)
