"""The alert lifecycle: checks report findings, problems open, refresh, resolve, and are queued
for delivery (``dq_alerts``, ``dq_alert_deliveries``; sending is ``cchc.notify``).

A check of some ``kind`` (a batch gate, the freshness check, a reconciliation) runs over a
``scope`` of one source system and reports what it found, possibly nothing. The identity of a
problem is (kind, source_system, scope, finding key), hashed into ``fingerprint``:

- found and not open        -> a new alert row, status ``open``; "opened" queued per channel
- found and open/acknowledged -> the same row: ``last_seen_at``, ``seen_count``, latest
                                  message and figures; nothing is sent again
- open/acknowledged, not found -> ``resolved`` (``resolved_at``); "resolved" queued for the
                                  channels that were told it opened

So a problem that lasts ten nights is one message, its end another. Reminders of open,
unacknowledged alerts are queued by the sender (``queue_reminders``) once
``remind_every_hours`` have passed since the last message. ``info`` findings are recorded,
never queued. Everything is written on the warehouse's audit cursor in one transaction of its
own, so an alert survives the rollback of the load that raised it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from cchc.config import AlertSettings, utc_now
from warehouse.ids import new_id
from warehouse.personal import mask_text
from warehouse.strategies import write_frame
from warehouse.tables import DQ_ALERT_DELIVERIES, DQ_ALERTS

if TYPE_CHECKING:
    import duckdb

    from warehouse.writer import Warehouse

# Kinds of check (dq_alerts.kind).
GATE_FAILED = "gate_failed"  # a batch gate stopped a load (columns, empty pull, total row)
QUARANTINE_SPIKE = "quarantine_spike"  # far more rows quarantined than the source usually has
LOAD_FAILED = "load_failed"  # a load broke half-way (undone) or could not run
PULL_FAILED = "pull_failed"  # a pull flow run failed (source down, token refused, …)
STALE_SOURCE = "stale_source"  # no successful load for too long
FLOW_FAILED = "flow_failed"  # a flow run crashed or failed outside the pull itself
RECONCILIATION_DIFFERENCE = "reconciliation_difference"  # our figures vs the source's own
SECRET_LEAK = "secret_leak"  # a secret document arrived with fields the source must withhold
MOVED_DUE_DATE = "moved_due_date"  # a dossier's due date changed between versions
ROW_WARNINGS = "row_warnings"  # per-load rows quarantined or warned: info, recorded only
KINDS = (GATE_FAILED, QUARANTINE_SPIKE, LOAD_FAILED, PULL_FAILED, STALE_SOURCE, FLOW_FAILED,
         RECONCILIATION_DIFFERENCE, SECRET_LEAK, MOVED_DUE_DATE, ROW_WARNINGS)

SEVERITIES = ("critical", "warning", "info")
OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
ACTIVE = (OPEN, ACKNOWLEDGED)  # the problem is still there

OPENED, REMINDER, RESOLVED_EVENT = "opened", "reminder", "resolved"  # delivery events
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"  # delivery statuses


@dataclass(frozen=True)
class Finding:
    """One problem a check found: what, how bad, the sentence an official acts on, the figures."""

    key: str  # what is wrong, inside its check: "online_rate_pct", "missing_columns", …
    severity: str  # "critical" | "warning" | "info" (info is recorded, never sent)
    message: str  # Vietnamese: what an official reads and can act on
    message_en: str  # the same in English
    counts: Mapping[str, int | float | str] = field(default_factory=dict)  # figures quoted
    load_id: str | None = None
    period_from: date | None = None
    period_to: date | None = None


@dataclass(frozen=True)
class CheckOutcome:
    """What one check did to the alerts: ids opened, refreshed and resolved."""

    opened: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether readers should see a new state (an alert opened or resolved)."""
        return bool(self.opened or self.resolved)


def fingerprint(kind: str, source_system: str | None, scope: str, key: str) -> str:
    """The identity of a problem across its episodes (stable, short)."""
    text = "\x1f".join([kind, source_system or "", scope, key])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_check(wh: Warehouse, kind: str, source_system: str | None,
                 scope: str, findings: Sequence[Finding]) -> list[str]:
    """A check of ``kind`` for ``source_system`` over ``scope`` (e.g. "pull", a file name, or
    "published:2021-01-01..2022-12-31") has just run and found ``findings`` (possibly none).

    Opens an alert for each new problem (identity: kind, source_system, scope, finding.key),
    refreshes those still open (last_seen, seen_count; never re-sent), resolves the open ones
    of the same (kind, source_system, scope) that were not found again. Queues the deliveries
    (opened / resolved). Returns the ids of the alerts opened."""
    return apply_check(wh.audit_connection, wh.settings.alerts, kind, source_system, scope,
                       findings).opened


