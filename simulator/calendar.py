"""Working days and local time for the simulated offices, on numpy arrays.

Times are integer seconds since the Unix epoch (UTC). Vietnam has kept UTC+07 without daylight
saving since 1975, so local day = (t + 7 h) // 1 day exactly, and numpy's business-day functions
do deadline arithmetic for millions of dossiers at once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

OFFSET_S = 7 * 3600
DAY_S = 86400

# Official days off for civil servants on weekdays (Tết and Hùng Kings follow the lunar calendar;
# holidays that fall on a weekend are compensated on a working day; some years the government
# swaps a working day for a Saturday). Transcribed by hand from the government's notices, year by
# year, independently of the pipeline's calendar (the pipeline checks its due dates against its
# own). Years outside this table get the fixed solar holidays only.
_LUNAR_AND_COMPENSATED: dict[int, tuple[str, ...]] = {
    2020: ("2020-01-23", "2020-01-24", "2020-01-27", "2020-01-28", "2020-01-29", "2020-04-02"),
    2021: ("2021-02-10", "2021-02-11", "2021-02-12", "2021-02-15", "2021-02-16", "2021-04-21",
           "2021-05-03", "2021-09-03"),
    2022: ("2022-01-03", "2022-01-31", "2022-02-01", "2022-02-02", "2022-02-03", "2022-02-04",
           "2022-04-11", "2022-05-02", "2022-05-03", "2022-09-01"),
    2023: ("2023-01-02", "2023-01-20", "2023-01-23", "2023-01-24", "2023-01-25", "2023-01-26",
           "2023-05-02", "2023-05-03", "2023-09-01", "2023-09-04"),
    # 29/4 swapped for Saturday 4/5 (Công văn 2450/VPCP-KGVX, 12/4/2024)
    2024: ("2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14", "2024-04-18",
           "2024-04-29", "2024-09-03"),
    # 2/5 swapped for Saturday 26/4 (Thông báo 6150/TB-BLĐTBXH, 2024)
    2025: ("2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-04-07",
           "2025-05-02", "2025-09-01"),
    # 2/1 swapped for Saturday 10/1 (Công văn 12729/VPCP-KGVX, 25/12/2025); Tết 16–20/2 and 31/8
    # swapped for Saturday 22/8 (Thông báo 9441/TB-BNV, 16/10/2025); Hùng Kings (Sunday 26/4) on
    # Monday 27/4; Vietnamese Culture Day 24/11 (Resolution 80-NQ/TW) from 2026
    2026: ("2026-01-02", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
           "2026-04-27", "2026-08-31", "2026-09-01", "2026-11-24"),
}
# Saturdays worked in exchange for a swapped day off (same notices as above).
_MAKEUP_SATURDAYS: dict[int, tuple[str, ...]] = {
    2024: ("2024-05-04",),
    2025: ("2025-04-26",),
    2026: ("2026-01-10", "2026-08-22"),
}
_SOLAR = ("01-01", "04-30", "05-01", "09-02")


class WorkCalendar:
    """Working days (Monday–Friday less Vietnam's public holidays, plus make-up Saturdays) as
    lookup tables, so that "n working days after" is one array index for a million dossiers."""

    def __init__(self, first_year: int, last_year: int) -> None:
        holidays = []
        for y in range(first_year, last_year + 1):
            holidays += [f"{y}-{md}" for md in _SOLAR]
            holidays += list(_LUNAR_AND_COMPENSATED.get(y, ()))
        self.d0 = day_of(f"{first_year}-01-01")
        days = np.arange(self.d0, day_of(f"{last_year}-12-31") + 1, dtype=np.int64)
        np_cal = np.busdaycalendar(weekmask="1111100", holidays=np.array(holidays, dtype="datetime64[D]"))
        makeup = [day_of(d) for y in range(first_year, last_year + 1) for d in _MAKEUP_SATURDAYS.get(y, ())]
        self.bdays = days[np.is_busday(as_dates(days), busdaycal=np_cal) | np.isin(days, makeup)]
        self._fwd = np.searchsorted(self.bdays, days, side="left")  # first working day >= day
        self._bwd = np.searchsorted(self.bdays, days, side="right") - 1  # last working day <= day
        self._last = len(self.bdays) - 1

    def _index(self, day: np.ndarray | int, roll: str) -> np.ndarray:
        i = np.asarray(day, dtype=np.int64) - self.d0
        if np.any(i < 0) or np.any(i >= len(self._fwd)):
            raise ValueError("day outside the working calendar's years")
        return (self._fwd if roll == "forward" else self._bwd)[i]

    def offset(self, day: np.ndarray | int, n: np.ndarray | int = 0, roll: str = "forward") -> np.ndarray:
        """The working day ``n`` working days after ``day`` (rolled to a working day first)."""
        return self.bdays[np.clip(self._index(day, roll) + n, 0, self._last)]

    def count(self, lo: np.ndarray, hi_exclusive: np.ndarray) -> np.ndarray:
        """Working days in [lo, hi_exclusive)."""
        return self._index(hi_exclusive, "forward") - self._index(lo, "forward")

    def business_days(self, first: int, last: int) -> np.ndarray:
        """All working days in [first, last] (days since epoch)."""
        return self.bdays[(self.bdays >= first) & (self.bdays <= last)]


@lru_cache(maxsize=8)
def business_calendar(first_year: int, last_year: int) -> WorkCalendar:
    """The working calendar for these years (one year of margin on either side)."""
    return WorkCalendar(first_year - 1, last_year + 1)


def local_day(t: np.ndarray) -> np.ndarray:
    """Local calendar day (days since epoch) of UTC instants."""
    return (t + OFFSET_S) // DAY_S


def local_minute(t: np.ndarray) -> np.ndarray:
    """Local minute of the day (0–1439) of UTC instants."""
    return ((t + OFFSET_S) % DAY_S) // 60


def instant(day: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """UTC seconds of a local day and minute of the day."""
    return day.astype(np.int64) * DAY_S + minute.astype(np.int64) * 60 - OFFSET_S


def as_dates(day: np.ndarray) -> np.ndarray:
    return np.asarray(day, dtype=np.int64).astype("datetime64[D]")


def as_days(dates: np.ndarray) -> np.ndarray:
    return np.asarray(dates, dtype="datetime64[D]").astype(np.int64)


def office_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Reception minutes within office hours (07:00–11:30, 13:30–17:00 local), busier mornings."""
    morning = rng.random(n) < 0.62
    m = np.where(morning, rng.integers(7 * 60, 11 * 60 + 30, n), rng.integers(13 * 60 + 30, 17 * 60, n))
    return m.astype(np.int64)


def day_of(date_iso: str) -> int:
    """Days since epoch of an ISO date."""
    return int(np.datetime64(date_iso, "D").astype(np.int64))
