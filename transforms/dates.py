"""Dates and times from any source, as UTC instants and Asia/Ho_Chi_Minh calendar days.

The API sends UTC instants (``2021-03-15T02:31:00Z``); file exports send local wall-clock time
as ``dd/mm/yyyy HH:MM`` text, as Excel date cells (which the readers turn into naive ISO
``YYYY-MM-DDTHH:MM:SS``), or as Excel serial numbers when a date cell was saved as a number
(``44270.4375``). A value with ``Z`` or an offset is an instant; every naive value is local time
in Vietnam. Calendar days are always taken in local time: a dossier received at 06:30 on
15 March is stamped ``2021-03-14T23:30:00Z`` by the API, and a date taken in UTC would put it
on the 14th (docs/source-systems.md §2).

Vietnam has kept UTC+07:00 without daylight saving since 13 June 1975, so local↔UTC is a fixed
7-hour shift for every date this pipeline handles: it is exact and twice as fast as the time
zone database. Parsed values outside 1900–2199 are rejected as garbage (a two-digit year read
by ``%Y`` lands in year 21).

Unreadable is not missing: :func:`date_fault_expr` tells, per date field, whether text was given
but could not be read (``unreadable``) or was read as a day outside the plausible range
``PLAUSIBLE_FROM`` .. a year after the load date (``implausible``); the tables check both as
critical, quoting the raw text (``warehouse.schema.date_fault_column``).

Parsing is vectorised: :func:`parse_instants` tries one format at a time on the values still
unparsed, starting with the format of the column's first value, so a uniform column costs one
pass; :func:`parse_instant_expr` is the same as a single expression (all formats, coalesced)
for lazy queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import polars as pl

from warehouse.schema import DATE_IMPLAUSIBLE, DATE_UNREADABLE, PLAUSIBLE_FROM

__all__ = ["DATE_IMPLAUSIBLE", "DATE_UNREADABLE", "PLAUSIBLE_FROM"]  # re-exported

UTC_DTYPE = pl.Datetime("us", "UTC")
LOCAL_OFFSET = pl.duration(hours=7)  # Asia/Ho_Chi_Minh, no DST since 1975
EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system (after its leap bug)
# Serial numbers accepted as dates: 1950-01-01 .. 2099-12-31. A bare number outside this range
# is more likely something else (a count, a code) than a date.
EXCEL_MIN, EXCEL_MAX = 18264, 73050
_LOW, _HIGH = datetime(1900, 1, 1), datetime(2200, 1, 1)

# Formats of instants (with Z or an offset), and of naive local times.
_AWARE = (
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%#z",
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
)
_NAIVE = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y",
)

Parser = Callable[[pl.Expr], pl.Expr]


_LOW_UTC_VALUE = _LOW.replace(tzinfo=UTC)
_HIGH_UTC_VALUE = _HIGH.replace(tzinfo=UTC)
_LOW_UTC = pl.lit(_LOW, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
_HIGH_UTC = pl.lit(_HIGH, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")


def _bounded(e: pl.Expr) -> pl.Expr:
    return pl.when((e >= _LOW_UTC) & (e < _HIGH_UTC)).then(e)


def _aware(fmt: str) -> Parser:
    def parse(x: pl.Expr) -> pl.Expr:
        if fmt.endswith("Z"):  # a literal Z: parse as naive UTC, the fast path of API dates
            return x.str.to_datetime(fmt, time_unit="us", strict=False).dt.replace_time_zone("UTC")
        return x.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)

    return parse


def _naive(fmt: str) -> Parser:
    def parse(x: pl.Expr) -> pl.Expr:
        local = x.str.to_datetime(fmt, time_unit="us", strict=False)
        return (local - LOCAL_OFFSET).dt.replace_time_zone("UTC")

    return parse


def _excel(x: pl.Expr) -> pl.Expr:
    """Excel serial day number (local time), rounded to the millisecond Excel stores."""
    serial = x.str.extract(r"^(\d{5}(?:\.\d+)?)$", 1).cast(pl.Float64, strict=False)
    ok = (serial >= EXCEL_MIN) & (serial < EXCEL_MAX + 1)
    ms = (serial * 86_400_000).round(0).cast(pl.Int64)
    local = pl.lit(EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(milliseconds=ms)
    return pl.when(ok).then((local - LOCAL_OFFSET).dt.replace_time_zone("UTC"))


_PARSERS: tuple[tuple[str, Parser], ...] = (
    *((f, _aware(f)) for f in _AWARE),
    *((f, _naive(f)) for f in _NAIVE),
    ("excel-serial", _excel),
)


def _clean(x: pl.Expr) -> pl.Expr:
    return x.str.strip_chars()


def parse_instant_expr(expr: pl.Expr) -> pl.Expr:
    """Text → ``Datetime("us", "UTC")`` trying every known format; unreadable → null."""
    x = _clean(expr)
    return _bounded(pl.coalesce([p(x) for _, p in _PARSERS]).cast(UTC_DTYPE))


def parse_instants(s: pl.Series) -> pl.Series:
    """:func:`parse_instant_expr` for one column, one format at a time on what is left.

    The first pass uses the format of the column's first value and runs on the whole column
    (no gather, no scatter): a uniform column, the normal case, costs one parse.
    """
    name = s.name
    text = s.cast(pl.String).str.strip_chars()
    present = text.is_not_null() & (text != "")
    if not present.any():
        return pl.Series(name, [None] * len(s), dtype=UTC_DTYPE)
    first = text.filter(present).head(1).to_frame("x")
    order = sorted(
        _PARSERS, key=lambda fp: first.select(fp[1](pl.col("x"))).to_series().is_null().item()
    )
    out = text.to_frame("x").select(order[0][1](pl.col("x")).cast(UTC_DTYPE)).to_series()
    todo = present & out.is_null()
    for _, parse in order[1:]:
        if not todo.any():
            break
        idx = todo.arg_true()
        parsed = text.gather(idx).to_frame("x").select(parse(pl.col("x"))).to_series()
        ok = parsed.is_not_null()
        if ok.any():
            hit = idx.filter(ok)
            out = out.scatter(hit, parsed.filter(ok).cast(UTC_DTYPE))
            todo = todo.scatter(hit, False)
    # Garbage that parsed: a two-digit year read by %Y lands in year 21.
    outside = ((out < _LOW_UTC_VALUE) | (out >= _HIGH_UTC_VALUE)).fill_null(False)
    if outside.any():
        out = out.scatter(outside.arg_true(), None)
    return out.alias(name)


def local_date_expr(instant: pl.Expr) -> pl.Expr:
    """Calendar day in Asia/Ho_Chi_Minh of a UTC instant expression."""
    return (instant.dt.replace_time_zone(None) + LOCAL_OFFSET).dt.date()


def parse_instant(text: str | None) -> datetime | None:
    """One value (tests, ad-hoc use)."""
    return parse_instants(pl.Series([text], dtype=pl.String)).item()


def local_date(text: str | None) -> date | None:
    """Calendar day in Vietnam of one value (tests, ad-hoc use)."""
    s = parse_instants(pl.Series([text], dtype=pl.String))
    return s.to_frame("t").select(local_date_expr(pl.col("t"))).item()


def parse_local_date_expr(expr: pl.Expr) -> pl.Expr:
    """Text → local calendar day (``Date``): :func:`parse_instant_expr` then the day in Vietnam.

    For fields that *are* calendar dates (an issue date, a deadline): ``YYYY-MM-DD``,
    ``dd/mm/yyyy``, ``dd/mm/yyyy HH:MM``, naive ISO from Excel cells and serials are local and
    keep their day; an instant with ``Z`` or an offset is moved to Asia/Ho_Chi_Minh first
    (``2021-03-14T23:30:00Z`` is the 15th). Impossible dates (``30/02/2021``) → null.
    """
    return local_date_expr(parse_instant_expr(expr))


def parse_local_dates(s: pl.Series) -> pl.Series:
    """:func:`parse_local_date_expr` for one column, via the fast :func:`parse_instants`.

    A naive value is read as local time and shifted to UTC, and the day is taken back in local
    time, so a bare date round-trips to itself whatever the format.
    """
    instants = parse_instants(s)
    return instants.to_frame("t").select(local_date_expr(pl.col("t"))).to_series().alias(s.name)


def plausible_until(as_of: date) -> date:
    """The last plausible day for a load made on ``as_of``: the same day a year later.

    Due dates and handling deadlines are set weeks or months ahead, never years; a day further
    out is a typing error (2204 for 2024) that would otherwise be counted on time for years.
    """
    try:
        return as_of.replace(year=as_of.year + 1)
    except ValueError:  # 29 February
        return date(as_of.year + 1, 3, 1)


def date_fault_expr(text: pl.Expr, day: pl.Expr, as_of: date) -> pl.Expr:
    """Why a date field cannot be trusted, or null: ``unreadable`` or ``implausible``.

    ``text`` is the raw field, ``day`` its parsed local calendar day. Text that is present (not
    empty after trimming) but did not parse is ``unreadable`` (``30/02/2021``, ``25:61``, a
    two-digit year); a day before :data:`PLAUSIBLE_FROM` or after :func:`plausible_until` is
    ``implausible`` (1970 from an epoch default, 2204 for 2024). Missing text is no fault here:
    the tables' ``not_null`` checks judge missing values.
    """
    present = text.str.strip_chars().str.len_bytes() > 0
    return (
        pl.when(present & day.is_null())
        .then(pl.lit(DATE_UNREADABLE))
        .when((day < pl.lit(PLAUSIBLE_FROM)) | (day > pl.lit(plausible_until(as_of))))
        .then(pl.lit(DATE_IMPLAUSIBLE))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
