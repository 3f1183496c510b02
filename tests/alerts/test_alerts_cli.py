"""`cchc alerts`, `cchc alerts ack`, `cchc alerts send` and the open alerts in `cchc status`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_fixtures import JsonReceiver
from typer.testing import CliRunner

from cchc.cli import app
from cchc.config import Settings, load_settings
from warehouse import alerts
from warehouse.alerts import Finding
from warehouse.writer import Warehouse

runner = CliRunner()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonReceiver]:
    receiver = JsonReceiver().start()
    monkeypatch.setenv("CCHC_ALERT_URLS", receiver.url)
    monkeypatch.setenv("COLUMNS", "250")  # rich tables: one line per row
    yield receiver
    receiver.stop()


def _two_alerts() -> tuple[str, str]:
    """One resolved gate alert and one open stale-source alert, published (alert channels as
    the environment says)."""
    with Warehouse.open(load_settings()) as wh:
        [gate] = wh.record_check(alerts.GATE_FAILED, "onestop", "pull", [
            Finding("missing_columns", "critical", "Thiếu cột", "Column missing")])
        wh.record_check(alerts.GATE_FAILED, "onestop", "pull", [])
        [stale] = wh.record_check(alerts.STALE_SOURCE, "eoffice", "freshness", [
            Finding("no_recent_load", "warning", "Không có lượt nạp 30 giờ",
                    "No load for 30 h", counts={"hours_since": 30})])
        wh.publish()
    return gate, stale


def test_list_ack_and_send(data_dir: Path, hook: JsonReceiver) -> None:
    gate, stale = _two_alerts()
    listed = runner.invoke(app, ["alerts", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["alert_id"], r["status"]) for r in rows] == [(stale, "open"), (gate, "resolved")]
    assert rows[0]["message"] == "Không có lượt nạp 30 giờ"

    only_open = json.loads(runner.invoke(app, ["alerts", "--open", "--format", "json"]).output)
    assert [r["alert_id"] for r in only_open] == [stale]
    table = runner.invoke(app, ["alerts", "--open"])
    assert table.exit_code == 0 and "stale_source" in table.output and "gate_failed" not in table.output

    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0 and "Open alerts" in status.output and "stale_source" in status.output

    sent = runner.invoke(app, ["alerts", "send"])
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith("3 sent, 0 not delivered")  # the gate opened and resolved
    assert sorted(m["title"].split(":")[0] for m in hook.received) == [
        "[cchc] critical gate_failed onestop", "[cchc] critical gate_failed onestop",
        "[cchc] warning stale_source eoffice"]

    acked = runner.invoke(app, ["alerts", "ack", stale[:12], "--by", "Lan"])
    assert acked.exit_code == 0, acked.output
    assert "acknowledged" in acked.output and "Lan" in acked.output
    row = json.loads(runner.invoke(app, ["alerts", "--open", "--format", "json"]).output)[0]
    assert (row["status"], row["acknowledged_by"]) == ("acknowledged", "Lan")

    unknown = runner.invoke(app, ["alerts", "ack", "ffffffff-ffff"])
    assert unknown.exit_code == 1 and "no alert" in unknown.output


def test_send_without_a_channel_says_so(settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCHC_ALERT_URLS", raising=False)
    result = runner.invoke(app, ["alerts", "send"])
    assert result.exit_code == 1 and "no alert channel configured" in result.output
