"""The page's figures come from one count of the periods and the trend months
(``period_figures``), and must equal the definitions it replaces: ``indicators(…, "unit")``
for each period and the rows of ``out_onestop__indicators_by_unit_month`` (``monthly``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dashboard_fixtures import TODAY, settings_for, table_frame

from cchc.config import Settings
from cchc.dashboard.data import (
    monthly,
    monthly_from_counts,
    period_figures,
    periods,
    reference_day,
    trend_months,
)
from warehouse.indicators import indicators
from warehouse.reader import open_snapshot


def _assert_as_defined(settings: Settings, today: date) -> pl.DataFrame:
    """period_figures equals indicators() per period and the monthly view; the trends."""
    con = open_snapshot(settings)
    try:
        reference = reference_day(con, today)
        assert reference is not None
        spans = periods(reference)
        by_unit, trends = period_figures(con, spans, reference)
        for period, frame in zip(spans, by_unit, strict=True):
            expected = indicators(con, period.date_from, period.date_to, "unit")
            assert frame.schema == expected.schema
            assert frame.equals(expected), period
        view = monthly(con, reference)
        assert trends.schema == view.schema
        assert trends.equals(view)
        return trends
    finally:
        con.close()


@pytest.mark.parametrize("months_back", [0, 5, 17])
def test_one_count_gives_the_indicators_and_the_monthly_view(published: Settings,
                                                               months_back: int) -> None:
    today = trend_months(TODAY)[-1 - months_back][1] if months_back else TODAY
    trends = _assert_as_defined(published, today)
    assert trends.height and trends["unit_code"].n_unique() > 1


def test_trend_months_are_whole_calendar_months_up_to_the_reference_month() -> None:
    months = trend_months(date(2024, 3, 9))
    assert len(months) == 24
    assert months[0] == (date(2022, 4, 1), date(2022, 4, 30))
    assert months[-1] == (date(2024, 3, 1), date(2024, 3, 31))
    assert (date(2024, 2, 1), date(2024, 2, 29)) in months


def _dossier(code: str, unit: str, received: str, closed: str | None = None,
             level: int = 2) -> dict[str, Any]:
    day = date.fromisoformat(received)
    end = date.fromisoformat(closed) if closed else None
    row = {"dossier_code": code, "unit_code": unit, "procedure_code": f"P-{code}",
           "procedure_name": "Chứng thực", "field_name": "Chứng thực", "service_level": level,
           "channel": 1, "status": 10 if end else 4, "received_date": day,
           "due_date": date(day.year, day.month, 28), "finished_date": end, "returned_date": end,
           "updated_at": datetime(day.year, day.month, day.day, tzinfo=UTC)}  # fmt: skip
    row["row_hash"] = hashlib.sha256(repr(row).encode()).hexdigest()[:16]
    return row


def _document(doc_id: str, day: date) -> dict[str, Any]:
    row = {"document_id": doc_id, "direction": "DEN", "unit_code": "637",
           "register_year": day.year, "incoming_number": 1, "issued_date": day,
           "received_date": day, "transport": "DienTu", "digitally_signed": False,
           "secrecy": "Thuong", "status": "HoanThanh",
           "updated_at": datetime(day.year, day.month, day.day, tzinfo=UTC)}  # fmt: skip
    row["row_hash"] = hashlib.sha256(repr(row).encode()).hexdigest()[:16]
    return row


def _publish(root: Path, dossiers: list[dict[str, Any]]) -> Settings:
    """A warehouse of ``dossiers`` and one document received in June 2024, published."""
    from sources.registry import source
    from warehouse.writer import Warehouse

    settings = settings_for(root)
    with Warehouse.open(settings) as wh:
        for system, rows in (("onestop", dossiers),
                             ("eoffice", [_document("VB-1", date(2024, 6, 20))])):
            wh.write(source(system).core_table, table_frame(source(system).core_table, rows), "L1")
        wh.publish()
    return settings


# Dossiers until February 2024, one still open and one procedure offered online: without the
# view's bounds they would give rows for every month up to the document's, June.
QUIET_SINCE_FEBRUARY = [
    _dossier("HS-1", "24076", "2024-01-10", "2024-01-15", level=3),
    _dossier("HS-2", "24079", "2024-02-01"),
]


def test_the_trends_end_with_the_last_dossier_event_as_the_view_does(tmp_path: Path) -> None:
    settings = _publish(tmp_path, QUIET_SINCE_FEBRUARY)
    trends = _assert_as_defined(settings, date(2024, 12, 31))
    assert trends["month"].max() == date(2024, 2, 1)
    assert trends.select("unit_code", "month").rows() == [
        ("24076", date(2024, 1, 1)), ("24076", date(2024, 2, 1)), ("24079", date(2024, 2, 1))]


def test_a_unit_unknown_to_the_admin_units_is_read_from_the_view(tmp_path: Path) -> None:
    settings = _publish(tmp_path, [*QUIET_SINCE_FEBRUARY, _dossier("HS-3", "99999", "2024-01-05")])
    trends = _assert_as_defined(settings, date(2024, 12, 31))
    assert "99999" in trends["unit_code"].to_list()
    con = open_snapshot(settings)
    try:
        counts = pl.DataFrame({"unit_code": ["99999"], "unit_valid_from": [None]},
                              schema={"unit_code": pl.String, "unit_valid_from": pl.Date})
        assert monthly_from_counts(con, counts) is None
    finally:
        con.close()
