"""Every deployment the service serves, declared once: schedules, triggers, parameters.

- one pull deployment per source system (``sources.registry``), nightly on a cron in local
  time, and again whenever the source's change event arrives;
- the file-ingest deployment, run by a trigger on ``cchc.inbox.file.arrived`` with the path
  taken from the event;
- the hourly freshness check that raises the missing-data alert;
- on the ``ducklake`` backend only, the weekly lake upkeep (``warehouse.upkeep``);
- in pool mode only, ``load-district`` and ``load-scope`` (work items, ``cchc.work_items``).

All are named ``<flow name>/cchc`` (``onestop-pull/cchc``, ``eoffice-pull/cchc``, ...). Flows are given as import
strings so this module stays cheap to import and tests can serve stand-in flows of the same
names. Entry points are module paths, so the runner's subprocesses import the flows wherever the
service was started from.

``cchc serve`` adds them with ``Runner.aadd_flow`` (the flow object stays in the runner, which
then starts runs from it directly: see ``cchc.service.warm_start``).

Trigger parameter templates are *strings* (``"{{ event.payload.path }}"``): Prefect renders a
bare ``{{ x }}`` of a UUID or datetime to a non-JSON value and the action fails silently.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cchc.config import Settings
from cchc.names import (
    DEPLOYMENT_NAME,
    INBOX_FILE_ARRIVED,
    INBOX_RESOURCE_PREFIX,
    WRITER_LIMIT,  # noqa: F401  (re-exported for the service)
    source_resource,
)
from sources.registry import SOURCES

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

FRESHNESS_CRON = "5 * * * *"  # hourly, local time
UPKEEP_CRON = "30 3 * * 0"  # Sundays 03:30 local time, after the nightly pulls


@dataclass(frozen=True)
class SourcePull:
    """A source system pulled on a schedule and on its change notifications."""

    source_system: str
    flow: str  # "module:attribute" of a flow taking since/until, both optional
    change_event: str | None = None


@dataclass(frozen=True)
class FlowRefs:
    """Which flow objects to serve (tests swap in stand-ins with the same flow names)."""

    pulls: tuple[SourcePull, ...] = tuple(
        SourcePull(spec.system, f"flows.pull:pull_{spec.system}", spec.change_event)
        for spec in SOURCES
    )
    ingest: str = "flows.ingest:ingest_file"
    freshness: str = "flows.freshness:check_freshness"
    upkeep: str = "flows.upkeep:lake_upkeep"
    # Pool mode only: the scope split into work items (cchc.work_items).
    district: str = "flows.scope:load_district"
    scope: str = "flows.scope:load_scope"
    tags: tuple[str, ...] = field(default=("cchc",))


DEFAULT_FLOWS = FlowRefs()


def load_flow(ref: str) -> Flow:
    """Import ``module:attribute`` and return the flow object."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def full_name(ref: str) -> str:
    """``<flow name>/cchc``: what ``run_deployment`` and the UI call the deployment."""
    return f"{load_flow(ref).name}/{DEPLOYMENT_NAME}"


