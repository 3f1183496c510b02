"""``cchc serve``: everything a district office runs, in one process tree, on loopback.

    cchc serve (this process)
    ├── prefect server start        API, UI, scheduler, automations   127.0.0.1:prefect_port
    │                               (unless [service] prefect_api_url names a running server)
    ├── runner (Prefect serve)      every deployment; runs each flow in a child process
    ├── hook receiver (uvicorn)     POST /hooks/<system> -> cchc.<system>.changed   hook_host:hook_port
    ├── inbox watcher (watchfiles)  completed files -> cchc.inbox.file.arrived
    └── alert sender (a thread)     pending alert deliveries and reminders, every few minutes

SIGINT/SIGTERM stop it cleanly: no new work, the receiver and the watcher stop, runs in
progress are cancelled (a load is one transaction, so the warehouse stays as it was; the next
start catches up), and the Prefect server we started is stopped last. Its database lives under
the data folder (``settings.prefect_home``), so the next start finds deployments, runs, events
and schedules as they were left. A lock file keeps a second ``cchc serve`` off the same data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cchc.config import Settings
from cchc.service.prefect_server import (
    PREFECT_DEFAULTS,
    STARTUP_TIMEOUT_S,
    ensure_auth_string,
    read_auth_string,
    start_prefect_server,
    wait_healthy,
)
from flows.deployments import (
    DEFAULT_FLOWS,
    DEPLOYMENT_NAME,
    WRITER_LIMIT,
    DeploymentSpec,
    FlowRefs,
)

log = logging.getLogger("cchc.service")

RUNNER_LIMIT = 4  # flow processes at once; writers queue on the writer slot anyway
RUNNER_POLL_S = 0.25  # how often the runner asks for due runs (one small API call)


class ServiceAlreadyRunning(RuntimeError):
    """Another ``cchc serve`` holds this data folder."""


@dataclass
class ServiceInfo:
    """Where the running service can be reached."""

    api_url: str
    ui_url: str
    hook_url: str | None  # None: the receiver is off, ``hook_off`` says why
    inbox: Path
    server_startup_s: float | None  # None: an existing server was used
    hook_off: str | None = None
    simulator_url: str | None = None  # the bundled simulator this service started, if any
    dashboard_url: str | None = None  # GET /dashboard on the receiver's port (None: not served)


def api_auth_string(settings: Settings) -> str | None:
    """The string that opens the served Prefect API (``CCHC_PREFECT_AUTH_STRING`` or the one
    ``cchc serve`` stored under the Prefect home); None when there is none."""
    return read_auth_string(settings.prefect_home)


def prefect_environment(settings: Settings, api_url: str | None,
                        auth_string: str | None = None) -> dict[str, str]:
    """Environment for this process and every flow run it starts (set before Prefect loads).
    With an API URL, the client's auth string goes along (default: :func:`api_auth_string`)."""
    env = dict(PREFECT_DEFAULTS)
    env["PREFECT_HOME"] = str(settings.prefect_home)
    env["CCHC_DATA_DIR"] = str(settings.data_dir)
    if settings.service.work_pool:  # flow runs on workers: heartbeats tell a dead one
        env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = str(settings.service.heartbeat_s)
    if api_url:
        env["PREFECT_API_URL"] = api_url
        auth = auth_string or api_auth_string(settings)
        if auth:
            env["PREFECT_API_AUTH_STRING"] = auth
    return env


def apply_environment(env: dict[str, str], api_url: str | None) -> None:
    """Set ``env`` in this process (children inherit it); drop a stale PREFECT_API_URL."""
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    if not api_url:
        os.environ.pop("PREFECT_API_URL", None)
        os.environ.pop("PREFECT_API_AUTH_STRING", None)


