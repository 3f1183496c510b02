"""``cchc backfill``: pull a long period month by month, resumably.

Prefect has no built-in backfill; this loops over months. Windows are *local* calendar months
(Asia/Ho_Chi_Minh), [month start, next month start), handed to the flow as UTC instants — e.g.
January 2021 is ``2020-12-31T17:00:00Z`` to ``2021-01-31T17:00:00Z``. Local months are how the
offices count, contiguous windows leave no gap whatever the zone, and a month's run shows in the
Prefect UI under the month people ask about.

Each window runs through the pull deployment (``run_deployment``) when a service is serving it,
so it queues behind the writer limit and shows in the UI; otherwise the flow is called directly
(a temporary Prefect server is started for the process). A small JSON file under the data folder
records finished windows: an interrupted backfill, started again with the same range, skips
them. Pulls are idempotent per window, so re-running one (``--redo``) changes nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cchc.config import Settings


@dataclass(frozen=True)
class Window:
    """One month to pull: [since, until) as ISO UTC strings, and its local label."""

    label: str  # "2021-01"
    since: str
    until: str

    @property
    def key(self) -> str:
        return f"{self.since}/{self.until}"


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def month_windows(first: date, last: date, tz: str) -> list[Window]:
    """Local-month windows covering the days ``first`` .. ``last`` (both included)."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    zone = ZoneInfo(tz)
    end = date.fromordinal(last.toordinal() + 1)
    windows = []
    start = first
    while start < end:
        stop = min(_next_month(start), end)
        since = datetime(start.year, start.month, start.day, tzinfo=zone)
        until = datetime(stop.year, stop.month, stop.day, tzinfo=zone)
        windows.append(Window(start.strftime("%Y-%m"), _iso_z(since), _iso_z(until)))
        start = stop
    return windows


class BackfillState:
    """Finished windows, kept in ``<data>/service/backfill-<source>.json`` (atomic writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.windows: dict[str, dict[str, Any]] = {}
        if path.is_file():
            self.windows = json.loads(path.read_text(encoding="utf-8")).get("windows", {})

    @classmethod
    def for_source(cls, settings: Settings, source_system: str) -> BackfillState:
        return cls(settings.data_dir / "service" / f"backfill-{source_system}.json")

    def done(self, window: Window) -> bool:
        return self.windows.get(window.key, {}).get("status") == "done"

    def mark_done(self, window: Window, **info: Any) -> None:
        self.windows[window.key] = {"status": "done", "label": window.label,
                                    "finished_at": _iso_z(datetime.now(UTC)), **info}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"windows": self.windows}, indent=1, sort_keys=True),
                       encoding="utf-8")
        os.replace(tmp, self.path)


class BackfillError(RuntimeError):
    """A window did not complete; the finished ones stay recorded."""


RunWindow = Callable[[Window], dict[str, Any]]


def via_deployment(deployment_name: str, *, pickup_timeout_s: float = 120.0,
                   poll_s: float = 1.0, on_state: Callable[[str], None] | None = None,
                   collision_retries: int = 60, collision_wait_s: float = 10.0) -> RunWindow:
    """Run each window through the served deployment and wait for it. A month cancelled because
    another pull of the system was running is run again (up to ``collision_retries`` times)."""

    def run(window: Window) -> dict[str, Any]:
        for _ in range(collision_retries + 1):
            flow_run, state = _run_once(window)
            if not _collided(state):
                break
            # another pull of this system was running (nightly, notification): the deployment
            # cancels a second one at once; wait for it and run the month again
            time.sleep(collision_wait_s)
        if not state.is_completed():
            raise BackfillError(f"{window.label}: run {flow_run.name} ended {state.name}: "
                                f"{state.message or ''}".rstrip(": "))
        return {"flow_run_id": str(flow_run.id), "mode": "deployment"}

    def _run_once(window: Window):
        from prefect import get_client
        from prefect.deployments import run_deployment
        from prefect.states import Cancelling

        flow_run = run_deployment(
            deployment_name, parameters={"since": window.since, "until": window.until},
            timeout=0, as_subflow=False, tags=["backfill"],
            flow_run_name=f"backfill-{window.label}")
        created = time.monotonic()
        try:
            with get_client(sync_client=True) as client:
                while True:
                    flow_run = client.read_flow_run(flow_run.id)
                    state = flow_run.state
                    if on_state and state is not None:
                        on_state(state.name)
                    if state is not None and state.is_final():
                        break
                    if (state is None or state.is_scheduled()) and \
                            time.monotonic() - created > pickup_timeout_s:
                        raise BackfillError(
                            f"{window.label}: no runner picked the run up in "
                            f"{pickup_timeout_s:.0f} s — is `cchc serve` running?")
                    time.sleep(poll_s)
        except KeyboardInterrupt:
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(flow_run.id, Cancelling(message="backfill interrupted"))
            raise
        return flow_run, state

    return run


def _collided(state) -> bool:
    """Cancelled by the pull deployment's one-at-a-time limit (not by a person)."""
    return bool(state is not None and state.is_cancelled()
                and "concurrency limit" in (state.message or "").lower())


def via_flow(flow: Callable[..., dict[str, Any]]) -> RunWindow:
    """Call the flow in this process (no service is running)."""

    def run(window: Window) -> dict[str, Any]:
        summary = flow(since=window.since, until=window.until) or {}
        if summary.get("status") not in (None, "succeeded", "skipped"):
            raise BackfillError(f"{window.label}: load {summary.get('status')}: "
                                f"{summary.get('message') or ''}")
        keep = ("load_id", "rows_in", "rows_loaded", "rows_quarantined")
        return {"mode": "direct", **{k: summary[k] for k in keep if k in summary}}

    return run


def run_backfill(windows: list[Window], state: BackfillState, run_window: RunWindow,
                 *, redo: bool = False,
                 progress: Callable[[Window, str], None] | None = None) -> tuple[int, int]:
    """Run every window not yet done, in order; return (ran, skipped)."""
    ran = skipped = 0
    for window in windows:
        if not redo and state.done(window):
            skipped += 1
            if progress:
                progress(window, "skipped")
            continue
        if progress:
            progress(window, "running")
        info = run_window(window)
        state.mark_done(window, **info)
        ran += 1
        if progress:
            progress(window, "done")
    return ran, skipped
