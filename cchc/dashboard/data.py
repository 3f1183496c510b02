"""What the dashboard shows, read from the published snapshot (read-only) into small frames.

Every figure comes from the definitions the reports use: the service-index indicators
(``warehouse.indicators``: form-06 counts, e-document counts, rates, national targets and
verdicts) for the period figures and the rates against the targets, and its view by unit and
month (``out_onestop__indicators_by_unit_month``) for the trends; the views
``out_onestop__overdue_open``, ``out_quality__*`` and the table ``dq_alerts`` for the rest.
Nothing here writes; a snapshot with no rows yet gives empty frames, not errors.

The periods and the trend months are counted in one query (``period_counts``, each month its
own period as in the view), because reading the dossier lifecycle view is what the page costs:
once, not once per period and again for the view. The trend rows are the view's, taken from
those counts (:func:`monthly_from_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import polars as pl

from cchc.config import LOCAL_TZ, Settings

if TYPE_CHECKING:
    import duckdb

TREND_MONTHS = 24  # months of monthly trends, ending with the reference month
TOP_OVERDUE = 20  # rows of the overdue table
LATEST_LOADS = 10
QUARANTINE_REASONS = 10
LATEST_ALERTS = 30  # alerts listed (the open ones, or the latest when there is no status)


@dataclass(frozen=True)
class Period:
    """A reporting period, with the Vietnamese label shown above its figures."""

    label: str
    date_from: date
    date_to: date


@dataclass(frozen=True)
class Headline:
    """The headline figures of one period: the indicators' "Tổng cộng" row (form-06 columns,
    e-document counts, rates with their targets and verdicts)."""

    period: Period
    total: dict  # the total row of warehouse.indicators.indicators(..., by="unit")

    @property
    def received(self) -> int:  # c4 + c5: received in the period
        return self.total["received"]

    @property
    def documents(self) -> int:
        return self.total["docs_received"] + self.total["docs_issued"]

    def rate(self, key: str) -> float | None:
        return self.total[f"{key}_rate"]

    def meets(self, key: str) -> bool | None:
        """Whether the period reaches the national target (None: no target or no data)."""
        return self.total[f"{key}_meets"]

    def target(self, key: str) -> float | None:
        return self.total[f"{key}_target"]


@dataclass(frozen=True)
class Freshness:
    """When a source system last loaded successfully, and whether that is too long ago."""

    system: str
    last_success: datetime | None
    hours_since: float | None
    stale: bool


@dataclass(frozen=True)
class DashboardData:
    """Everything the page shows; frames are empty (never None) when there is nothing yet."""

    generated_at: datetime
    published_at: datetime | None
    area_name: str | None
    reference_day: date | None  # the newest day with data (never after today)
    headlines: list[Headline]
    monthly: pl.DataFrame
    unit_rates: pl.DataFrame  # indicators per unit (no total row) for the first period
    overdue_top: pl.DataFrame
    overdue_by_unit: pl.DataFrame
    overdue_total: int
    loads: pl.DataFrame
    quarantine_reasons: pl.DataFrame
    freshness: list[Freshness]
    alerts: pl.DataFrame
    alerts_total: int  # open alerts (or all alerts), of which ``alerts`` lists the newest
    alerts_open_only: bool  # True: dq_alerts has a status and only open alerts are listed
    stale_after_hours: float = 26.0

    @property
    def has_data(self) -> bool:
        return self.reference_day is not None


def local_now() -> datetime:
    return datetime.now(ZoneInfo(LOCAL_TZ))


def periods(reference_day: date) -> list[Period]:
    """The current year to the reference day, then the whole previous year."""
    year = reference_day.year
    return [
        Period(f"Năm {year} (đến {reference_day:%d/%m/%Y})", date(year, 1, 1), reference_day),
        Period(f"Năm {year - 1}", date(year - 1, 1, 1), date(year - 1, 12, 31)),
    ]


def read_dashboard_data(con: duckdb.DuckDBPyConnection, settings: Settings, *,
                        snapshot: Path | None = None, today: date | None = None) -> DashboardData:
    """All the dashboard's figures from an open snapshot connection (``open_snapshot``)."""
    now = local_now()
    today = today or now.date()
    reference = reference_day(con, today)
    snapshot = snapshot or settings.published_path
    published_at = (datetime.fromtimestamp(snapshot.stat().st_mtime, ZoneInfo(LOCAL_TZ))
                    if snapshot.is_file() else lake_published_at(con))
    spans = periods(reference) if reference else []
    by_unit, trends = period_figures(con, spans, reference) if reference else ([], pl.DataFrame())
    overdue_top, overdue_by_unit, overdue_total = overdue(con)
    alerts, alerts_total, open_only = open_alerts(con)
    return DashboardData(
        generated_at=now,
        published_at=published_at,
        area_name=area_name(con, settings),
        reference_day=reference,
        headlines=[Headline(p, f.row(-1, named=True)) for p, f in zip(spans, by_unit, strict=True)],
        monthly=trends,
        unit_rates=by_unit[0].filter(pl.col("code").is_not_null()) if by_unit else pl.DataFrame(),
        overdue_top=overdue_top,
        overdue_by_unit=overdue_by_unit,
        overdue_total=overdue_total,
        loads=latest_loads(con),
        quarantine_reasons=quarantine_reasons(con),
        freshness=freshness(con, settings, now),
        alerts=alerts,
        alerts_total=alerts_total,
        alerts_open_only=open_only,
        stale_after_hours=settings.service.stale_after_hours,
    )


