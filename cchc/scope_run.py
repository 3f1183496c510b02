"""``cchc scope``: check a scope folder here, then start ``load-scope`` on the pool and follow it.

The split is read locally first (:func:`checked_items`), so a wrong or empty folder is said at
once rather than as a failed run on some worker. The run goes to the same server the workers
use: ``[service] prefect_api_url`` with the API auth string, or the ``cchc serve`` running on
this data folder (``cchc.service.handoff``). Work items exist only in pool mode
(``[service] work_pool``), so without it the command says what to set and submits nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from cchc.config import Settings
from cchc.work_items import WorkItem, work_items

LOAD_SCOPE = "load-scope"
POLL_S = 3.0  # how often --wait asks the server (progress is printed when it changes)


class ScopeError(RuntimeError):
    """The scope cannot be started: the message says why and what to do."""


@dataclass(frozen=True)
class SubmittedRun:
    """The ``load-scope`` flow run this command created."""

    flow_run_id: str
    ui_url: str


@dataclass(frozen=True)
class Progress:
    """Where a load-scope run stands: its own state and each district's latest run state."""

    state: str
    districts: dict[str, str] = field(default_factory=dict)
    final: bool = False

    def line(self) -> str:
        parts = [f"{name} {state.lower()}" for name, state in sorted(self.districts.items())]
        return f"load-scope {self.state.lower()}" + (f": {', '.join(parts)}" if parts else "")


def checked_items(folder: Path) -> list[WorkItem]:
    """The folder's work items; a missing folder, a file, or no district sub-folder with
    exports is a :class:`ScopeError` naming the folder and the expected layout."""
    if not folder.exists():
        raise ScopeError(f"{folder}: the scope folder does not exist")
    if not folder.is_dir():
        raise ScopeError(f"{folder}: not a folder (a scope folder holds one sub-folder per "
                         "district with its exports)")
    items = work_items(folder)
    if not items:
        raise ScopeError(f"{folder}: no district sub-folder with exports (.csv/.xlsx); expected "
                         f"{folder}/<district code>/<exports>")
    return items


def items_table(items: list[WorkItem]) -> Table:
    """One row per district: its code, how many export files, their names."""
    table = Table(title=f"{len(items)} district(s), {sum(len(i.files) for i in items)} file(s)")
    table.add_column("district")
    table.add_column("files", justify="right")
    table.add_column("names")
    for item in items:
        table.add_row(item.name, str(len(item.files)),
                      ", ".join(Path(f).name for f in item.files))
    return table


def pool_api_url(settings: Settings) -> str:
    """The Prefect API the pool's workers use; a :class:`ScopeError` when not in pool mode or
    when no server is known."""
    from cchc.service.handoff import running_service

    if not settings.service.work_pool:
        raise ScopeError("work items need pool mode: set [service] work_pool (CCHC_WORK_POOL) "
                         "on the serving machine and here, start `cchc serve` and `cchc worker`s "
                         "(docs/distributed.md)")
    if settings.service.prefect_api_url:
        return settings.service.prefect_api_url.rstrip("/")
    service = running_service(settings)
    if service is None:
        raise ScopeError("no Prefect server: set [service] prefect_api_url "
                         "(CCHC_PREFECT_API_URL) to the API of the machine running cchc serve, "
                         "or start `cchc serve` on this data folder")
    return service.api_url.rstrip("/")


def run_url(api_url: str, flow_run_id: str) -> str:
    """The flow run's page in the Prefect UI served beside the API."""
    return f"{api_url.removesuffix('/api')}/runs/flow-run/{flow_run_id}"


@contextlib.contextmanager
def prefect_client_env(settings: Settings, api_url: str) -> Iterator[None]:
    """This process talks to ``api_url`` with the project's auth string (Prefect may have been
    imported before the environment was set: its settings are read again)."""
    from cchc.service.runtime import apply_environment, prefect_environment

    apply_environment(prefect_environment(settings, api_url), api_url)
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings as PrefectSettings

    with SettingsContext(profile=get_settings_context().profile, settings=PrefectSettings()):
        yield


def submit_scope(settings: Settings, api_url: str, folder: Path,
                 max_attempts: int) -> SubmittedRun:
    """Create the ``load-scope/cchc`` flow run for ``folder`` (absolute: workers resolve it
    themselves) and return at once."""
    from prefect.deployments import run_deployment

    from cchc.names import DEPLOYMENT_NAME

    with prefect_client_env(settings, api_url):
        flow_run = run_deployment(
            f"{LOAD_SCOPE}/{DEPLOYMENT_NAME}", timeout=0, as_subflow=False, tags=["cli"],
            parameters={"folder": str(folder.resolve()), "max_attempts": max_attempts})
    return SubmittedRun(str(flow_run.id), run_url(api_url, str(flow_run.id)))


def follow(settings: Settings, api_url: str, flow_run_id: str,
           on_progress: Callable[[Progress], None], poll_s: float = POLL_S) -> str:
    """Poll the run until it is final, calling ``on_progress`` whenever something changed;
    returns the final state type (``COMPLETED``, ``FAILED``...)."""
    from prefect import get_client

    last: Progress | None = None
    with prefect_client_env(settings, api_url), get_client(sync_client=True) as client:
        while True:
            progress = read_progress(client, flow_run_id)
            if progress != last:
                on_progress(progress)
                last = progress
            if progress.final:
                return progress.state
            time.sleep(poll_s)


def read_progress(client, flow_run_id: str) -> Progress:
    """The parent's state and, per district, the state of its latest ``load-district`` run
    (the parent's child runs; a resubmitted item has several)."""
    from uuid import UUID

    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    parent = client.read_flow_run(flow_run_id).state
    children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
        parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[UUID(flow_run_id)])))
    latest: dict[str, tuple] = {}
    for run in children:
        district = str((run.parameters or {}).get("district", run.name))
        key = (run.created or run.expected_start_time, run.name)
        if district not in latest or key > latest[district][0]:
            latest[district] = (key, run.state.type.value if run.state else "PENDING")
    return Progress(state=parent.type.value if parent else "PENDING",
                    districts={d: s for d, (_, s) in latest.items()},
                    final=bool(parent and parent.is_final()))
