"""The lifecycle: a check opens, refreshes and resolves alerts and queues their deliveries."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest
from alert_fixtures import with_urls

from cchc.config import Settings
from warehouse import alerts
from warehouse.alerts import Finding, record_check
from warehouse.writer import Warehouse

MAIL, HOOK = "mailto://u:${SMTP_PASS}@127.0.0.1:2525?mode=insecure", "json://127.0.0.1:9/x"


def _gate(n: int = 3) -> Finding:
    return Finding("missing_columns", "critical", f"Thiếu {n} cột", f"{n} columns missing",
                   counts={"missing": n}, load_id=f"L{n}", period_from=date(2021, 1, 1))


def _alerts(wh: Warehouse) -> list[dict]:
    return wh.query("SELECT * FROM dq_alerts ORDER BY raised_at, alert_id").to_dicts()


def _deliveries(wh: Warehouse) -> list[tuple]:
    return wh.query("SELECT alert_id, event, channel, status FROM dq_alert_deliveries "
                    "ORDER BY created_at, event, channel").rows()


def test_open_refresh_resolve_and_a_new_episode(settings: Settings) -> None:
    s = with_urls(settings, MAIL, HOOK)
    with Warehouse.open(s) as wh:
        [first] = record_check(wh, alerts.GATE_FAILED, "onestop", "pull", [_gate(3)])
        assert record_check(wh, alerts.GATE_FAILED, "onestop", "pull", [_gate(4)]) == []
        [row] = _alerts(wh)
        assert (row["alert_id"], row["status"], row["seen_count"]) == (first, "open", 2)
        assert row["message"] == "Thiếu 4 cột" and row["message_en"] == "4 columns missing"
        assert json.loads(row["counts"]) == {"missing": 4} and row["load_id"] == "L4"
        assert row["period_from"] == date(2021, 1, 1) and row["last_seen_at"] >= row["raised_at"]
        channels = sorted(s.alerts.channels())
        assert _deliveries(wh) == [(first, "opened", c, "pending") for c in channels]

        # another system's and another scope's checks leave it alone
        record_check(wh, alerts.GATE_FAILED, "eoffice", "pull", [])
        record_check(wh, alerts.GATE_FAILED, "onestop", "file", [])
        assert _alerts(wh)[0]["status"] == "open"

        assert record_check(wh, alerts.GATE_FAILED, "onestop", "pull", []) == []
        [row] = _alerts(wh)
        assert row["status"] == "resolved" and row["resolved_at"] is not None
        assert [d[1] for d in _deliveries(wh)] == ["opened", "opened", "resolved", "resolved"]

        [second] = record_check(wh, alerts.GATE_FAILED, "onestop", "pull", [_gate(3)])
        assert second != first
        rows = _alerts(wh)
        assert [r["status"] for r in rows] == ["resolved", "open"]
        assert rows[0]["fingerprint"] == rows[1]["fingerprint"]


def test_info_and_below_min_severity_are_recorded_not_queued(settings: Settings) -> None:
    s = with_urls(settings, HOOK, min_severity="critical")
    info = Finding("warned", "info", "12 dòng có cảnh báo", "12 rows warned", {"rows": 12})
    warn = Finding("share", "warning", "Tỷ lệ cách ly cao", "High quarantine share")
    with Warehouse.open(s) as wh:
        record_check(wh, alerts.ROW_WARNINGS, "onestop", "pull", [info])
        record_check(wh, alerts.QUARANTINE_SPIKE, "onestop", "loads", [warn])
        assert len(_alerts(wh)) == 2 and _deliveries(wh) == []
        record_check(wh, alerts.QUARANTINE_SPIKE, "onestop", "loads", [])
        assert _deliveries(wh) == []  # nobody was told it opened: no resolution either


def test_no_channel_means_no_delivery_rows(settings: Settings) -> None:
    with Warehouse.open(settings) as wh:
        record_check(wh, alerts.PULL_FAILED, "eoffice", "pull", [_gate()])
        assert _deliveries(wh) == [] and len(_alerts(wh)) == 1


def test_acknowledged_stays_quiet_until_resolved(settings: Settings) -> None:
    with Warehouse.open(with_urls(settings, HOOK)) as wh:
        [alert_id] = record_check(wh, alerts.STALE_SOURCE, "onestop", "freshness", [_gate()])
        row = alerts.acknowledge(wh, alert_id[:13], "Lan")
        assert (row["status"], row["acknowledged_by"]) == ("acknowledged", "Lan")
        record_check(wh, alerts.STALE_SOURCE, "onestop", "freshness", [_gate()])
        assert _alerts(wh)[0]["status"] == "acknowledged" and _alerts(wh)[0]["seen_count"] == 2
        record_check(wh, alerts.STALE_SOURCE, "onestop", "freshness", [])
        assert _alerts(wh)[0]["status"] == "resolved"
        with pytest.raises(ValueError, match="already resolved"):
            alerts.acknowledge(wh, alert_id, "Lan")
        with pytest.raises(KeyError, match="no alert"):
            alerts.acknowledge(wh, "ffffffff-0000", None)


def test_bad_checks_are_refused(settings: Settings) -> None:
    with Warehouse.open(settings) as wh:
        with pytest.raises(ValueError, match="unknown alert kind"):
            record_check(wh, "gate-failed", "onestop", "pull", [])
        with pytest.raises(ValueError, match="same key"):
            record_check(wh, alerts.GATE_FAILED, "onestop", "pull", [_gate(), _gate()])
        with pytest.raises(ValueError, match="severity"):
            record_check(wh, alerts.GATE_FAILED, "onestop", "pull",
                         [Finding("k", "fatal", "x", "x")])


def test_an_alert_survives_the_rollback_of_the_load_that_raised_it(settings: Settings) -> None:
    with Warehouse.open(settings) as wh:
        with pytest.raises(RuntimeError), wh.transaction():
            record_check(wh, alerts.LOAD_FAILED, "onestop", "file", [_gate()])
            raise RuntimeError("load broke")
        assert len(_alerts(wh)) == 1


def test_an_older_warehouse_gains_the_lifecycle_columns(settings: Settings) -> None:
    with Warehouse.open(settings) as wh:
        wh.raise_alert("quarantine", "warning", "onestop", "old style")
    con = duckdb.connect(str(settings.warehouse_path))
    for column in ("status", "fingerprint", "counts", "seen_count", "message_en", "scope"):
        con.execute(f"ALTER TABLE dq_alerts DROP COLUMN {column}")
    con.execute("DROP TABLE dq_alert_deliveries")
    con.close()
    with Warehouse.open(with_urls(settings, HOOK)) as wh:
        [new] = record_check(wh, alerts.GATE_FAILED, "onestop", "pull", [_gate()])
        rows = {r["alert_id"]: r for r in _alerts(wh)}
        assert rows[new]["status"] == "open" and len(rows) == 2
        assert len(_deliveries(wh)) == 1