def lake_published_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the snapshot was published, on the lake (no file whose time says it): the
    ``etl_snapshot`` row the publish wrote into it (the ``etl_publications`` row recording it
    is a later commit, outside the snapshot)."""
    import duckdb

    try:
        row = con.execute("SELECT max(published_at) FROM etl_snapshot").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0].astimezone(ZoneInfo(LOCAL_TZ)) if row and row[0] else None


def reference_day(con: duckdb.DuckDBPyConnection, today: date) -> date | None:
    """The newest day any dossier was received or any document received or issued, capped at
    today (a wrong future date must not move the period)."""
    row = con.execute(
        """
        SELECT max(d) FROM (
            SELECT max(received_date) AS d FROM out_onestop__dossier_lifecycle
            WHERE received_date <= $today
            UNION ALL
            SELECT max(coalesce(received_date, issued_date)) FROM core_eoffice__documents
            WHERE coalesce(received_date, issued_date) <= $today
        )
        """,
        {"today": today},
    ).fetchone()
    return row[0] if row else None


def area_name(con: duckdb.DuckDBPyConnection, settings: Settings) -> str | None:
    """The configured district's name ("Huyện Krông Pa"), None when the seed does not know it."""
    row = con.execute(
        "SELECT name FROM dim_admin_unit WHERE unit_code = $code ORDER BY valid_from DESC LIMIT 1",
        {"code": settings.scope.district_code},
    ).fetchone()
    return row[0] if row else None


def period_figures(
    con: duckdb.DuckDBPyConnection, spans: list[Period], reference: date,
) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """The indicators per unit of every period, then the "Tổng cộng" row
    (``indicators(con, from, to, "unit")``), and the monthly trends (:func:`monthly`), from one
    count of the periods and the trend months."""
    from warehouse.indicator_counts import period_counts
    from warehouse.indicators import unit_indicators

    months = trend_months(reference)
    counts = period_counts(con, [(p.date_from, p.date_to) for p in spans] + months)
    by_unit = [unit_indicators(con, counts.filter(pl.col("period") == i), p.date_from, p.date_to)
               for i, p in enumerate(spans)]  # fmt: skip
    trends = monthly_from_counts(con, counts.filter(pl.col("period") >= len(spans)))
    return by_unit, trends if trends is not None else monthly(con, reference)


def trend_months(reference: date) -> list[tuple[date, date]]:
    """The first and last day of the last :data:`TREND_MONTHS` months up to the reference
    month."""
    first = _months_before(reference.replace(day=1), TREND_MONTHS - 1)
    starts = [_months_before(first, -i) for i in range(TREND_MONTHS + 1)]
    return [(start, end - timedelta(days=1)) for start, end in pairwise(starts)]


def monthly_from_counts(con: duckdb.DuckDBPyConnection,
                        counts: pl.DataFrame) -> pl.DataFrame | None:
    """:func:`monthly`'s rows from the trend months' rows of ``period_counts``. The view lists
    a unit's month when a dossier is in scope (c3 > 0) or a procedure is offered online, up to
    the month of the last dossier event; a document alone gives no row. None (read the view)
    when a dossier's unit is unknown to ``dim_admin_unit``: the view counts such a unit, the
    indicators' joins do not."""
    if counts.filter(pl.col("unit_code").is_not_null() & pl.col("unit_valid_from").is_null()).height:
        return None
    names = con.execute("SELECT unit_code, valid_from AS unit_valid_from, name AS unit_name "
                        "FROM dim_admin_unit").pl()  # fmt: skip
    listed = ((pl.col("c3") > 0) | (pl.col("procedures_offered_online") > 0)) & (
        pl.col("period_from") <= _last_event_month(con, counts)
    ) & pl.col("unit_code").is_not_null()  # fmt: skip
    rows = counts.filter(listed).join(names, on=["unit_code", "unit_valid_from"], how="left")
    return rows.sort("unit_code", "period_from", "unit_valid_from").select(
        "unit_code",
        pl.coalesce("unit_name", "unit_code").alias("unit_name"),
        pl.col("period_from").alias("month"),
        "received",
        (pl.col("c8") + pl.col("c9")).alias("on_time_numerator"),
        pl.col("c7").alias("on_time_denominator"),
        pl.col("c4").alias("online_numerator"),
        (pl.col("c4") + pl.col("c5")).alias("online_denominator"),
    )


