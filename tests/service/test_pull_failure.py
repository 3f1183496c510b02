"""A failed pull leaves a trace: an alert row in the warehouse and a source-failed event."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cchc.config import Settings
from cchc.names import SOURCE_FAILED
from flows.pull import report_failure
from sources.registry import source


def test_a_failed_pull_is_an_alert_row_and_an_event(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    events: list[tuple[str, str, dict]] = []
    report_failure(settings, source("eoffice"), "SourceUnavailableError: connection refused", "run-1",
                   emit=lambda event, resource, payload: events.append((event, resource, payload)))
    assert events == [(SOURCE_FAILED, "cchc.source.eoffice", {
        "source_system": "eoffice", "flow_run_id": "run-1",
        "message": "e-document management system (eoffice): pull failed: "
                   "SourceUnavailableError: connection refused"})]
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = con.execute("SELECT kind, severity, source_system, status, message, message_en "
                           "FROM dq_alerts").fetchall()
    finally:
        con.close()
    [(kind, severity, system, status, message, message_en)] = rows
    assert (kind, severity, system, status) == ("pull_failed", "critical", "eoffice", "open")
    assert "SourceUnavailableError: connection refused" in message  # Vietnamese, quoting it
    assert message_en.startswith("e-document management system (eoffice): pull failed (flow "
                                 "run run-1): SourceUnavailableError: connection refused")


def test_reporting_never_raises_a_second_failure(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")  # the data folder cannot be created: the warehouse cannot open

    def broken_emit(*_):
        raise RuntimeError("no events client")

    report_failure(Settings(data_dir=blocked), source("onestop"), "boom", emit=broken_emit)