@contextlib.contextmanager
def service_lock(settings: Settings) -> Iterator[None]:
    """Hold ``<prefect_home>/serve.lock`` or fail at once."""
    from filelock import FileLock, Timeout

    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.prefect_home / "serve.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ServiceAlreadyRunning(
            f"another cchc serve is running with data folder {settings.data_dir}") from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def prefect_api(settings: Settings) -> Iterator[tuple[str, float | None, str | None]]:
    """The configured Prefect API, or a server of our own for as long as the block lasts:
    (API URL, seconds the server took to start or None, the API auth string or None)."""
    configured = settings.service.prefect_api_url
    if configured:
        wait_healthy(configured, STARTUP_TIMEOUT_S)
        yield configured.rstrip("/"), None, api_auth_string(settings)
        return
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    auth = ensure_auth_string(settings.prefect_home)
    with start_prefect_server(settings.prefect_home, settings.service.prefect_host,
                              settings.service.prefect_port,
                              log_path=settings.logs_dir / "prefect-server.log",
                              auth_string=auth,
                              database_url=settings.service.prefect_database_url) as server:
        yield server.api_url, server.startup_s, auth


def _bind_http(host: str, port: int, hook_off: str | None) -> socket.socket | None:
    """The socket of the HTTP app (receiver and dashboard). Bound even when the receiver is off,
    for the dashboard; then a busy port only turns the dashboard off (None) instead of failing."""
    try:
        return _bind(host, port)
    except RuntimeError as exc:
        if hook_off is None:
            raise
        log.warning("dashboard OFF: %s", exc)
        return None


