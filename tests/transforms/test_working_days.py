"""Working days: the calendar against the government's notices, the counting rules, properties.

The expected days below were checked by hand against the notices, independently of the
``holidays`` package and of the seed (the code under test builds the calendar from those two):

- Labour Code 2019, Art. 112 (fixed holidays: 1/1, Tết 5 days, 10/3 lunar, 30/4, 1/5, 2/9 and
  the day before or after it) and Art. 111(3) (a holiday on a weekly rest day is taken on the
  next working day).
- 2021: Tết Tân Sửu 10–16/2/2021 and Quốc khánh 2–5/9/2021, the Ministry of Labour's notice
  on Tết and National Day 2021 (reported by Hànộimới and VietnamNet, late 2020). No swaps.
- 2022: Tết Nhâm Dần 29/1–6/2/2022, Công văn 245/VPCP-KGVX of 11/1/2022; Quốc khánh 1–2/9.
  No swaps.
- 2023: Tết Quý Mão 20–26/1/2023, approved by Deputy Prime Minister Vũ Đức Đam on the
  Ministry of Labour's proposal; Hùng Kings (Saturday 29/4) and 30/4 (Sunday) taken on 2–3/5;
  Quốc khánh 1/9 and 2/9 (Saturday, taken on Monday 4/9). No swaps.
- 2024: Tết Giáp Thìn 8–14/2/2024 and Quốc khánh 31/8–3/9/2024, Công văn 8662/VPCP-KGVX of
  3/11/2023; swap 29/4 ↔ Saturday 4/5, Công văn 2450/VPCP-KGVX of 12/4/2024.
- 2025: Tết Ất Tỵ 25/1–2/2/2025 and swap 2/5 ↔ Saturday 26/4, Thông báo 6150/TB-BLĐTBXH
  (2024), carrying out Công văn 8726/VPCP-KGVX of 26/11/2024; Quốc khánh 30/8–2/9/2025.
- 2026: Tết Dương lịch swap 2/1 ↔ Saturday 10/1, Công văn 12729/VPCP-KGVX of 25/12/2025;
  Tết Bính Ngọ 16–20/2/2026 and Quốc khánh with swap 31/8 ↔ Saturday 22/8, Thông báo
  9441/TB-BNV of 16/10/2025; Hùng Kings on Sunday 26/4 taken on Monday 27/4; Ngày Văn hóa
  Việt Nam 24/11 (Resolution 80-NQ/TW, January 2026; the Labour Code amendment making it a
  paid holiday was still being drafted when this was written — if it is not enacted for
  2026, the seed gets a working_day row for 24/11/2026 and this list loses the day).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.working_days import WorkingCalendar, add_working_days, working_days_between
from warehouse.work_calendar import build_calendar, load_day_off_swaps, working_calendar


def d(text: str) -> date:
    return date.fromisoformat(text)


# Weekdays (Monday–Friday) on which offices are closed, per year, hand-checked (docstring).
WEEKDAYS_OFF: dict[int, set[str]] = {
    2021: {"2021-01-01", "2021-02-10", "2021-02-11", "2021-02-12", "2021-02-15", "2021-02-16",
           "2021-04-21", "2021-04-30", "2021-05-03", "2021-09-02", "2021-09-03"},
    2022: {"2022-01-03", "2022-01-31", "2022-02-01", "2022-02-02", "2022-02-03", "2022-02-04",
           "2022-04-11", "2022-05-02", "2022-05-03", "2022-09-01", "2022-09-02"},
    2023: {"2023-01-02", "2023-01-20", "2023-01-23", "2023-01-24", "2023-01-25", "2023-01-26",
           "2023-05-01", "2023-05-02", "2023-05-03", "2023-09-01", "2023-09-04"},
    2024: {"2024-01-01", "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14",
           "2024-04-18", "2024-04-29", "2024-04-30", "2024-05-01", "2024-09-02", "2024-09-03"},
    2025: {"2025-01-01", "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",
           "2025-04-07", "2025-04-30", "2025-05-01", "2025-05-02", "2025-09-01", "2025-09-02"},
    2026: {"2026-01-01", "2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19",
           "2026-02-20", "2026-04-27", "2026-04-30", "2026-05-01", "2026-08-31", "2026-09-01",
           "2026-09-02", "2026-11-24"},
}
# Saturdays worked in exchange for a swapped day off.
MAKEUP_SATURDAYS: dict[int, set[str]] = {
    2021: set(), 2022: set(), 2023: set(),
    2024: {"2024-05-04"}, 2025: {"2025-04-26"}, 2026: {"2026-01-10", "2026-08-22"},
}
# Working days in each year, counted by hand: weekdays − weekdays off + make-up Saturdays
# (2021: 261 − 11; 2022: 260 − 11; 2023: 260 − 11; 2024: 262 − 12 + 1; 2025: 261 − 12 + 1;
# 2026: 261 − 14 + 2).
WORKING_DAYS_IN_YEAR = {2021: 250, 2022: 249, 2023: 249, 2024: 251, 2025: 250, 2026: 249}


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return build_calendar(2020, 2027, load_day_off_swaps())


@pytest.fixture(scope="module")
def cal(frame: pl.DataFrame) -> WorkingCalendar:
    return working_calendar(frame)


def _days(values: list[str | None]) -> pl.Series:
    return pl.Series([d(v) if v else None for v in values], dtype=pl.Date)


@pytest.mark.parametrize("year", sorted(WEEKDAYS_OFF))
def test_days_off_and_makeup_saturdays_match_the_notices(frame: pl.DataFrame, year: int) -> None:
    days = frame.filter(pl.col("date").dt.year() == year)
    weekdays_off = days.filter(~pl.col("is_working_day") & (pl.col("iso_weekday") <= 5))
    saturdays_on = days.filter(pl.col("is_working_day") & (pl.col("iso_weekday") >= 6))
    assert {str(x) for x in weekdays_off["date"]} == WEEKDAYS_OFF[year]
    assert {str(x) for x in saturdays_on["date"]} == MAKEUP_SATURDAYS[year]
    # Every day off on a weekday is named, by the package or by a swap.
    assert weekdays_off.filter(pl.col("holiday_name").is_null() & pl.col("swap_kind").is_null()).height == 0


@pytest.mark.parametrize("year", sorted(WORKING_DAYS_IN_YEAR))
def test_working_days_in_each_year(cal: WorkingCalendar, year: int) -> None:
    count = working_days_between(_days([f"{year - 1}-12-31"]), _days([f"{year}-12-31"]), cal)
    assert count.item() == WORKING_DAYS_IN_YEAR[year]


def test_swaps_cite_their_decision(frame: pl.DataFrame) -> None:
    swaps = frame.filter(pl.col("swap_kind").is_not_null())
    assert swaps.height == 8
    notes = " ".join(swaps["swap_note"].to_list())
    for decision in ("2450/VPCP-KGVX", "6150/TB-BLĐTBXH", "12729/VPCP-KGVX", "9441/TB-BNV"):
        assert decision in notes


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        ("2021-02-09", 3, "2021-02-19"),  # across Tết Tân Sửu (10–16/2)
        ("2024-04-26", 2, "2024-05-03"),  # across 27/4–1/5/2024 (29/4 swapped)
        ("2024-04-26", 3, "2024-05-04"),  # ... the make-up Saturday counts
        ("2025-04-26", 0, "2025-04-26"),  # received on a make-up Saturday: due the same day
        ("2025-04-26", 1, "2025-04-28"),
        ("2025-12-31", 1, "2026-01-05"),  # 1/1 holiday, 2/1 swapped, weekend
        ("2025-12-31", 6, "2026-01-10"),  # ... Saturday 10/1 is worked
        ("2026-02-22", 0, "2026-02-23"),  # received on a Sunday: counted from Monday
        ("2026-02-14", 5, "2026-03-02"),  # Saturday before Tết Bính Ngọ (16–20/2): from Mon 23/2
        ("2023-04-28", 1, "2023-05-04"),  # Hùng Kings and 30/4 on the weekend, taken 2–3/5
    ],
)
def test_statutory_due_days(cal: WorkingCalendar, received: str, days: int, due: str) -> None:
    assert add_working_days(_days([received]), days, cal).item() == d(due)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        ("2024-03-12", "2024-03-12", 0),  # received and finished the same day
        ("2024-03-15", "2024-03-18", 1),  # Friday to Monday
        ("2024-03-16", "2024-03-18", 1),  # Saturday to Monday
        ("2024-03-16", "2024-03-17", 0),  # within a weekend
        ("2024-02-07", "2024-02-15", 1),  # across Tết Giáp Thìn
        ("2024-02-15", "2024-02-07", -1),  # signed
    ],
)
def test_working_days_between_rules(cal: WorkingCalendar, start: str, end: str, count: int) -> None:
    assert working_days_between(_days([start]), _days([end]), cal).item() == count


def test_outside_the_calendar_or_missing_gives_null(cal: WorkingCalendar) -> None:
    days = _days(["2019-06-03", None, "2028-01-03", "2024-03-12"])
    assert working_days_between(days, _days(["2024-03-13"] * 4), cal).to_list() == [None, None, None, 1]
    assert add_working_days(days, 1, cal).to_list() == [None, None, None, d("2024-03-13")]
    assert add_working_days(_days(["2024-03-12"]), -1, cal).to_list() == [None]
    assert add_working_days(_days(["2027-12-30"]), 5, cal).to_list() == [None]  # past the end


def test_a_calendar_with_a_gap_is_refused() -> None:
    frame = pl.DataFrame({"date": _days(["2024-01-01", "2024-01-03"]), "is_working_day": [True, True]})
    with pytest.raises(ValueError, match="every day once"):
        WorkingCalendar.from_frame(frame)


def test_from_rules_agrees_with_the_built_calendar(cal: WorkingCalendar) -> None:
    off = {d(x) for year in WEEKDAYS_OFF.values() for x in year}
    extra = {d(x) for year in MAKEUP_SATURDAYS.values() for x in year}
    by_hand = WorkingCalendar.from_rules(date(2021, 1, 1), date(2026, 12, 31), off, extra)
    built = cal.working.slice((date(2021, 1, 1) - cal.first).days, len(by_hand.working))
    assert built.equals(by_hand.working.alias(built.name))


DAY = st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31))


def _between(cal: WorkingCalendar, a: date, b: date) -> int:
    return working_days_between(_days([str(a)]), _days([str(b)]), cal).item()


@settings(max_examples=150, deadline=None)
@given(DAY, DAY, DAY)
def test_counts_add_up_over_splits(cal: WorkingCalendar, a: date, b: date, c: date) -> None:
    assert _between(cal, a, b) + _between(cal, b, c) == _between(cal, a, c)


@settings(max_examples=150, deadline=None)
@given(DAY, DAY, DAY)
def test_counts_are_monotone(cal: WorkingCalendar, a: date, b: date, c: date) -> None:
    a, b, c = sorted((a, b, c))
    assert _between(cal, a, b) <= _between(cal, a, c)  # a later end never counts fewer
    assert _between(cal, b, c) <= _between(cal, a, c)  # an earlier start never counts fewer


@settings(max_examples=150, deadline=None)
@given(DAY, st.integers(min_value=0, max_value=400))
def test_never_more_than_calendar_days(cal: WorkingCalendar, a: date, span: int) -> None:
    b = min(a + timedelta(days=span), date(2027, 12, 31))
    assert 0 <= _between(cal, a, b) <= (b - a).days


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 6, 30)), st.integers(0, 60))
def test_the_due_day_is_a_working_day_n_working_days_on(cal: WorkingCalendar, a: date, n: int) -> None:
    due = add_working_days(_days([str(a)]), n, cal).item()
    start = add_working_days(_days([str(a)]), 0, cal).item()  # first working day on or after a
    assert due >= a and _between(cal, start, due) == n
    is_working = pl.DataFrame({"x": [due]}).select(cal.is_working_day(pl.col("x"))).item()
    assert is_working
