"""Alerts that reach people: queued deliveries sent through Apprise (docs/alerts.md).

``deliver_pending(settings)`` is called after each pull or ingest flow has published, from the
failure hooks of the flows, every few minutes by ``cchc serve``, and by ``cchc alerts send``.
It holds the writer lock only to claim what is due (and queue reminders) and to record the
results; the sending itself (SMTP, HTTP, seconds each) happens outside it, so a slow mail
server never holds up a load. A send that fails stays pending with a growing backoff; nothing
here ever raises into a load or a flow.

Channel URLs (``[alerts] urls`` or ``CCHC_ALERT_URLS``) may hold ``${VAR}`` placeholders,
expanded from the environment at send time only; errors are recorded with those values and
any URL password masked.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cchc.config import Settings, utc_now

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
MASK = "***"

# A sender: (expanded URL, subject, body, severity, event) -> None, or raise with the reason.
Send = Callable[[str, str, str, str, str], None]


class ChannelConfigError(ValueError):
    """A channel URL names an environment variable that is not set, or Apprise refuses it."""


@dataclass
class DeliveryReport:
    """What one ``deliver_pending`` call did."""

    reminders_queued: int = 0
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # secrets masked
    skipped: str | None = None  # why nothing was tried (no channel, writer busy)

    def as_dict(self) -> dict[str, Any]:
        return {"reminders_queued": self.reminders_queued, "claimed": self.claimed,
                "sent": self.sent, "failed": self.failed, "errors": self.errors,
                "skipped": self.skipped}


# --------------------------------------------------------------------------- channels


def expand_url(url: str, env: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """The URL with ``${VAR}`` replaced from the environment, and the values substituted (to
    mask in errors). A variable that is not set is an error naming it, never an empty value."""
    env = os.environ if env is None else env
    secrets: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = env.get(name)
        if not value:
            raise ChannelConfigError(f"alert URL {mask_url(url)} needs the environment variable "
                                     f"{name}, which is not set")
        secrets.append(value)
        return value

    return _PLACEHOLDER.sub(substitute, url), secrets


def mask_url(url: str) -> str:
    """A URL fit for a log line: its password replaced."""
    return _URL_PASSWORD.sub(rf"\1{MASK}@", url)


def mask_secrets(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\1{MASK}@", text)


def apprise_send(timeout_s: float) -> Send:
    """The real sender: one Apprise object per channel, so each result is the channel's own."""

    def send(url: str, subject: str, body: str, severity: str, event: str) -> None:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(url):
            raise ChannelConfigError("Apprise does not accept this URL (check its scheme and "
                                     "options in docs/alerts.md)")
        notify_type = (apprise.NotifyType.SUCCESS if event == "resolved"
                       else apprise.NotifyType.FAILURE if severity == "critical"
                       else apprise.NotifyType.WARNING)
        logs: list[str] = []
        result = notifier.notify(
            body=body, title=subject, notify_type=notify_type, timeout=timeout_s,
            log_callback=lambda entry, _plugin: logs.append(str(getattr(entry, "message", entry))),
            log_level=logging.WARNING)
        if not result:
            raise RuntimeError("; ".join(logs[-3:]) or f"the channel refused it ({result!r})")

    return send


# --------------------------------------------------------------------------- messages

_TEXT = {
    "vi": {
        "reminder": "(nhắc lại) ", "resolved": "đã khắc phục — ",
        "resolved_line": "ĐÃ KHẮC PHỤC: lần kiểm tra lúc {at} không còn thấy vấn đề này.",
        "reminder_line": "NHẮC LẠI: vấn đề vẫn còn (phát hiện lần đầu {first}); xác nhận đã "
                         "xử lý bằng `cchc alerts ack {id}` để thôi nhắc.",
        "system": "Hệ thống", "kind": "Loại", "load": "Lượt nạp", "period": "Kỳ",
        "counts": "Số liệu", "seen": "Phát hiện", "seen_value": "lần đầu {first}, lần cuối "
        "{last}, {n} lần", "id": "Mã cảnh báo",
    },
    "en": {
        "reminder": "(reminder) ", "resolved": "resolved — ",
        "resolved_line": "RESOLVED: the check at {at} no longer finds this problem.",
        "reminder_line": "REMINDER: the problem is still there (first raised {first}); "
                         "acknowledge it with `cchc alerts ack {id}` to stop reminders.",
        "system": "System", "kind": "Kind", "load": "Load", "period": "Period",
        "counts": "Figures", "seen": "Seen", "seen_value": "first {first}, last {last}, "
        "{n} time(s)", "id": "Alert id",
    },
}


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        from zoneinfo import ZoneInfo

        from cchc.config import LOCAL_TZ

        return value.astimezone(ZoneInfo(LOCAL_TZ)).strftime("%Y-%m-%d %H:%M")
    return "—" if value is None else str(value)


