"""What ``cchc serve`` puts right on the Prefect server before it takes work.

A service that was killed (power cut, OOM, ``kill -9``) leaves traces a clean stop would not:
runs still marked Running that no process runs any more, and a writer slot those runs still
hold (Prefect releases a dead holder's slot only when its lease expires, minutes later). At
start, while holding the service lock (so no other ``cchc serve`` runs for this data folder):

1. create the global concurrency limit of one warehouse writer, if missing;
2. mark our deployments' runs still Pending/Running/Cancelling as Crashed;
3. free the writer slot they held;
4. run the crashed pulls again with the same parameters (pulls are idempotent per window),
   and pull once from the watermark (the *catch-up*): changes notified while the service was
   down, or a run killed mid-load, are then in the warehouse within minutes of the restart.

Files whose ingest was interrupted are still in the inbox; the watcher's first scan finds them.
Nights missed while down need nothing here: ``serve`` runs with ``pause_on_shutdown=False``, so
their scheduled runs stayed on the server and start as soon as the runner polls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

log = logging.getLogger(__name__)

WRITER_SLOTS = 1


@dataclass
class Recovery:
    """What the start-up found and did, for the log and the tests."""

    crashed: list[UUID] = field(default_factory=list)
    resubmitted: list[UUID] = field(default_factory=list)
    catch_up: list[UUID] = field(default_factory=list)
    slots_freed: int = 0


async def ensure_writer_limit(client: PrefectClient, name: str) -> None:
    """One warehouse writer at a time, across every run this server starts."""
    await client.upsert_global_concurrency_limit_by_name(name, WRITER_SLOTS)


async def orphaned_runs(client: PrefectClient, deployment_ids: list[UUID]) -> list:
    """Runs of our deployments that claim to be in progress."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    return await client.read_flow_runs(flow_run_filter=FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=deployment_ids),
        state=FlowRunFilterState(type=FlowRunFilterStateType(
            any_=[StateType.PENDING, StateType.RUNNING, StateType.CANCELLING])),
    ))


async def free_writer_slots(client: PrefectClient, name: str) -> int:
    """Set the limit's taken slots to 0; return how many were taken."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    limit = await client.read_global_concurrency_limit_by_name(name)
    if limit.active_slots:
        await client.update_global_concurrency_limit(
            name, GlobalConcurrencyLimitUpdate(active_slots=0))
    return limit.active_slots


async def recover(client: PrefectClient, *, writer_limit: str, deployment_ids: list[UUID],
                  pull_deployment_ids: list[UUID], catch_up: bool = True) -> Recovery:
    """Steps 1–4 of the module docstring."""
    from prefect.states import Crashed

    done = Recovery()
    await ensure_writer_limit(client, writer_limit)
    orphans = await orphaned_runs(client, deployment_ids)
    for run in orphans:
        await client.set_flow_run_state(
            run.id, Crashed(message="the cchc service stopped while this run was in progress"),
            force=True)
        done.crashed.append(run.id)
        log.warning("run %s (%s) was left in progress by a stopped service: marked Crashed",
                    run.name, run.state_name)
    done.slots_freed = await free_writer_slots(client, writer_limit)
    if done.slots_freed:
        log.warning("freed %d writer slot(s) held by runs of a stopped service", done.slots_freed)

    from_watermark_pending: set[UUID] = set()
    for run in orphans:
        if run.deployment_id not in pull_deployment_ids:
            continue
        params = dict(run.parameters or {})
        again = await client.create_flow_run_from_deployment(
            run.deployment_id, parameters=params, tags=["recovered"])
        done.resubmitted.append(again.id)
        if not params.get("since") and not params.get("until"):
            from_watermark_pending.add(run.deployment_id)
    if catch_up:
        for deployment_id in pull_deployment_ids:
            if deployment_id in from_watermark_pending:
                continue
            run = await client.create_flow_run_from_deployment(deployment_id, tags=["catch-up"])
            done.catch_up.append(run.id)
    return done
