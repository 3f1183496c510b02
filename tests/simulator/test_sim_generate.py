"""The generator: determinism, the krongpa calibration, and realistic shapes (traps included)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.dataset import build_dataset
from simulator.generate import FIN, KRONGPA_FIGURES, generate
from simulator.options import SimOptions
from simulator.report06 import report06
from simulator.testing import simulated_dataset

PERIOD = (date(2021, 1, 1), date(2022, 12, 31))
LOCAL = pl.duration(hours=7)


def _local_date(col: str) -> pl.Expr:
    return (pl.col(col) + LOCAL).dt.date()


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate(SimOptions(scenario="scale", dossiers=20_000, seed=5))
    b = generate(SimOptions(scenario="scale", dossiers=20_000, seed=5))
    c = generate(SimOptions(scenario="scale", dossiers=20_000, seed=6))
    assert a.full.equals(b.full) and np.array_equal(a.times, b.times)
    assert not a.full.equals(c.full)


def test_emitted_items_are_deterministic_too() -> None:
    opts = SimOptions(scenario="scale", dossiers=5_000, seed=9)
    a, b = build_dataset(opts), build_dataset(opts)
    assert a.items.equals(b.items)
    assert a.manifest.entries.equals(b.manifest.entries)


def test_krongpa_vendor_report_gives_the_published_figures_exactly() -> None:
    ds = simulated_dataset()
    total = ds.expected_report06(*PERIOD)["total"]
    assert {k: total[k] for k in ("c3", "c4", "c5", "c6", "c7", "c10", "c11")} == {
        k: v for k, v in KRONGPA_FIGURES.items() if k != "c8+c9"}
    assert total["c8"] + total["c9"] == KRONGPA_FIGURES["c8+c9"] == 85_928
    # The clean generated truth (no missing due dates) gives the same totals.
    clean = report06(ds.generated.full, *PERIOD, "unit", ds.generated.units)["total"]
    assert clean["c3"] == 87_221 and clean["c10"] == 1_293 and clean["c8"] + clean["c9"] == 85_928


def test_report_rows_add_up_to_the_total_and_cover_every_unit() -> None:
    ds = simulated_dataset()
    report = ds.expected_report06(*PERIOD, by="unit")
    assert [r["code"] for r in report["rows"]][:2] == ["637", "24076"] and len(report["rows"]) == 15
    for col in ("c3", "c4", "c7", "c10"):
        assert sum(r[col] for r in report["rows"]) == report["total"][col]
    by_field = ds.expected_report06(*PERIOD, by="field")
    assert {r["name"] for r in by_field["rows"]} >= {"Hộ tịch", "Chứng thực", "Đất đai", "Tư pháp"}
    assert by_field["total"] == report["total"]


@settings(max_examples=15, deadline=None)
@given(st.dates(date(2020, 12, 2), date(2022, 12, 31)), st.integers(0, 200))
def test_report_identities_hold_for_any_period(start: date, days: int) -> None:
    ds = simulated_dataset()
    end = min(date(2022, 12, 31), date.fromordinal(start.toordinal() + days))
    t = ds.expected_report06(start, end)["total"]
    assert t["c3"] == t["c4"] + t["c5"] + t["c6"] == t["c7"] + t["c11"]
    assert t["c7"] == t["c8"] + t["c9"] + t["c10"] and t["c11"] == t["c12"] + t["c13"]
    # A period's carried-over dossiers are the previous period's open ones.
    prev = ds.expected_report06(date(2020, 11, 1), date.fromordinal(start.toordinal() - 1))["total"]
    assert t["c6"] == prev["c11"]


def test_utc_dates_would_miscount_the_early_online_receptions() -> None:
    """Receptions before 07:00 local are the previous day in UTC: a reader that forgets the
    time zone counts the 1 January 2021 ones as carried over from 2020."""
    truth = simulated_dataset().truth
    received = truth.filter(pl.col("NgayTiepNhan").is_not_null())
    early = received.filter(_local_date("NgayTiepNhan") != pl.col("NgayTiepNhan").dt.date())
    assert early.height > 30 and set(early["KenhThucHien"].unique()) == {"2"}
    new_year = early.filter(_local_date("NgayTiepNhan") == date(2021, 1, 1))
    assert new_year.height >= 5


def test_counter_receptions_fall_on_working_days_in_office_hours() -> None:
    truth = simulated_dataset().truth.filter(pl.col("KenhThucHien") == "1")
    local = truth.select((pl.col("NgayTiepNhan") + LOCAL).alias("t"))
    minute = local["t"].dt.hour().cast(pl.Int32) * 60 + local["t"].dt.minute().cast(pl.Int32)
    assert minute.min() >= 7 * 60 and minute.max() < 17 * 60
    assert local["t"].dt.weekday().max() <= 5
    assert local.filter(pl.col("t").dt.date() == date(2021, 2, 11)).height == 0  # Tết


def test_dossier_codes_are_unit_day_sequence_and_unique() -> None:
    truth = simulated_dataset().truth
    assert truth["MaHoSo"].n_unique() == truth.height
    parts = truth.select(
        pl.col("MaHoSo").str.extract(r"^(.+)-(\d{6})-(\d{4})$", 1).alias("unit"),
        pl.col("MaHoSo").str.extract(r"-(\d{6})-", 1).alias("day"),
        pl.col("MaHoSo").str.extract(r"-(\d{4})$", 1).cast(pl.Int32).alias("seq"),
        pl.col("MaDonVi"),
        pl.coalesce(_local_date("NgayTiepNhan"), _local_date("NgayNopHoSo")).dt.strftime("%y%m%d").alias("recv"),
    )
    assert (parts["unit"] == parts["MaDonVi"]).all() and (parts["day"] == parts["recv"]).all()
    per_day = parts.group_by("unit", "day").agg(pl.col("seq").min().alias("lo"), pl.col("seq").max().alias("hi"),
                                                pl.len().alias("n"))
    assert (per_day["lo"] == 1).all() and (per_day["hi"] == per_day["n"]).all()


def test_versions_are_ordered_and_statuses_realistic() -> None:
    gen = simulated_dataset().generated
    t = np.where(gen.times >= 0, gen.times, np.iinfo(np.int64).max)
    present = gen.times >= 0
    for j in range(1, gen.times.shape[1]):
        both = present[:, j] & present[:, :j].any(axis=1)
        prev = np.where(present[:, :j], gen.times[:, :j], -1).max(axis=1)
        assert (t[both, j] >= prev[both] + 60).all()
    final = gen.full["TrangThaiHoSo"].value_counts()
    counts = dict(zip(final["TrangThaiHoSo"].to_list(), final["count"].to_list(), strict=True))
    assert counts[1] + counts[3] >= 200 and counts[7] > 100 and counts[10] > counts[9] > 0
    assert (gen.times[:, FIN] >= 0).sum() > 87_000


def test_realistic_codes_fields_and_people() -> None:
    truth = simulated_dataset().truth
    codes = truth["MaTTHC"].unique()
    assert codes.str.contains(r"^\d\.\d{6}$").any() and codes.str.contains(r"\.H21$").any()
    assert codes.str.contains(r"^\d\.\d{5}0$").any()  # trailing zero: the type-inference trap
    assert set(truth["MucDo"].unique()) == {"2", "3", "4"}
    assert set(truth["LoaiDoiTuong"].unique()) == {"CongDan", "DoanhNghiep", "ToChuc"}
    assert truth["SoGiayTo"].drop_nulls().str.contains(r"^\d{12}$").all()
    online = truth.filter(pl.col("KenhThucHien") == "2")
    assert set(online["MucDo"].unique()) <= {"3", "4"}
    assert truth["ChuHoSo"].str.contains("Nguyễn").any() and truth["ChuHoSo"].str.contains("Ksor").any()
    assert set(truth["TrangThaiSoHoa"].unique()) == {0, 1, 2, 3}


def test_nothing_happens_in_2023_or_later() -> None:
    """Every event and version lies before 2023 (local); only appointments (due dates) of
    dossiers received in the last weeks of 2022 may fall in 2023."""
    truth = simulated_dataset().truth
    limit = pl.datetime(2022, 12, 31, 17, time_zone="UTC")  # 2023-01-01 00:00 local
    events = pl.col("^Ngay.*$").exclude("NgayHenTra")
    assert truth.select((pl.max_horizontal(events) < limit).all()).item()
    late_due = truth.filter(pl.col("NgayHenTra") >= limit)
    assert late_due.select((pl.col("NgayTiepNhan") >= pl.datetime(2022, 10, 1, time_zone="UTC")).all()).item()


def test_scale_scenario_shapes() -> None:
    ds = simulated_dataset(scenario="scale", dossiers=30_000, units=20, years=3, seed=3)
    truth = ds.truth
    assert truth.height == 30_000 and truth["MaDVHC"].n_unique() == 20
    years = truth["NgayTiepNhan"].drop_nulls().dt.year().unique().sort().to_list()
    assert years[0] == 2021 and years[-1] in (2023, 2024)
    t = ds.expected_report06(date(2021, 1, 1), date(2023, 12, 31))["total"]
    assert t["c3"] == t["c7"] + t["c11"] and t["c10"] > 0