def _last_event_month(con: duckdb.DuckDBPyConnection, counts: pl.DataFrame) -> date:
    """The first day of the month of the last dossier reception or closing, where the view's
    months end (``date.min``: no dossier). A dossier received or closed in the latest month with
    rows proves no row is past it (the usual case: no query); else the documents set the
    reference day and the lifecycle view is asked."""
    last = counts.filter(pl.col("period_from") == pl.col("period_from").max())
    if last.height and last.select((pl.col("received") + pl.col("c7")).sum()).item() > 0:
        return last["period_from"][0]
    row = con.execute("SELECT max(greatest(received_date, coalesce(closed_date, received_date))) "
                      "FROM out_onestop__dossier_lifecycle").fetchone()  # fmt: skip
    return row[0].replace(day=1) if row and row[0] else date.min


def monthly(con: duckdb.DuckDBPyConnection, reference: date) -> pl.DataFrame:
    """Per unit and month, the last :data:`TREND_MONTHS` months up to the reference month
    (``out_onestop__indicators_by_unit_month``: each month its own form-06 period): dossiers
    received, and the on-time and online rates' numerators and denominators."""
    first = _months_before(reference.replace(day=1), TREND_MONTHS - 1)
    return con.execute(
        """
        SELECT unit_code, coalesce(unit_name, unit_code) AS unit_name, month, received,
               on_time_numerator, on_time_denominator, online_numerator, online_denominator
        FROM out_onestop__indicators_by_unit_month
        WHERE month BETWEEN $first AND $last AND unit_code IS NOT NULL
        ORDER BY unit_code, month
        """,
        {"first": first, "last": reference.replace(day=1)},
    ).pl()


def _months_before(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


_OVERDUE_TOP = """
    SELECT dossier_code, coalesce(unit_name, unit_code) AS unit_name, procedure_name, field_name,
           {{label onestop.STATUS_LABELS status}} AS status_label, waiting,
           received_date, due_date, days_overdue
    FROM out_onestop__overdue_open
    ORDER BY days_overdue DESC, dossier_code
    LIMIT $limit
"""
_OVERDUE_BY_UNIT = """
    SELECT coalesce(unit_name, unit_code) AS unit_name,
           count(*) AS open_past_due,
           count(*) FILTER (NOT waiting) AS overdue,
           count(*) FILTER (waiting) AS waiting,
           max(days_overdue) AS max_days_overdue
    FROM out_onestop__overdue_open
    GROUP BY ALL
    ORDER BY open_past_due DESC, unit_name
"""


def overdue(con: duckdb.DuckDBPyConnection,
            limit: int = TOP_OVERDUE) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Open dossiers past their due day: the top ``limit`` by days overdue, the count per unit,
    and how many there are in all."""
    from warehouse.views import expand

    top = con.execute(expand(_OVERDUE_TOP), {"limit": limit}).pl()
    by_unit = con.execute(_OVERDUE_BY_UNIT).pl()
    total = int(by_unit["open_past_due"].sum()) if by_unit.height else 0
    return top, by_unit, total


def latest_loads(con: duckdb.DuckDBPyConnection, limit: int = LATEST_LOADS) -> pl.DataFrame:
    return con.execute(
        """
        SELECT source_system, kind, source, status, started_at, duration_s, rows_in,
               rows_loaded, rows_quarantined, rows_duplicate, message
        FROM out_quality__loads LIMIT $limit
        """,
        {"limit": limit},
    ).pl()


def quarantine_reasons(con: duckdb.DuckDBPyConnection,
                       limit: int = QUARANTINE_REASONS) -> pl.DataFrame:
    return con.execute(
        "SELECT raw_field, rule, rows, loads, last_seen, example "
        "FROM out_quality__quarantine_reasons LIMIT $limit",
        {"limit": limit},
    ).pl()


def freshness(con: duckdb.DuckDBPyConnection, settings: Settings,
              now: datetime) -> list[Freshness]:
    """Last successful load of every registered source system (the freshness check's rule)."""
    from sources.registry import SOURCES
    from warehouse.audit import last_success

    threshold = settings.service.stale_after_hours
    out = []
    for spec in SOURCES:
        when = last_success(con, spec.system)
        hours = (now - when).total_seconds() / 3600 if when is not None else None
        out.append(Freshness(spec.system, when, hours,
                             stale=hours is None or hours > threshold))
    return out


def has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = $t AND column_name = $c",
        {"t": table, "c": column},
    ).fetchone()
    return bool(row and row[0])


def open_alerts(con: duckdb.DuckDBPyConnection,
                limit: int = LATEST_ALERTS) -> tuple[pl.DataFrame, int, bool]:
    """The newest ``limit`` open alerts when ``dq_alerts`` records a status (else the newest
    alerts), how many there are in all, and whether only open ones are counted."""
    open_only = has_column(con, "dq_alerts", "status")
    # info rows (per-load row warnings) are recorded, never sent: the page lists what is sent
    where = "WHERE status = 'open' AND severity <> 'info'" if open_only else ""
    frame = con.execute(
        f"SELECT raised_at, severity, kind, source_system, message FROM dq_alerts {where} "
        "ORDER BY raised_at DESC LIMIT $limit",
        {"limit": limit},
    ).pl()
    row = con.execute(f"SELECT count(*) FROM dq_alerts {where}").fetchone()
    return frame, int(row[0]) if row else 0, open_only
