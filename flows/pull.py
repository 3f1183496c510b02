"""The pull flow of every source system: nightly, on change notifications, and for backfills.

One flow per system (``onestop-pull``, ``eoffice-pull``: the UI and the deployments tell them
apart by name), all made by :func:`pull_flow` from the system's spec. A new system in
``sources.registry`` gets its flow, ``flows.pull:pull_<system>``, with no code here.
"""

from __future__ import annotations

import logging

from prefect import Flow, flow, get_run_logger, task

from cchc import pipeline
from cchc.config import Settings, load_settings
from cchc.names import SOURCE_FAILED, source_resource
from flows.common import deliver_alerts_task, load_task, publish_task
from sources.registry import SOURCES, source
from sources.spec import SourceSpec

log = logging.getLogger("cchc.flows.pull")


def _transient(task, task_run, state) -> bool:
    """Retry a pull only when waiting can help: not after a refused token or request, nor when
    nothing listens at the source's address."""
    from sources.errors import SourceAuthError, SourceRequestError, SourceUnreachableError

    try:
        state.result()
    except (SourceAuthError, SourceRequestError, SourceUnreachableError):
        return False
    except Exception:
        return True
    return True


@task(name="resolve-window")
def window_task(settings: Settings, system: str, since: str | None, until: str | None) -> tuple[str, str]:
    """[since, until): given, or from the system's stored watermark up to now."""
    return pipeline.resolve_window(settings, source(system), since, until)


@task(name="pull-to-staging", task_run_name="pull {system}", retries=2, retry_delay_seconds=30,
      retry_condition_fn=_transient)
def pull_task(settings: Settings, system: str, since: str, until: str) -> pipeline.StagedBatch:
    """Pull the window page by page into parquet parts (the client retries single requests)."""
    batch = pipeline.stage_pull(settings, source(system), pipeline.parse_instant(since),
                                pipeline.parse_instant(until))
    get_run_logger().info("pulled %d item(s) (API total %s) into %d part(s)",
                          batch.rows, batch.reported_total, len(batch.parts))
    return batch


class PullRejected(RuntimeError):
    """A batch gate rejected the pull: its ``gate_failed`` alert already says so."""


def run_pull(settings: Settings, spec: SourceSpec, since: str | None, until: str | None) -> dict:
    """Window, pull, load, publish, send alerts: the body every system's pull flow runs."""
    since_s, until_s = window_task(settings, spec.system, since, until)
    batch = pull_task(settings, spec.system, since_s, until_s)
    summary = load_task(settings, batch)
    if summary.status == "succeeded":
        publish_task(settings)
        pipeline.cleanup(batch)
    deliver_alerts_task(settings)
    if summary.status == "rejected":
        raise PullRejected(f"{spec.system} pull rejected: {summary.message}")
    return summary.as_dict()


def report_failure(settings: Settings, spec: SourceSpec, message: str,
                   flow_run_id: str | None = None, emit=None) -> None:
    """Make a failed pull visible: a ``pull_failed`` alert (sent to the alert channels; the
    next successful pull resolves it) and a ``cchc.alert.source-failed`` event
    (``emit(event, resource, payload)``; default: Prefect's events client).

    Best effort on both: reporting a failure must never raise a second one."""
    from cchc.alert_findings import pull_failed_finding
    from warehouse.alerts import PULL_FAILED

    text = f"{spec.title} ({spec.system}): pull failed: {message}"
    record_alert(settings, PULL_FAILED, spec.system, "pull",
                 [pull_failed_finding(spec.system, message, flow_run_id)])
    try:
        if emit is None:
            from cchc.service.events import prefect_emit as emit
        emit(SOURCE_FAILED, source_resource(spec.system),
             {"source_system": spec.system, "message": text, "flow_run_id": flow_run_id})
    except Exception:
        log.exception("could not emit the %s failure event", spec.system)


def record_alert(settings: Settings, kind: str, system: str | None, scope: str,
                 findings: list) -> None:
    """Record a check's findings and send what it opened or resolved; never raises (a flow's
    state hook calls it)."""
    try:
        _record_check(settings, kind, system, scope, findings)
    except Exception:
        log.exception("could not record the %s alert of %s", kind, system or "cchc")
        return
    try:
        from cchc.notify import deliver_pending

        deliver_pending(settings)
    except Exception:
        log.exception("could not send the %s alert", kind)


def _record_check(settings: Settings, kind: str, system: str | None, scope: str,
                  findings: list) -> None:
    """A check with nothing found (every completed run resolves its ``flow_failed``) only
    resolves what is open: the light open (no schema check, seeds, views or recovery; 0.04 s
    instead of seconds on a large warehouse) suffices, unless the alert tables do not exist
    yet."""
    import duckdb

    from warehouse.writer import Warehouse

    if not findings:
        try:
            with Warehouse.open_for_audit(settings) as wh:
                wh.record_check(kind, system, scope, findings)
            return
        except duckdb.CatalogException:  # a warehouse never prepared: open it properly
            pass
    with Warehouse.open(settings) as wh:
        wh.record_check(kind, system, scope, findings)


def flow_state_hooks(system: str | None) -> dict[str, list]:
    """``on_crashed`` / ``on_completion`` hooks of a flow: a crashed run is a ``flow_failed``
    alert, resolved by the flow's next completed run (``on_failure`` is the flow's own)."""
    from warehouse.alerts import FLOW_FAILED

    def on_crashed(flow, flow_run, state) -> None:
        from cchc.alert_findings import flow_failed_finding

        record_alert(load_settings(), FLOW_FAILED, system, flow.name, [flow_failed_finding(
            flow.name, flow_run.name, state.name or "Crashed", state.message or "", system)])

    def on_completion(flow, flow_run, state) -> None:
        record_alert(load_settings(), FLOW_FAILED, system, flow.name, [])

    return {"on_crashed": [on_crashed], "on_completion": [on_completion]}


def _rejected(state) -> bool:
    """The run failed because a gate rejected its batch (already alerted as gate_failed)."""
    try:
        return isinstance(state.result(raise_on_failure=False), PullRejected)
    except Exception:
        return "pull rejected" in (state.message or "")


def pull_flow(spec: SourceSpec) -> Flow:
    """The pull flow of one system. A failed run raises an alert (see :func:`report_failure`),
    so an outage or a refused token leaves a trace beside the failed run; a crashed run is a
    ``flow_failed`` alert."""

    def pull(since: str | None = None, until: str | None = None) -> dict:
        return run_pull(load_settings(), spec, since, until)

    def on_failure(flow, flow_run, state) -> None:
        if _rejected(state):
            return
        report_failure(load_settings(), spec, state.message or "failed", str(flow_run.id))

    pull.__doc__ = (f"Pull {spec.entity}s of the {spec.title} updated in [since, until) (default: "
                    "from the watermark to now), validate, load and publish. Idempotent per "
                    "window: pulling the same window again changes nothing.")
    pull.__name__ = pull.__qualname__ = f"pull_{spec.system}"
    return flow(name=f"{spec.system}-pull", log_prints=True, on_failure=[on_failure],
                **flow_state_hooks(spec.system))(pull)


PULL_FLOWS: dict[str, Flow] = {spec.system: pull_flow(spec) for spec in SOURCES}
# Module attributes ``pull_<system>``: what deployments name as their entry points.
globals().update({f"pull_{system}": f for system, f in PULL_FLOWS.items()})


def flow_ref(system: str) -> str:
    """The ``module:attribute`` of a system's pull flow."""
    return f"{__name__}:pull_{system}"
