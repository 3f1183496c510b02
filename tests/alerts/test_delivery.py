"""Delivery through Apprise to a real local SMTP server and a local JSON receiver: each problem
is sent once, its resolution once, a reminder after the interval, and a dead channel leaves
the message pending until a retry delivers it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from alert_fixtures import JsonReceiver, SmtpInbox, free_port, with_urls

from cchc.config import Settings, utc_now
from cchc.notify import compose, deliver_pending, expand_url, mask_secrets
from warehouse import alerts
from warehouse.alerts import Finding
from warehouse.writer import Warehouse


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox().start()
    yield inbox
    inbox.stop()


@pytest.fixture
def hook() -> Iterator[JsonReceiver]:
    receiver = JsonReceiver().start()
    yield receiver
    receiver.stop()


def _gate(load: str, rows: int = 0) -> Finding:
    return Finding("missing_columns", "critical",
                   f"Hệ thống một cửa (onestop): lượt nạp {load} bị dừng: thiếu cột bắt buộc "
                   "'Ngày tiếp nhận'. Cần làm: yêu cầu giữ đúng tên trường.",
                   f"onestop: load {load} stopped: required column missing.",
                   counts={"rows_received": rows, "rows_reported": 120}, load_id=load)


def _night(settings: Settings, *findings: Finding) -> None:
    """One nightly pull's check, then the delivery its flow runs at the end."""
    with Warehouse.open(settings) as wh:
        wh.record_check(alerts.GATE_FAILED, "onestop", "pull", list(findings))
    deliver_pending(settings)


def test_a_problem_is_sent_once_and_its_resolution_once(settings: Settings, smtp: SmtpInbox,
                                                         hook: JsonReceiver) -> None:
    s = with_urls(settings, smtp.url, hook.url)
    _night(s, _gate("L1", 0))
    _night(s, _gate("L2", 0))  # the same problem the next night: not sent again
    assert len(smtp.messages) == 1 and len(hook.received) == 1
    [subject] = smtp.subjects()
    assert subject.startswith("[cchc] critical gate_failed onestop: Hệ thống một cửa")
    body = smtp.bodies()[0]
    assert "rows_received = 0" in body and "rows_reported = 120" in body and "L1" in body
    assert "Cần làm" in body
    assert hook.received[0]["title"] == subject and hook.received[0]["type"] == "failure"

    _night(s)  # the check passes
    _night(s)  # and passes again: nothing more
    assert len(smtp.messages) == 2 and len(hook.received) == 2
    assert "đã khắc phục" in smtp.subjects()[1] and "ĐÃ KHẮC PHỤC" in smtp.bodies()[1]
    assert hook.received[1]["type"] == "success"


def test_english_messages_on_request(settings: Settings, hook: JsonReceiver) -> None:
    _night(with_urls(settings, hook.url, language="en"), _gate("L1"))
    [sent] = hook.received
    assert sent["title"] == ("[cchc] critical gate_failed onestop: onestop: load L1 stopped: "
                             "required column missing.")
    assert "Figures: rows_received = 0, rows_reported = 120" in sent["message"]


def test_a_reminder_after_the_interval_unless_acknowledged(settings: Settings,
                                                           hook: JsonReceiver) -> None:
    s = with_urls(settings, hook.url, remind_every_hours=24)
    _night(s, _gate("L1"))
    deliver_pending(s, now=utc_now() + timedelta(hours=23))
    assert len(hook.received) == 1
    deliver_pending(s, now=utc_now() + timedelta(hours=25))
    assert len(hook.received) == 2 and hook.received[1]["title"].startswith(
        "[cchc] critical gate_failed onestop: (nhắc lại) ")
    deliver_pending(s, now=utc_now() + timedelta(hours=26))  # not every round
    assert len(hook.received) == 2
    with Warehouse.open(s) as wh:
        [alert_id] = wh.query("SELECT alert_id FROM dq_alerts")["alert_id"].to_list()
        alerts.acknowledge(wh, alert_id, "Lan")
    deliver_pending(s, now=utc_now() + timedelta(hours=60))
    assert len(hook.received) == 2


