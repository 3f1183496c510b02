"""``dim_calendar``: every day with whether public administration works, built at writer start.

Two sources, nothing else:

- the ``holidays`` package's Vietnamese calendar (``VN``, names in Vietnamese): New Year, the
  five Tết days (lunar, with the days off moved off weekends as the government does), Hùng
  Kings' day (10/3 lunar), 30/4, 1/5, 2/9 and the day next to it (from 2021), the days off in
  lieu of holidays that fall on a weekend, and the swaps it knows;
- ``warehouse/seeds/vn_day_off_swaps.csv``: the days off and make-up working Saturdays the
  government announces each year for civil servants, each row citing its decision. The seed
  is the project's record: a swap the package does not know yet (e.g. 2/1/2026) is added
  there, and a year's row is checked against the notice by the tests.

Saturdays and Sundays are days off (public administration works Monday to Friday) unless a
swap makes them working days. docs/figures.md ("Working days") has the rules and how to add
next year's swaps.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from transforms.working_days import SATURDAY, SUNDAY, WorkingCalendar
from warehouse.schema import Column, Strategy, Table

SWAPS_CSV = Path(__file__).parent / "seeds" / "vn_day_off_swaps.csv"
SWAP_KINDS = ("day_off", "working_day")
SWAP_COLUMNS = ("date", "kind", "reason", "decision")
FIRST_YEAR = 2019  # the calendar covers dossiers received from here on
MIN_LAST_YEAR = 2027  # and due dates up to at least the end of this year

DIM_CALENDAR = Table(
    name="dim_calendar",
    description=(
        "One row per day: whether public administration works (Monday–Friday less public "
        "holidays and announced days off, plus make-up working Saturdays), from the holidays "
        "package's VN calendar and warehouse/seeds/vn_day_off_swaps.csv."
    ),
    key=("date",),
    strategy=Strategy.REPLACE,
    columns=(
        Column("date", "DATE", "The day.", nullable=False),
        Column("is_working_day", "BOOLEAN", "Offices work this day.", nullable=False),
        Column(
            "working_day_number", "INTEGER",
            "Working days from the calendar's first day up to and including this day: the "
            "difference of two days' numbers is the working days after the first up to and "
            "including the second.", nullable=False,
        ),
        Column("iso_weekday", "TINYINT", "1 Monday … 7 Sunday."),
        Column("holiday_name", "VARCHAR", "Public holiday or day off in lieu (holidays package, Vietnamese)."),
        Column("swap_kind", "VARCHAR", "day_off or working_day when an announced swap applies."),
        Column("swap_note", "VARCHAR", "The swap's reason and the decision it comes from."),
    ),
)


def _fail(path: Path, row: int, field: str, message: str) -> ValueError:
    return ValueError(f"{path}, row {row} (line {row + 1}), {field}: {message}")


def load_day_off_swaps(path: Path = SWAPS_CSV) -> pl.DataFrame:
    """The announced swaps (``date``, ``kind``, ``reason``, ``decision``), checked row by row:
    a day off must be a weekday, and every row cites its decision. A ``working_day`` is a
    Saturday or Sunday worked, or a weekday the package wrongly lists as a holiday (checked by
    :func:`build_calendar`)."""
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    missing = [c for c in SWAP_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    text = raw.select(pl.col(c).str.strip_chars().str.normalize("NFC") for c in SWAP_COLUMNS)
    days: list[date] = []
    for row, rec in enumerate(text.iter_rows(named=True), start=1):
        try:
            day = date.fromisoformat(rec["date"] or "")
        except ValueError:
            raise _fail(path, row, "date", f"{rec['date']!r} is not a date YYYY-MM-DD") from None
        if rec["kind"] not in SWAP_KINDS:
            raise _fail(path, row, "kind", f"{rec['kind']!r} is not one of {', '.join(SWAP_KINDS)}")
        weekend = day.weekday() in (SATURDAY, SUNDAY)
        if rec["kind"] == "day_off" and weekend:
            raise _fail(path, row, "kind", f"{day} is a weekend day: it is a day off already")
        for field in ("reason", "decision"):
            if not rec[field]:
                raise _fail(path, row, field, "is empty: every swap cites what it comes from")
        if day in days:
            raise _fail(path, row, "date", f"{day} is listed twice")
        days.append(day)
    return text.with_columns(pl.Series("date", days, dtype=pl.Date))


def calendar_years(today: date | None = None) -> tuple[int, int]:
    """First and last year the calendar covers: from FIRST_YEAR to next year (at least
    MIN_LAST_YEAR), so every reception and due date of the data lies inside."""
    today = today or date.today()
    return FIRST_YEAR, max(MIN_LAST_YEAR, today.year + 1)


def build_calendar(first_year: int, last_year: int, swaps: pl.DataFrame) -> pl.DataFrame:
    """``dim_calendar`` for the years given, from the holidays package and the swaps."""
    import holidays

    years = range(first_year, last_year + 1)
    vn = holidays.country_holidays("VN", years=years, language="vi")
    package_workdays = {d for d in getattr(vn, "weekend_workdays", ()) if d.year in years}
    swap = {r["date"]: r for r in swaps.iter_rows(named=True)}
    for day, s in swap.items():
        if s["kind"] == "working_day" and day.weekday() not in (SATURDAY, SUNDAY) and day not in vn:
            raise ValueError(f"swap {day} (working_day): a weekday that is no holiday is a working day already")
    first, last = date(first_year, 1, 1), date(last_year, 12, 31)
    rows = []
    for i in range((last - first).days + 1):
        d = first + timedelta(days=i)
        s = swap.get(d)
        name = vn.get(d)
        if s is not None and s["kind"] == "working_day" or d in package_workdays:
            working = True
        elif s is not None and s["kind"] == "day_off":
            working = False
        else:
            working = d.weekday() not in (SATURDAY, SUNDAY) and name is None
        rows.append((d, working, d.isoweekday(), name, s and s["kind"],
                     s and f"{s['reason']} — {s['decision']}"))
    frame = pl.DataFrame(
        rows, orient="row",
        schema={"date": pl.Date, "is_working_day": pl.Boolean, "iso_weekday": pl.Int8,
                "holiday_name": pl.String, "swap_kind": pl.String, "swap_note": pl.String},
    )
    frame = frame.with_columns(
        pl.col("is_working_day").cast(pl.Int32).cum_sum().alias("working_day_number"),
        pl.col("holiday_name").str.normalize("NFC"),
    )
    return frame.select(DIM_CALENDAR.column_names).cast(DIM_CALENDAR.polars_schema())


def default_calendar(swaps_csv: Path = SWAPS_CSV, today: date | None = None) -> pl.DataFrame:
    """The calendar a writer builds at start: the configured years, the seed's swaps."""
    return build_calendar(*calendar_years(today), load_day_off_swaps(swaps_csv))


def working_calendar(frame: pl.DataFrame) -> WorkingCalendar:
    """The transforms' lookup form of a ``dim_calendar`` frame."""
    return WorkingCalendar.from_frame(frame)