def apply_check(con: duckdb.DuckDBPyConnection, alerts: AlertSettings, kind: str,
                source_system: str | None, scope: str, findings: Sequence[Finding],
                now: datetime | None = None) -> CheckOutcome:
    """:func:`record_check` on a connection (its own transaction), with what it did."""
    _validate(kind, scope, findings)
    now = now or utc_now()
    active = con.execute(
        "SELECT * FROM dq_alerts WHERE kind = ? AND source_system IS NOT DISTINCT FROM ? "
        "AND scope = ? AND status IN ('open', 'acknowledged')",
        [kind, source_system, scope],
    ).pl()
    by_fp = {row["fingerprint"]: row for row in active.iter_rows(named=True)}
    rows: list[dict[str, Any]] = []
    queue: list[dict[str, Any]] = []
    outcome = CheckOutcome()
    found = set()
    for f in findings:
        fp = fingerprint(kind, source_system, scope, f.key)
        found.add(fp)
        row = _finding_row(f)
        if fp in by_fp:
            old = by_fp[fp]
            rows.append(old | row | {"last_seen_at": now, "seen_count": (old["seen_count"] or 0) + 1})
            outcome.refreshed.append(old["alert_id"])
            continue
        alert_id = new_id()
        rows.append(row | {
            "alert_id": alert_id, "raised_at": now, "kind": kind, "source_system": source_system,
            "scope": scope, "finding_key": f.key, "fingerprint": fp, "status": OPEN,
            "last_seen_at": now, "seen_count": 1,
        })
        outcome.opened.append(alert_id)
        if alerts.sends(f.severity):
            queue += [_delivery(alert_id, OPENED, ch, now) for ch in alerts.channels()]
    for fp, old in by_fp.items():
        if fp in found:
            continue
        rows.append(old | {"status": RESOLVED, "resolved_at": now})
        outcome.resolved.append(old["alert_id"])
    if outcome.resolved:
        queue += _resolution_deliveries(con, outcome.resolved, now)
    _write(con, rows, queue)
    return outcome


def _validate(kind: str, scope: str, findings: Sequence[Finding]) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}; known: {', '.join(KINDS)}")
    if not scope:
        raise ValueError("an alert check needs a scope (e.g. 'pull', a file name)")
    keys = [f.key for f in findings]
    if len(keys) != len(set(keys)):
        raise ValueError(f"{kind}: two findings with the same key in one check: {keys}")
    for f in findings:
        if f.severity not in SEVERITIES:
            raise ValueError(f"{kind}/{f.key}: severity {f.severity!r} is not one of {SEVERITIES}")


def _finding_row(f: Finding) -> dict[str, Any]:
    """The columns a finding sets, fresh at every check that finds it."""
    return {
        "severity": f.severity, "message": f.message, "message_en": mask_text(f.message_en),
        "counts": json.dumps(dict(f.counts), ensure_ascii=False, default=str),
        "load_id": f.load_id, "period_from": f.period_from, "period_to": f.period_to,
    }


def _delivery(alert_id: str, event: str, channel: str, now: datetime) -> dict[str, Any]:
    return {
        "delivery_id": new_id(), "alert_id": alert_id, "event": event, "channel": channel,
        "status": PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now,
    }


def _resolution_deliveries(con: duckdb.DuckDBPyConnection, alert_ids: list[str],
                           now: datetime) -> list[dict[str, Any]]:
    """A "resolved" for every channel that was told the alert opened (queued or sent)."""
    told = con.execute(
        "SELECT DISTINCT alert_id, channel FROM dq_alert_deliveries "
        "WHERE event = 'opened' AND status <> 'failed' AND list_contains(?, alert_id) "
        "ORDER BY alert_id, channel",
        [alert_ids],
    ).fetchall()
    return [_delivery(alert_id, RESOLVED_EVENT, channel, now) for alert_id, channel in told]


