"""The missing-data alert: a source with no successful load for too long.

Nightly pulls can fail quietly for many reasons (the provincial system down, an expired token,
the service stopped). So an hourly check looks at the last successful load of each source in
the published snapshot (read-only: it never waits for, or blocks, a load) and, when it is older
than ``stale_after_hours`` (default 26: one nightly run missed plus slack) or there never was
one, emits ``cchc.alert.stale-source`` (Prefect automations can forward it by e-mail/Telegram)
and logs a warning. It records a ``stale_source`` alert in the warehouse (``dq_alerts``,
sent to the alert channels) once per stale episode, not every hour, and resolves it at the
first check that finds the source fresh again.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cchc.config import Settings
from cchc.service.events import STALE_SOURCE, Emit, source_resource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Staleness:
    """A source whose data is missing: when it last loaded (None: never) and for how long."""

    source_system: str
    last_success: str | None
    hours_since: float | None
    threshold_hours: float

    @property
    def message(self) -> str:
        if self.last_success is None:
            return f"{self.source_system}: no successful load recorded"
        return (f"{self.source_system}: no successful load for {self.hours_since:.1f} h "
                f"(last {self.last_success}, alert after {self.threshold_hours:g} h)")


def find_stale(last_success: Mapping[str, datetime | None], now: datetime,
               after_hours: float) -> list[Staleness]:
    """The sources whose last success is missing or older than ``after_hours``."""
    stale = []
    for source, when in sorted(last_success.items()):
        if when is None:
            stale.append(Staleness(source, None, None, after_hours))
            continue
        age = now - when.astimezone(UTC)
        if age > timedelta(hours=after_hours):
            stale.append(Staleness(source, when.astimezone(UTC).isoformat(),
                                   round(age.total_seconds() / 3600, 2), after_hours))
    return stale


def read_last_success(settings: Settings, sources: Iterable[str]) -> dict[str, datetime | None]:
    """Last successful load per source, from the published snapshot (None if none)."""
    from warehouse import audit
    from warehouse.reader import SnapshotMissing, open_snapshot

    sources = list(sources)
    try:
        con = open_snapshot(settings)
    except SnapshotMissing:
        return dict.fromkeys(sources)
    try:
        return {source: audit.last_success(con, source) for source in sources}
    finally:
        con.close()


Record = Callable[[Staleness], None]


Resolve = Callable[[str], None]
FRESHNESS_SCOPE = "freshness"


def _record_check(settings: Settings, system: str, findings: list, writer_slot: bool) -> None:
    """Record the ``stale_source`` check of one system, publish (``cchc status`` shows it) and
    send it. Inside a flow run it first takes the Prefect writer slot (``writer_slot``), like
    every warehouse write."""
    from cchc.notify import deliver_pending
    from warehouse.alerts import STALE_SOURCE
    from warehouse.writer import Warehouse

    with contextlib.ExitStack() as stack:
        if writer_slot:
            from prefect.concurrency.sync import concurrency

            from flows.deployments import WRITER_LIMIT

            stack.enter_context(concurrency(WRITER_LIMIT, occupy=1, timeout_seconds=120,
                                            strict=False))
        wh = stack.enter_context(Warehouse.open(settings, lock_timeout_s=120))
        wh.record_check(STALE_SOURCE, system, FRESHNESS_SCOPE, findings)
        wh.publish()
    deliver_pending(settings)


def record_in_warehouse(settings: Settings, *, writer_slot: bool = True) -> Record:
    """Open (or refresh) the source's ``stale_source`` alert."""

    def record(stale: Staleness) -> None:
        from cchc.alert_findings import stale_finding

        _record_check(settings, stale.source_system, [stale_finding(
            stale.source_system, stale.last_success, stale.hours_since, stale.threshold_hours)],
            writer_slot)

    return record


def resolve_in_warehouse(settings: Settings, *, writer_slot: bool = True) -> Resolve:
    """Resolve the source's ``stale_source`` alert: it loaded again."""

    def resolve(system: str) -> None:
        _record_check(settings, system, [], writer_slot)

    return resolve


class EpisodeLog:
    """Which stale episodes were already recorded: one record per (source, last success)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}

    def new(self, stale: Staleness) -> bool:
        return self.seen.get(stale.source_system) != str(stale.last_success)

    def remember(self, stale: Staleness) -> None:
        self.seen[stale.source_system] = str(stale.last_success)
        self._save()

    def forget(self, source_system: str) -> None:
        """The episode ended (the source is fresh again)."""
        self.seen.pop(source_system, None)
        self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.seen, indent=1))


def check(settings: Settings, sources: Iterable[str], *, emit: Emit,
          lookup: Callable[[Settings, Iterable[str]], Mapping[str, datetime | None]] = read_last_success,
          record: Record | None = None, resolve: Resolve | None = None,
          now: datetime | None = None) -> list[Staleness]:
    """Emit, log and (once per episode) record an alert for every stale source; resolve the
    recorded episode of a source that is fresh again (``resolve``)."""
    now = now or datetime.now(UTC)
    sources = list(sources)
    stale = find_stale(lookup(settings, sources), now, settings.service.stale_after_hours)
    episodes = EpisodeLog(settings.data_dir / "service" / "freshness-alerts.json")
    stale_systems = {item.source_system for item in stale}
    for system in sources:
        if resolve is not None and system not in stale_systems and system in episodes.seen:
            try:
                resolve(system)
                episodes.forget(system)
            except Exception:
                log.exception("could not resolve the stale-source alert of %s", system)
    for item in stale:
        log.warning("missing data: %s", item.message)
        emit(STALE_SOURCE, source_resource(item.source_system), asdict(item) | {"message": item.message})
        if record is not None and episodes.new(item):
            try:
                record(item)
                episodes.remember(item)
            except Exception:  # the event and the log line are the alert; the record is a copy
                log.exception("could not record the stale-source alert in the warehouse")
    return stale