def compose(alert: dict[str, Any], event: str, language: str = "vi") -> tuple[str, str]:
    """Subject and body of one delivery: ``[cchc] <severity> <kind> <system>: …``."""
    t = _TEXT[language]
    message = (alert.get("message") if language == "vi" else alert.get("message_en")) \
        or alert.get("message") or alert.get("message_en") or ""
    headline = message if len(message) <= 110 else message[:107].rstrip() + "…"
    prefix = t.get(event, "") if event in ("reminder", "resolved") else ""
    subject = (f"[cchc] {alert['severity']} {alert['kind']} {alert.get('source_system') or '-'}: "
               f"{prefix}{headline}")
    lines = []
    if event == "resolved":
        lines += [t["resolved_line"].format(at=_when(alert.get("resolved_at"))), ""]
    elif event == "reminder":
        lines += [t["reminder_line"].format(first=_when(alert.get("raised_at")),
                                            id=alert["alert_id"]), ""]
    lines += [message, ""]
    lines.append(f"{t['system']}: {alert.get('source_system') or '-'}")
    lines.append(f"{t['kind']}: {alert['kind']} ({alert['severity']}), {alert.get('scope')}")
    if alert.get("load_id"):
        lines.append(f"{t['load']}: {alert['load_id']}")
    if alert.get("period_from") or alert.get("period_to"):
        lines.append(f"{t['period']}: {alert.get('period_from') or '…'} – "
                     f"{alert.get('period_to') or '…'}")
    counts = json.loads(alert["counts"]) if alert.get("counts") else {}
    if counts:
        lines.append(f"{t['counts']}: " + ", ".join(f"{k} = {v}" for k, v in counts.items()))
    lines.append(f"{t['seen']}: " + t["seen_value"].format(
        first=_when(alert.get("raised_at")), last=_when(alert.get("last_seen_at")),
        n=alert.get("seen_count") or 1))
    lines.append(f"{t['id']}: {alert['alert_id']}")
    return subject, "\n".join(lines)


# --------------------------------------------------------------------------- delivery


def deliver_pending(settings: Settings, *, now: datetime | None = None, force: bool = False,
                    lock_timeout_s: float = 60.0, send: Send | None = None) -> DeliveryReport:
    """Queue due reminders, claim due deliveries (writer lock, briefly), send them outside the
    lock, record the results (lock again). ``force`` sends pending ones whatever their
    backoff. Never raises: problems are in the report and the log."""
    report = DeliveryReport()
    if not settings.alerts.urls:
        report.skipped = "no alert channel configured ([alerts] urls or CCHC_ALERT_URLS)"
        return report
    try:
        claimed = _claim(settings, report, now or utc_now(), force, lock_timeout_s)
    except Exception as exc:
        report.skipped = f"could not claim deliveries: {type(exc).__name__}: {exc}"
        log.warning("alerts not sent now: %s", report.skipped)
        return report
    if not claimed:
        return report
    results = _send_all(settings, claimed, send or apprise_send(settings.alerts.send_timeout_s),
                        report)
    try:
        from warehouse import alerts
        from warehouse.writer import Warehouse

        with Warehouse.open_for_audit(settings, lock_timeout_s=lock_timeout_s) as wh:
            alerts.record_attempts(wh.audit_connection, results, utc_now())
    except Exception as exc:  # the claims expire and are sent again: a duplicate, not a loss
        report.errors.append(f"results not recorded: {type(exc).__name__}: {exc}")
        log.exception("could not record alert delivery results")
    return report


def _claim(settings: Settings, report: DeliveryReport, now: datetime, force: bool,
           lock_timeout_s: float) -> list[dict[str, Any]]:
    """Reminders and claims in a light writer session; a warehouse whose schema predates the
    alert tables is opened in full first (which brings it up to date)."""
    import duckdb

    from warehouse import alerts
    from warehouse.writer import Warehouse

    def claim(wh: Warehouse) -> list[dict[str, Any]]:
        con = wh.audit_connection
        report.reminders_queued = alerts.queue_reminders(con, settings.alerts, now)
        claimed = alerts.claim_pending(con, list(settings.alerts.channels()), now, force=force)
        report.claimed = claimed.height
        return claimed.to_dicts()

    try:
        with Warehouse.open_for_audit(settings, lock_timeout_s=lock_timeout_s) as wh:
            return claim(wh)
    except (duckdb.CatalogException, duckdb.BinderException):
        with Warehouse.open(settings, lock_timeout_s=lock_timeout_s, publish_if_stale=False) as wh:
            return claim(wh)


def _send_all(settings: Settings, claimed: list[dict[str, Any]], send: Send,
              report: DeliveryReport) -> list[tuple[str, str | None]]:
    channels = settings.alerts.channels()
    results: list[tuple[str, str | None]] = []
    for item in claimed:
        template = channels[item["channel"]]
        secrets: list[str] = []
        try:
            url, secrets = expand_url(template)
            subject, body = compose(item, item["event"], settings.alerts.language)
            send(url, subject, body, item["severity"], item["event"])
        except Exception as exc:
            error = mask_secrets(f"{type(exc).__name__}: {exc}", secrets)
            results.append((item["delivery_id"], error))
            report.failed += 1
            report.errors.append(f"{item['channel']}: {error}")
            log.warning("alert %s (%s) not delivered to %s: %s", item["alert_id"], item["event"],
                        item["channel"], error)
            continue
        results.append((item["delivery_id"], None))
        report.sent += 1
        log.info("alert %s (%s) sent to %s", item["alert_id"], item["event"], item["channel"])
    return results