def _bind(host: str, port: int) -> socket.socket:
    """The receiver's socket, bound here so a busy port is a clear error, not a silent exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"the hook receiver cannot listen on {host}:{port}: {exc}") from None
    sock.set_inheritable(False)
    return sock


async def free_pull_slots(client, pull_deployment_ids) -> None:
    """Free each pull deployment's one slot (``deployment:<id>``) that a killed service's run
    may still hold: recovery marks such runs Crashed by force, which releases nothing, and
    with CANCEL_NEW the re-run would be cancelled. Called before the runner takes work."""
    from cchc.service.recovery import free_writer_slots

    for deployment_id in pull_deployment_ids:
        with contextlib.suppress(Exception):  # no limit (an older server): nothing to free
            freed = await free_writer_slots(client, f"deployment:{deployment_id}")
            if freed:
                log.warning("freed the pull slot of deployment %s held by a stopped service",
                            deployment_id)


def receiver_refusal(settings: Settings) -> str | None:
    """Why the change-notification receiver must not run (a default secret), or None."""
    from cchc.service.hooks import weak_secret_reason

    return weak_secret_reason(settings.service.hook_secret)


@contextlib.contextmanager
def embedded_simulator(settings: Settings) -> Iterator[str | None]:
    """The embedded default: when an enabled source's base URL is the bundled simulator's
    address and nothing listens there, run the simulator for as long as the block lasts (the
    demo's warehouse then keeps being fed). Yields its URL, or None when none was started."""
    sim = settings.simulator_url
    systems = settings.embedded_systems()
    if not systems:
        yield None
        return
    from cchc.processes import source_unreachable

    if source_unreachable(sim, attempts=1) is None:
        log.info("the simulator already answers at %s: using it for %s", sim, ", ".join(systems))
        yield None
        return
    from cchc.simulator_process import running_simulator_process

    log.info("no source system configured for %s: starting the bundled simulator on %s "
             "(set [sources.<system>] base_url for a real one)", ", ".join(systems), sim)
    with running_simulator_process(settings, port=settings.simulator.port) as url:
        yield url


def report_unreachable_sources(settings: Settings) -> list[str]:
    """One line per enabled source whose address refuses connections (not retried for minutes
    later, in the catch-up, without a word); returns the lines."""
    from cchc.processes import source_unreachable

    lines = []
    for system in settings.enabled_systems():
        src = settings.source_settings(system)
        why = source_unreachable(src.base_url, attempts=1)
        if why:
            lines.append(f"source {system} unreachable at {src.base_url} ({why}): check "
                         f"[sources.{system}] base_url / CCHC_{system.upper()}_URL")
            log.warning("%s", lines[-1])
    return lines


def setup_logging(settings: Settings) -> None:
    """cchc's service log lines to stderr and to ``logs/serve.log``."""
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    logger = logging.getLogger("cchc")
    if logger.handlers:
        return
    for handler in (logging.StreamHandler(), logging.FileHandler(settings.logs_dir / "serve.log")):
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def run_service(settings: Settings, refs: FlowRefs = DEFAULT_FLOWS, *, catch_up: bool = True,
                on_ready=None) -> None:
    """Run until SIGINT/SIGTERM. ``on_ready(ServiceInfo)`` is called once everything listens."""
    setup_logging(settings)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # start-up: like Ctrl-C
    try:
        with service_lock(settings), contextlib.ExitStack() as stack:
            simulator_url = stack.enter_context(embedded_simulator(settings))
            api_url, startup_s, auth = stack.enter_context(prefect_api(settings))
            apply_environment(prefect_environment(settings, api_url, auth), api_url)
            hook_off = receiver_refusal(settings)
            svc = settings.service
            info = ServiceInfo(
                api_url=api_url, ui_url=api_url.removesuffix("/api"),
                hook_url=None if hook_off else f"http://{svc.hook_host}:{svc.hook_port}/hooks/",
                inbox=settings.inbox_dir, server_startup_s=startup_s, hook_off=hook_off,
                simulator_url=simulator_url)
            if hook_off:
                log.warning("change-notification receiver OFF: %s", hook_off)
            report_unreachable_sources(settings)
            from cchc.service import warm_start
            from flows.deployments import deployment_specs

            specs = deployment_specs(settings, refs)
            sock = _bind_http(svc.hook_host, svc.hook_port, hook_off)
            if sock is not None:
                info.dashboard_url = f"http://127.0.0.1:{svc.hook_port}/dashboard"
            warm_start.enable()
            try:
                asyncio.run(_serve(settings, specs, len(refs.pulls), sock, info, catch_up,
                                   on_ready))
            finally:
                warm_start.disable()
                if sock is not None:
                    sock.close()
                from cchc.service.events import flush_events

                with contextlib.suppress(Exception):
                    flush_events()
    except KeyboardInterrupt:
        log.info("stopped during start-up")
    finally:
        signal.signal(signal.SIGTERM, previous)


async def send_alerts_periodically(settings: Settings, stop: asyncio.Event) -> None:
    """Every ``[alerts] deliver_every_s``: send what is pending (retries after a channel was
    down, reminders of open alerts). Flows send their own alerts when they end; this catches
    the rest. A round that finds the writer busy is skipped, never waited for."""
    from cchc.notify import deliver_pending

    while not stop.is_set():
        try:
            report = await asyncio.to_thread(deliver_pending, settings, lock_timeout_s=5.0)
            if report.sent or report.failed:
                log.info("alerts: %d sent, %d not delivered", report.sent, report.failed)
        except Exception:
            log.exception("alert delivery round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.alerts.deliver_every_s)


async def _serve(settings: Settings, specs: list[DeploymentSpec], n_pulls: int,
                 sock: socket.socket | None,
                 info: ServiceInfo, catch_up: bool, on_ready) -> None:
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings as PrefectSettings

    # Prefect may have been imported before the environment was set: re-read it.
    with SettingsContext(profile=get_settings_context().profile, settings=PrefectSettings()):
        await _serve_in_context(settings, specs, n_pulls, sock, info, catch_up, on_ready)


async def _serve_in_context(settings: Settings, specs: list[DeploymentSpec], n_pulls: int,
                            sock: socket.socket | None, info: ServiceInfo, catch_up: bool,
                            on_ready) -> None:
    import uvicorn
    from prefect import get_client
    from prefect.runner import Runner

    from cchc.service.events import prefect_emit
    from cchc.service.hooks import create_app
    from cchc.service.inbox_watcher import InboxWatcher
    from cchc.service.recovery import recover

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    # pause_on_shutdown=False: stopping must not pause the schedules (Prefect would then delete
    # the planned runs); nights missed while down stay on the server as Late runs and start at
    # the next start.
    from cchc.service.pool import configured_pool, register_in_pool

    pool = configured_pool(settings)
    runner = None
    if pool:  # the distributed set-up: `cchc worker`s run the flows, not this process
        ids = await register_in_pool(specs, pool)
        log.info("deployments go to work pool %s: start `cchc worker` to run them", pool)
    else:
        runner = Runner(name="cchc-serve", pause_on_shutdown=False, limit=RUNNER_LIMIT,
                        query_seconds=RUNNER_POLL_S)
        # aadd_flow (not aadd_deployment): the runner keeps the flow object and starts runs
        # from it in a forked child (warm_start) instead of a fresh `python -m prefect.engine`.
        # persist_result: `cchc ingest` / `cchc run` hand work to these deployments and read
        # the run's summary back from the result store under the Prefect home (handoff).
        ids = [await runner.aadd_flow(spec.flow().with_options(persist_result=True),
                                      name=DEPLOYMENT_NAME, **spec.options)
               for spec in specs]
    pull_ids = ids[:n_pulls]
    async with get_client() as client:
        if pool:  # runs in progress belong to live workers: nothing to crash or free here
            from cchc.service.pool import start_in_pool

            done = await start_in_pool(client, WRITER_LIMIT, pull_ids, catch_up=catch_up,
                                        crashed_after_s=settings.service.crashed_after_s)
        else:
            done = await recover(client, writer_limit=WRITER_LIMIT, deployment_ids=ids,
                                 pull_deployment_ids=pull_ids, catch_up=catch_up)
            await free_pull_slots(client, pull_ids)
    log.info("deployments: %s", ", ".join(f"{s.flow().name}/{DEPLOYMENT_NAME}" for s in specs))
    if done.crashed:
        log.warning("recovered %d run(s) left in progress; re-ran %d pull(s)",
                    len(done.crashed), len(done.resubmitted))

    tasks = []
    if runner is not None:
        runner_task = asyncio.create_task(runner.start(), name="runner")
        tasks.append(runner_task)
        while not runner.started and not runner_task.done():
            await asyncio.sleep(0.05)
        # Runner.start installs its own SIGTERM handler: take SIGINT/SIGTERM back.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

    class _Receiver(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # signals are ours, not uvicorn's
            yield

    svc = settings.service
    watcher_task = asyncio.create_task(InboxWatcher(settings, prefect_emit).run(stop),
                                       name="inbox-watcher")
    tasks.append(watcher_task)
    if settings.alerts.urls:
        tasks.append(asyncio.create_task(send_alerts_periodically(settings, stop),
                                         name="alert-sender"))
    receiver = None
    if sock is not None:
        from cchc.dashboard import dashboard_path
        from cchc.dashboard.routes import dashboard_app

        page = dashboard_path(settings)
        app = (dashboard_app(page) if info.hook_off else
               create_app(svc.hook_secret, prefect_emit, max_bytes=svc.hook_max_bytes, dashboard=page))
        receiver = _Receiver(uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", log_config=None))
        tasks.append(asyncio.create_task(receiver.serve(sockets=[sock]), name="receiver"))
        while not receiver.started and not any(t.done() for t in tasks):
            await asyncio.sleep(0.05)
    log.info("ready: Prefect UI %s, hook %s, inbox %s, dashboard %s", info.ui_url,
             info.hook_url or f"off ({info.hook_off})", info.inbox, info.dashboard_url or "off")
    from cchc.service.handoff import remove_service_file, write_service_file

    write_service_file(settings, info.api_url)  # commands now hand their work to us
    if on_ready is not None:
        on_ready(info)

    stopper = asyncio.create_task(stop.wait(), name="stop")
    finished, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in finished:
        if task is not stopper and task.exception() is not None:
            log.error("%s failed: %r; stopping the service", task.get_name(), task.exception())
    log.info("stopping: no new runs; cancelling runs in progress")
    remove_service_file(settings)
    stop.set()
    if receiver is not None:
        receiver.should_exit = True
    if runner is not None and runner.started:
        with contextlib.suppress(Exception):
            await runner.astop()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for task, result in zip(tasks, results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            log.error("%s ended with %r", task.get_name(), result)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
    log.info("stopped")