def test_no_reminders_when_the_interval_is_zero(settings: Settings, hook: JsonReceiver) -> None:
    s = with_urls(settings, hook.url, remind_every_hours=0)
    _night(s, _gate("L1"))
    deliver_pending(s, now=utc_now() + timedelta(days=30))
    assert len(hook.received) == 1


def test_a_dead_channel_keeps_the_message_pending_until_a_retry(settings: Settings) -> None:
    port = free_port()
    dead = f"json://127.0.0.1:{port}/cchc-alerts"
    s = with_urls(settings, dead)
    with Warehouse.open(s) as wh:
        wh.record_check(alerts.GATE_FAILED, "onestop", "pull", [_gate("L1")])
    report = deliver_pending(s)  # nothing listens: no exception, kept pending
    assert (report.sent, report.failed) == (0, 1) and "127.0.0.1" in report.errors[0]
    with Warehouse.open(s) as wh:
        [(status, attempts, error)] = wh.query(
            "SELECT status, attempts, last_error FROM dq_alert_deliveries").rows()
    assert (status, attempts) == ("pending", 1) and error
    assert deliver_pending(s).claimed == 0  # backing off: not tried again at once

    receiver = JsonReceiver(port=port).start()  # the channel comes back
    try:
        report = deliver_pending(s, now=utc_now() + timedelta(minutes=2))
        assert (report.sent, report.failed) == (1, 0) and len(receiver.received) == 1
    finally:
        receiver.stop()
    with Warehouse.open(s) as wh:
        assert wh.query("SELECT status FROM dq_alert_deliveries")["status"].to_list() == ["sent"]


def test_secrets_come_from_the_environment_and_never_reach_the_records(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_TEST_SMTP_PASS", "s3cret-pass")
    port = free_port()  # nothing listens: the error is recorded
    template = (f"mailto://clerk:${{CCHC_TEST_SMTP_PASS}}@127.0.0.1:{port}?mode=insecure"
                "&from=cchc@example.org&to=ops@example.org")
    assert expand_url(template)[0].startswith("mailto://clerk:s3cret-pass@127.0.0.1")
    s = with_urls(settings, template)
    with Warehouse.open(s) as wh:
        wh.record_check(alerts.GATE_FAILED, "onestop", "pull", [_gate("L1")])

    def leaky_send(url: str, *_args) -> None:
        raise RuntimeError(f"could not log in to {url} with s3cret-pass")

    report = deliver_pending(s, send=leaky_send)
    assert report.failed == 1 and "s3cret-pass" not in report.errors[0]
    with Warehouse.open(s) as wh:
        stored = wh.query("SELECT channel, last_error FROM dq_alert_deliveries").rows()
    assert "s3cret-pass" not in str(stored) and "***" in stored[0][1]
    assert mask_secrets("mailto://u:pw123@h", []) == "mailto://u:***@h"

    monkeypatch.delenv("CCHC_TEST_SMTP_PASS")
    with pytest.raises(ValueError, match="CCHC_TEST_SMTP_PASS"):
        expand_url(template)


def test_delivery_never_raises_when_the_warehouse_is_busy(settings: Settings,
                                                          hook: JsonReceiver) -> None:
    s = with_urls(settings, hook.url)
    with Warehouse.open(s) as wh:
        wh.record_check(alerts.GATE_FAILED, "onestop", "pull", [_gate("L1")])
        report = deliver_pending(s, lock_timeout_s=0.1)  # we hold the writer lock
    assert report.skipped and "could not claim" in report.skipped and hook.received == []
    assert deliver_pending(s).sent == 1


def test_compose_names_kind_severity_system_and_counts() -> None:
    alert = {"alert_id": "a-1", "kind": "quarantine_spike", "severity": "warning",
             "source_system": "eoffice", "scope": "loads", "message": "Tỷ lệ cách ly 30 %",
             "message_en": "30 % quarantined", "counts": '{"rows_quarantined": 300}',
             "load_id": "L9", "period_from": None, "period_to": None, "seen_count": 1}
    subject, body = compose(alert, "opened", "vi")
    assert subject == "[cchc] warning quarantine_spike eoffice: Tỷ lệ cách ly 30 %"
    assert "rows_quarantined = 300" in body and "L9" in body and "a-1" in body