def pull_deployment_name(source_system: str, refs: FlowRefs = DEFAULT_FLOWS) -> str:
    for pull in refs.pulls:
        if pull.source_system == source_system:
            return full_name(pull.flow)
    raise KeyError(f"no pull deployment for source system {source_system!r}")


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: the flow (import string) and its ``to_deployment`` arguments."""

    flow_ref: str
    options: dict[str, Any]

    def flow(self) -> Flow:
        return load_flow(self.flow_ref)

    def to_deployment(self) -> RunnerDeployment:
        """The RunnerDeployment (call outside an event loop; Prefect's method is dual-mode)."""
        return self.flow().to_deployment(DEPLOYMENT_NAME, **self.options)


PULL_CONCURRENCY = 1


def pull_concurrency():
    """Each pull deployment's limit: one run at a time, collisions cancelled (CANCEL_NEW)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    return ConcurrencyLimitConfig(limit=PULL_CONCURRENCY,
                                  collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def deployment_specs(settings: Settings, refs: FlowRefs = DEFAULT_FLOWS) -> list[DeploymentSpec]:
    """The deployments, pulls first (in ``refs.pulls`` order), then ingest, then freshness,
    then the upkeep."""
    from prefect.events import DeploymentEventTrigger
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    svc = settings.service
    common: dict[str, Any] = {"entrypoint_type": EntrypointType.MODULE_PATH}
    specs = []
    enabled = set(settings.enabled_systems())
    for pull in refs.pulls:
        if pull.source_system not in enabled:
            continue
        triggers = []
        if pull.change_event:
            triggers.append(DeploymentEventTrigger(
                name=f"{pull.source_system}-changed",
                description=f"Pull the increment when {pull.source_system} reports changes.",
                expect={pull.change_event},
                match={"prefect.resource.id": source_resource(pull.source_system)},
                parameters=None,  # no since/until: from the stored watermark to now
            ))
        specs.append(DeploymentSpec(pull.flow, {
            "schedules": [Cron(svc.nightly_cron, timezone=svc.timezone)],
            "triggers": triggers,
            "description": (f"Pull {pull.source_system}: nightly ({svc.nightly_cron} {svc.timezone}), "
                            "on change notifications, and month by month for backfills."),
            "tags": [*refs.tags, pull.source_system],
            # One pull per system at a time; a run that would start while one runs is cancelled
            # at once (not queued): a burst of notifications (or an outage's worth) becomes one
            # pull and never fills the runner's slots, so inbox files still go through.
            "concurrency_limit": pull_concurrency(),
            **common,
        }))
    specs.append(DeploymentSpec(refs.ingest, {
        "triggers": [DeploymentEventTrigger(
            name="inbox-file-arrived",
            description="Ingest each file completed in the inbox folder.",
            expect={INBOX_FILE_ARRIVED},
            match={"prefect.resource.id": f"{INBOX_RESOURCE_PREFIX}*"},
            parameters={"path": "{{ event.payload.path }}", "from_inbox": True},
        )],
        "description": "Load one export (dossier list, document register) dropped in the inbox.",
        "tags": [*refs.tags, "inbox"],
        **common,
    }))
    specs.append(DeploymentSpec(refs.freshness, {
        "schedules": [Cron(FRESHNESS_CRON, timezone=svc.timezone)],
        "description": (f"Alert when a source has had no successful load for "
                        f"{svc.stale_after_hours:g} hours."),
        "tags": [*refs.tags, "alert"],
        **common,
    }))
    specs.append(DeploymentSpec(refs.upkeep, {
        "schedules": [Cron(UPKEEP_CRON, timezone=svc.timezone)],
        "description": (
            "Merge the lake's small files, expire snapshots (every published one of the "
            f"last {settings.warehouse.keep_published_months} months is kept) and delete "
            "files no kept snapshot needs." if settings.warehouse.backend == "ducklake" else
            "Compact the warehouse file: merge the row groups loads left partly filled."),
        "tags": [*refs.tags, "upkeep"],
        "concurrency_limit": 1,
        **common,
    }))
    if settings.service.work_pool:  # work items need workers: not in the embedded default
        specs.append(DeploymentSpec(refs.district, {
            "description": "Load one district's export files (a work item of load-scope).",
            "tags": [*refs.tags, "work-item"], **common}))
        specs.append(DeploymentSpec(refs.scope, {
            "description": ("Load a scope folder: one load-district run per district folder, "
                            "in parallel on the pool's workers; crashed runs submitted again."),
            "tags": [*refs.tags, "scope"], **common}))
    return specs


def build_deployments(settings: Settings, refs: FlowRefs = DEFAULT_FLOWS) -> list[RunnerDeployment]:
    """The RunnerDeployments, e.g. to inspect them or hand them to ``prefect.serve``."""
    return [spec.to_deployment() for spec in deployment_specs(settings, refs)]
