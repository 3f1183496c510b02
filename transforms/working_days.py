"""Working days of Vietnamese public administration, as pure polars expressions.

Statutory handling times (thời hạn giải quyết) are counted in working days: Monday to Friday,
less public holidays and the days off the government swaps each year, plus the Saturdays it
makes working days in exchange. The calendar itself is data (``dim_calendar``, built by
``warehouse.work_calendar`` from the ``holidays`` package and the announced swaps); this module
only counts on it, so the same rules serve the transform and the tests.

The counting rules (docs/figures.md, "Working days"):

- **Working days between two days** = the working days *after* the first day up to and
  including the second. A dossier received and finished the same day took 0 working days;
  received on Friday and finished on Monday, 1. The count is signed (negative when the second
  day is before the first), so it adds up over splits: between(a, b) + between(b, c) =
  between(a, c).
- **Adding n working days** to a reception day gives the statutory due day: the n-th working
  day after the reception day, counting from the first working day on or after it (a dossier
  accepted on a Saturday is counted from Monday). n = 0 gives that first working day.

Days outside the calendar's range give null, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

SATURDAY, SUNDAY = 5, 6  # date.weekday()


@dataclass(frozen=True)
class WorkingCalendar:
    """Every day from ``first`` on, as lookup series indexed by the day's offset from ``first``.

    ``working``: is the day a working day; ``number``: working days from ``first`` up to and
    including the day (so the difference of two numbers is the working days between them);
    ``by_number``: the k-th working day (k = 1, 2, …) at index k − 1.
    """

    first: date
    working: pl.Series
    number: pl.Series
    by_number: pl.Series

    @classmethod
    def from_frame(
        cls, frame: pl.DataFrame, day: str = "date", working: str = "is_working_day"
    ) -> WorkingCalendar:
        """From a table of consecutive days (``dim_calendar``). Gaps or repeated days are an
        error: a missing day would silently shift every count after it."""
        if frame.height == 0:
            raise ValueError("the working calendar is empty")
        ordered = frame.select(pl.col(day).cast(pl.Date), pl.col(working).cast(pl.Boolean)).sort(day)
        days = ordered[day]
        steps = days.diff().drop_nulls().dt.total_days()
        if days.null_count() or ordered[working].null_count() or (steps != 1).any():
            raise ValueError(
                f"the working calendar must list every day once from {days.min()} to "
                f"{days.max()}, each with is_working_day set"
            )
        return cls._build(days[0], ordered[working])

    @classmethod
    def from_rules(
        cls,
        first: date,
        last: date,
        days_off: Iterable[date] = (),
        working_weekend_days: Iterable[date] = (),
    ) -> WorkingCalendar:
        """Monday to Friday are working days, except ``days_off``; Saturdays and Sundays are
        not, except ``working_weekend_days`` (make-up working Saturdays)."""
        off, extra = set(days_off), set(working_weekend_days)
        n = (last - first).days + 1
        flags = []
        for i in range(n):
            d = first + timedelta(days=i)
            flags.append(d in extra or (d.weekday() not in (SATURDAY, SUNDAY) and d not in off))
        return cls._build(first, pl.Series(flags, dtype=pl.Boolean))

    @classmethod
    def _build(cls, first: date, working: pl.Series) -> WorkingCalendar:
        working = working.alias("working")
        number = working.cast(pl.Int32).cum_sum().alias("number")
        days = pl.date_range(first, first + timedelta(days=len(working) - 1), eager=True)
        return cls(first, working, number, days.filter(working).alias("by_number"))

    @property
    def last(self) -> date:
        return self.first + timedelta(days=len(self.working) - 1)

    def _offset(self, day: pl.Expr) -> pl.Expr:
        """Offset of a day from ``first``; null outside the calendar."""
        i = day.cast(pl.Date).cast(pl.Int32) - pl.lit(self.first).cast(pl.Int32)
        return pl.when((i >= 0) & (i < len(self.working))).then(i)

    def is_working_day(self, day: pl.Expr) -> pl.Expr:
        """Whether each day is a working day (null outside the calendar)."""
        return pl.lit(self.working).gather(self._offset(day))

    def working_days_between(self, start: pl.Expr, end: pl.Expr) -> pl.Expr:
        """Working days after ``start`` up to and including ``end`` (signed; see the module
        docstring). Same day: 0."""
        number = pl.lit(self.number)
        return (number.gather(self._offset(end)) - number.gather(self._offset(start))).cast(pl.Int32)

    def add_working_days(self, start: pl.Expr, days: pl.Expr | int) -> pl.Expr:
        """The ``days``-th working day counted from the first working day on or after
        ``start`` (the statutory due day of a reception). Null for negative ``days`` or when
        the answer lies outside the calendar."""
        i = self._offset(start)
        n = days if isinstance(days, pl.Expr) else pl.lit(days)
        rolled = pl.lit(self.number).gather(i) + (~pl.lit(self.working).gather(i)).cast(pl.Int32)
        k = rolled + n.cast(pl.Int32)  # 1-based number of the answer
        k = pl.when((n >= 0) & (k >= 1) & (k <= len(self.by_number))).then(k - 1)
        return pl.lit(self.by_number).gather(k)


def working_days_between(start: pl.Series, end: pl.Series, calendar: WorkingCalendar) -> pl.Series:
    """:meth:`WorkingCalendar.working_days_between` on two series of days."""
    frame = pl.DataFrame({"start": start.cast(pl.Date), "end": end.cast(pl.Date)})
    out = frame.select(calendar.working_days_between(pl.col("start"), pl.col("end")))
    return out.to_series().alias("working_days")


def add_working_days(start: pl.Series, days: pl.Series | int, calendar: WorkingCalendar) -> pl.Series:
    """:meth:`WorkingCalendar.add_working_days` on a series of days."""
    n = days if isinstance(days, pl.Series) else pl.Series([days] * len(start), dtype=pl.Int32)
    frame = pl.DataFrame({"start": start.cast(pl.Date), "n": n.cast(pl.Int32)})
    return frame.select(calendar.add_working_days(pl.col("start"), pl.col("n"))).to_series().alias("due")
