"""The distributed set-up: deployments in a process work pool, ``cchc worker`` on any machine.

The embedded default (``cchc serve`` running every deployment with Prefect's runner) stays as
it is. With ``[service] work_pool`` set, ``cchc serve`` registers the same deployments in that
pool instead and runs none itself; each ``cchc worker`` (same configuration: the server, the
catalog, the storage) polls the pool and runs flow runs in child processes of its own. The
writer slot (``cchc.names.WRITER_LIMIT``) is a global concurrency limit held through the
server, so it keeps one writer at a time across machines, where the warehouse's file lock
cannot (see docs/distributed.md).

Entry points are module paths (``flows.pull.pull_onestop``): a worker imports the flows from
the cchc installed beside it, so no code is pulled from storage (empty pull steps).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import sys
from typing import TYPE_CHECKING

from cchc.config import Settings

if TYPE_CHECKING:
    from uuid import UUID

    from flows.deployments import DeploymentSpec

log = logging.getLogger("cchc.service")

POOL_TYPE = "process"
WORKER_LIMIT = 2  # flow runs at once per worker; writers queue on the writer slot anyway
WORKER_POLL_S = 1  # how often a worker asks for due runs


def configured_pool(settings: Settings) -> str | None:
    """The work pool deployments go to, or None for the embedded default."""
    return settings.service.work_pool or None


async def ensure_work_pool(client, name: str) -> None:
    """Create the process work pool ``name`` unless it exists (idempotent)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:
        await client.read_work_pool(name)
        return
    except ObjectNotFound:
        pass
    try:
        await client.create_work_pool(WorkPoolCreate(name=name, type=POOL_TYPE))
        log.info("created process work pool %s", name)
    except ObjectAlreadyExists:  # another process created it first
        pass


async def register_in_pool(specs: list[DeploymentSpec], pool: str) -> list[UUID]:
    """Register each deployment (schedules, triggers, limits as in the embedded default) in
    ``pool``; returns their ids in ``specs`` order. A worker runs them."""
    from prefect import get_client

    from cchc.names import WRITER_LIMIT
    from cchc.service.recovery import ensure_writer_limit

    async with get_client() as client:
        await ensure_work_pool(client, pool)
        await ensure_writer_limit(client, WRITER_LIMIT)
    ids = []
    for spec in specs:
        deployment = await spec.flow().with_options(persist_result=True).ato_deployment(
            _deployment_name(), work_pool_name=pool, **spec.options)
        ids.append(await deployment.aapply(work_pool_name=pool))
    return ids


async def start_in_pool(client, writer_limit: str, pull_deployment_ids: list[UUID], *,
                        catch_up: bool = True, crashed_after_s: float = 90.0):
    """What ``cchc serve`` does at start in the distributed set-up, instead of the embedded
    default's recovery: make sure the writer limit exists and ask for the catch-up pulls. It
    neither marks runs in progress Crashed nor frees writer slots: those runs belong to workers
    that may well be alive (a dead worker's runs are marked Crashed by the automation when
    their heartbeats stop, its slot's lease expires)."""
    from cchc.service.recovery import Recovery, ensure_writer_limit

    done = Recovery()
    await ensure_writer_limit(client, writer_limit)
    await ensure_crashed_run_automation(client, crashed_after_s)
    if catch_up:
        for deployment_id in pull_deployment_ids:
            run = await client.create_flow_run_from_deployment(deployment_id, tags=["catch-up"])
            done.catch_up.append(run.id)
    return done


CRASHED_RUNS_AUTOMATION = "cchc-crashed-flow-runs"


async def ensure_crashed_run_automation(client, after_s: float) -> None:
    """The server marks a flow run Crashed when its heartbeats stop for ``after_s`` seconds
    (its worker or machine died): Prefect's documented "zombie" automation, created once.
    Flow runs send heartbeats in pool mode (``[service] heartbeat_s``); a load-scope run then
    submits the crashed work item again (``cchc.work_items``)."""
    from datetime import timedelta

    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    if await client.read_automations_by_name(CRASHED_RUNS_AUTOMATION):
        return
    await client.create_automation(AutomationCore(
        name=CRASHED_RUNS_AUTOMATION,
        description="Mark a flow run Crashed when its heartbeats stop (a dead worker).",
        trigger=EventTrigger(
            match={"prefect.resource.id": ["prefect.flow-run.*"]},
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.*"},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=after_s),
        ),
        actions=[ChangeFlowRunState(
            state=StateType.CRASHED,
            message=f"no heartbeat for {after_s:g} s: the worker running it is gone")],
    ))
    log.info("created automation %s (%g s without heartbeat)", CRASHED_RUNS_AUTOMATION, after_s)


def _deployment_name() -> str:
    from cchc.names import DEPLOYMENT_NAME

    return DEPLOYMENT_NAME


def worker_name(given: str | None = None) -> str:
    """``cchc-<host>`` unless given: one name per machine (Prefect treats equal names as one
    worker)."""
    return given or f"cchc-{socket.gethostname()}"


async def run_worker_async(pool: str, name: str, limit: int = WORKER_LIMIT,
                           run_once: bool = False) -> None:
    """Poll ``pool`` and run its flow runs as child processes until cancelled."""
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings as PrefectSettings
    from prefect.workers.process import ProcessWorker

    # Prefect may have been imported before the environment was set: re-read it.
    with SettingsContext(profile=get_settings_context().profile, settings=PrefectSettings()):
        async with ProcessWorker(work_pool_name=pool, name=name, limit=limit,
                                 create_pool_if_not_found=True) as worker:
            # Not the `cchc` logger: Prefect ships that one to the API, which wants a flow run.
            await worker.start(run_once=run_once, printer=functools.partial(print, file=sys.stderr))


def run_worker(settings: Settings, pool: str | None = None, name: str | None = None,
               limit: int = WORKER_LIMIT) -> None:
    """``cchc worker``: the project's Prefect environment (server URL and auth string, data
    folder, catalog), then a process worker on the pool until Ctrl-C."""
    from cchc.service.runtime import apply_environment, prefect_environment, setup_logging

    pool = pool or configured_pool(settings)
    if not pool:
        raise RuntimeError("no work pool: set [service] work_pool (CCHC_WORK_POOL) or --pool")
    api_url = settings.service.prefect_api_url
    if not api_url:
        raise RuntimeError("a worker needs the server: set [service] prefect_api_url "
                           "(CCHC_PREFECT_API_URL) to the API of the machine running cchc serve")
    setup_logging(settings)
    apply_environment(prefect_environment(settings, api_url.rstrip("/")), api_url)
    try:
        asyncio.run(run_worker_async(pool, worker_name(name), limit))
    except KeyboardInterrupt:
        log.info("worker stopped")
