"""What one load tells the alert book (warehouse/alerts.py, docs/alerts.md).

A gate that stopped the load opens ``gate_failed``; a load that failed opens ``load_failed``; a
load that passed resolves both (and a failed pull), records leaked secrets, row warnings (info)
and a quarantine spike against the system's recent loads. Recording never changes a load's
outcome: an error here is logged, not raised (:func:`safely`).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cchc.config import LOCAL_TZ
from cchc.staging import StagedBatch
from sources.spec import SourceSpec
from sources.window import parse_instant

if TYPE_CHECKING:
    from cchc.pipeline import LoadSummary

log = logging.getLogger("cchc.pipeline")


def _period(batch: StagedBatch) -> tuple[date | None, date | None]:
    """A pull's window as local dates (what a message calls the period); files have none."""
    if not batch.window_from or not batch.window_to:
        return None, None
    tz = ZoneInfo(LOCAL_TZ)
    return (parse_instant(batch.window_from).astimezone(tz).date(),
            parse_instant(batch.window_to).astimezone(tz).date())


def safely(what: str, record) -> None:
    """Recording an alert must never turn a load's outcome into a different error."""
    try:
        record()
    except Exception:
        log.exception("could not record the %s alert", what)


def alert_on_gate(wh, spec: SourceSpec, batch: StagedBatch, load_id: str, gate) -> None:
    """A gate stopped the load: ``gate_failed`` for the system's pulls (or files)."""
    from cchc.alert_findings import gate_finding
    from warehouse.alerts import GATE_FAILED

    finding = gate_finding(spec.system, gate.gate, gate.reason, load_id=load_id,
                           source=batch.source, rows=batch.rows,
                           reported_total=batch.reported_total, period=_period(batch))
    safely(GATE_FAILED, lambda: wh.record_check(GATE_FAILED, spec.system, batch.kind, [finding]))


def alert_on_failure(wh, spec: SourceSpec, batch: StagedBatch, load_id: str,
                      error: str | None) -> None:
    from cchc.alert_findings import load_failed_finding
    from warehouse.alerts import LOAD_FAILED

    finding = load_failed_finding(spec.system, load_id=load_id, source=batch.source,
                                  error=error or "failed", rows=batch.rows)
    safely(LOAD_FAILED, lambda: wh.record_check(LOAD_FAILED, spec.system, batch.kind, [finding]))


def alert_on_quality(wh, spec: SourceSpec, batch: StagedBatch, s: LoadSummary) -> None:
    """A load passed: the checks it passes resolve their alerts (gate, failure, a failed pull);
    secret leaks and a quarantine spike are alerts; row warnings are recorded as info."""
    safely("load", lambda: _record_quality(wh, spec, batch, s))


def _record_quality(wh, spec: SourceSpec, batch: StagedBatch, s: LoadSummary) -> None:
    from cchc import alert_findings as af
    from warehouse import alerts

    system, scope = spec.system, batch.kind
    wh.record_check(alerts.GATE_FAILED, system, scope, [])
    wh.record_check(alerts.LOAD_FAILED, system, scope, [])
    if scope == "pull":
        wh.record_check(alerts.PULL_FAILED, system, "pull", [])
    leaks = [af.secret_leak_finding(system, load_id=s.load_id, source=s.source,
                                    rows_withheld=s.rows_withheld)] if s.rows_withheld else []
    wh.record_check(alerts.SECRET_LEAK, system, scope, leaks)
    wh.record_check(alerts.ROW_WARNINGS, system, scope, af.row_findings(
        system, load_id=s.load_id, source=s.source, rows_loaded=s.rows_loaded,
        rows_warned=s.rows_warned, warning_reasons=s.warning_reasons,
        rows_quarantined=s.rows_quarantined, quarantine_reasons=s.quarantine_reasons))
    considered = s.rows_in - s.rows_duplicate
    verdict = af.judge_spike(considered, s.rows_quarantined,
                             _recent_quarantine_shares(wh, system, s.load_id))
    if verdict.spike:
        wh.record_check(alerts.QUARANTINE_SPIKE, system, "loads", [af.spike_finding(
            system, verdict, load_id=s.load_id, source=s.source, rows_considered=considered,
            rows_quarantined=s.rows_quarantined, quarantine_reasons=s.quarantine_reasons,
            quarantine_table=spec.quarantine_table.name)])
    elif verdict.share <= verdict.threshold:  # too small to open one, yet enough to close one
        wh.record_check(alerts.QUARANTINE_SPIKE, system, "loads", [])


def _recent_quarantine_shares(wh, system: str, load_id: str | None) -> list[float]:
    """Quarantined share of the system's latest loaded batches (each large enough to judge)."""
    from cchc.alert_findings import SPIKE_HISTORY, SPIKE_MIN_ROWS

    rows = wh.audit_connection.execute(
        "SELECT coalesce(rows_quarantined, 0)::DOUBLE / (rows_in - coalesce(rows_duplicate, 0)) "
        "FROM etl_loads WHERE source_system = ? AND load_id IS DISTINCT FROM ? "
        "AND status IN ('succeeded', 'recovered') AND rows_in - coalesce(rows_duplicate, 0) >= ? "
        "ORDER BY started_at DESC LIMIT ?",
        [system, load_id, SPIKE_MIN_ROWS, SPIKE_HISTORY],
    ).fetchall()
    return [float(r[0]) for r in rows if r[0] is not None]