def _write(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]],
           deliveries: list[dict[str, Any]]) -> None:
    """Both tables in one transaction on ``con`` (the audit cursor: not the load's)."""
    if not rows and not deliveries:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if rows:
            write_frame(con, DQ_ALERTS, _frame(DQ_ALERTS, rows))
        if deliveries:
            write_frame(con, DQ_ALERT_DELIVERIES, _frame(DQ_ALERT_DELIVERIES, deliveries))
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _frame(table, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = table.polars_schema()
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


# --------------------------------------------------------------------------- people


def acknowledge(wh: Warehouse, alert_id: str, by: str | None) -> dict[str, Any]:
    """Mark an open alert acknowledged: someone is on it, no more reminders. ``alert_id`` may
    be a unique prefix (at least 8 characters). Returns the alert row as it now is."""
    con = wh.audit_connection
    row = find_alert(con, alert_id)
    if row["status"] == RESOLVED:
        raise ValueError(f"alert {row['alert_id']} is already resolved ({row['resolved_at']})")
    if row["status"] == ACKNOWLEDGED:
        return row
    row |= {"status": ACKNOWLEDGED, "acknowledged_at": utc_now(), "acknowledged_by": by}
    _write(con, [row], [])
    return row


def find_alert(con: duckdb.DuckDBPyConnection, alert_id: str) -> dict[str, Any]:
    """One alert by id or unique id prefix (KeyError / ValueError otherwise)."""
    alert_id = alert_id.strip()
    if len(alert_id) < 8:
        raise ValueError(f"alert id {alert_id!r}: give at least 8 characters of it")
    found = con.execute("SELECT * FROM dq_alerts WHERE starts_with(alert_id, ?) ORDER BY alert_id",
                        [alert_id]).pl()
    if found.height == 0:
        raise KeyError(f"no alert with id {alert_id!r} (see `cchc alerts`)")
    if found.height > 1:
        raise ValueError(f"alert id {alert_id!r} is ambiguous: {', '.join(found['alert_id'])}")
    return found.row(0, named=True)


# --------------------------------------------------------------------------- the sender's side


def queue_reminders(con: duckdb.DuckDBPyConnection, alerts: AlertSettings,
                    now: datetime) -> int:
    """Queue a reminder per channel for open (not acknowledged) sendable alerts whose last
    message on that channel is ``remind_every_hours`` old and that have nothing pending there.
    Returns how many were queued."""
    if alerts.remind_every_hours <= 0 or not alerts.urls:
        return 0
    channels = list(alerts.channels())
    sendable = [s for s in SEVERITIES if alerts.sends(s)]
    due = con.execute(
        "SELECT d.alert_id, d.channel FROM dq_alert_deliveries d JOIN dq_alerts a USING (alert_id) "
        "WHERE a.status = 'open' AND list_contains(?, a.severity) AND list_contains(?, d.channel) "
        "AND d.event IN ('opened', 'reminder') GROUP BY d.alert_id, d.channel "
        "HAVING max(d.created_at) <= ? AND count(*) FILTER (d.status IN ('pending', 'sending')) = 0 "
        "AND count(*) FILTER (d.status = 'sent') > 0 ORDER BY 1, 2",
        [sendable, channels, now - timedelta(hours=alerts.remind_every_hours)],
    ).fetchall()
    queue = [_delivery(alert_id, REMINDER, channel, now) for alert_id, channel in due]
    _write(con, [], queue)
    return len(queue)


def claim_pending(con: duckdb.DuckDBPyConnection, channels: Sequence[str], now: datetime, *,
                  force: bool = False, stale_claim: timedelta = timedelta(minutes=15),
                  limit: int = 200) -> pl.DataFrame:
    """Mark due deliveries ``sending`` and return them with their alerts' columns (oldest first).

    Due: pending and past ``next_attempt_at`` (any time with ``force``), or claimed by a sender
    that died (``sending`` for longer than ``stale_claim``). Deliveries to a channel no longer
    configured are closed as failed."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE dq_alert_deliveries SET status = 'failed', "
            "last_error = 'the channel is no longer configured' "
            "WHERE status IN ('pending', 'sending') AND NOT list_contains(?, channel)",
            [list(channels)],
        )
        ids = [r[0] for r in con.execute(
            "SELECT delivery_id FROM dq_alert_deliveries WHERE "
            "(status = 'pending' AND (? OR next_attempt_at <= ?)) "
            "OR (status = 'sending' AND claimed_at <= ?) ORDER BY created_at, delivery_id LIMIT ?",
            [force, now, now - stale_claim, limit],
        ).fetchall()]
        if ids:
            con.execute("UPDATE dq_alert_deliveries SET status = 'sending', claimed_at = ? "
                        "WHERE list_contains(?, delivery_id)", [now, ids])
        claimed = con.execute(
            "SELECT d.delivery_id, d.event, d.channel, d.attempts, d.created_at AS queued_at, "
            "a.* FROM dq_alert_deliveries d JOIN dq_alerts a USING (alert_id) "
            "WHERE list_contains(?, d.delivery_id) ORDER BY d.created_at, d.delivery_id", [ids],
        ).pl()
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return claimed


def record_attempts(con: duckdb.DuckDBPyConnection, results: Sequence[tuple[str, str | None]],
                    now: datetime, *, max_attempts: int = 20) -> None:
    """Record send results: ``(delivery_id, None)`` sent, ``(delivery_id, error)`` failed (back
    to pending with a backoff of 1, 2, 4 … minutes, at most 6 h; given up after
    ``max_attempts``). The error must already have its secrets masked."""
    if not results:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        for delivery_id, error in results:
            if error is None:
                con.execute("UPDATE dq_alert_deliveries SET status = 'sent', sent_at = ?, "
                            "attempts = attempts + 1, last_error = NULL WHERE delivery_id = ?",
                            [now, delivery_id])
                continue
            attempts = con.execute("SELECT attempts + 1 FROM dq_alert_deliveries "
                                   "WHERE delivery_id = ?", [delivery_id]).fetchone()
            n = int(attempts[0]) if attempts else 1
            delay = timedelta(minutes=min(2 ** (n - 1), 360))
            con.execute(
                "UPDATE dq_alert_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
                "last_error = ? WHERE delivery_id = ?",
                [FAILED if n >= max_attempts else PENDING, n, now + delay, error[:2000],
                 delivery_id],
            )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
