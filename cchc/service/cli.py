"""``cchc serve`` and ``cchc backfill``. Prefect is imported only once its environment is set."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from cchc.config import load_settings


def serve_command(
    catch_up: Annotated[bool, typer.Option(
        help="Pull once from the watermark at start (changes notified while the service was down).")] = True,
) -> None:
    """Run the service: Prefect server (or the configured one), every deployment (nightly pulls,
    inbox ingest, freshness alert), the inbox watcher and the change-notification receiver.
    Ctrl-C stops it all."""
    from rich.console import Console
    from rich.markup import escape

    from cchc.service.runtime import ServiceAlreadyRunning, ServiceInfo, run_service

    console = Console(stderr=True)
    settings = load_settings()

    def ready(info: ServiceInfo) -> None:
        systems = ", ".join(settings.enabled_systems())
        started = (f"started in {info.server_startup_s:.1f} s" if info.server_startup_s is not None
                   else "existing server")
        hooks = (f"POST {info.hook_url}<system>  ({systems})" if info.hook_url
                 else f"[yellow]OFF[/]: {escape(info.hook_off or '')}")
        lines = [f"[bold green]cchc serve ready[/]  data {escape(str(settings.data_dir))}",
                 f"  Prefect UI  {escape(info.ui_url)}  ({started}; log in with the string in "
                 f"{escape(str(settings.prefect_home / 'api-auth'))} or CCHC_PREFECT_AUTH_STRING)",
                 f"  hooks       {hooks}",
                 f"  inbox       {escape(str(info.inbox))}",
                 f"  nightly     {settings.service.nightly_cron} {settings.service.timezone}"]
        if info.simulator_url:
            lines.append(f"  source      the bundled simulator, {escape(info.simulator_url)} "
                         "(no source system configured)")
        console.print("\n".join([*lines, "Ctrl-C to stop."]))

    console.print("[bold]cchc serve[/] starting (the first start creates the Prefect database; "
                  "allow a minute)...")
    try:
        run_service(settings, catch_up=catch_up, on_ready=ready)
    except (ServiceAlreadyRunning, RuntimeError, TimeoutError) as exc:
        console.print(f"[red]cchc serve: {escape(str(exc))}[/]")
        raise typer.Exit(1) from None


class Mode(StrEnum):
    auto = "auto"
    deployment = "deployment"
    direct = "direct"


def backfill_command(
    from_: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"],
                                            help="First day, local time (YYYY-MM-DD).")],
    to: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"],
                                         help="Last day, included (YYYY-MM-DD).")],
    source: Annotated[str, typer.Option(help="Source system to pull.")] = "onestop",
    redo: Annotated[bool, typer.Option(help="Run months already recorded as done again.")] = False,
    mode: Annotated[Mode, typer.Option(
        help="auto: through the deployment when `cchc serve` serves it, else the flow directly.")] = Mode.auto,
) -> None:
    """Pull a period month by month (local months). Interrupt with Ctrl-C; the same command
    resumes, skipping finished months."""
    from rich.console import Console

    from cchc.service.backfill import BackfillError, BackfillState, month_windows

    console = Console(stderr=True)
    settings = load_settings()
    windows = month_windows(from_.date(), to.date(), settings.service.timezone)
    state = BackfillState.for_source(settings, source)
    todo = [w for w in windows if redo or not state.done(w)]
    console.print(f"backfill {source}: {len(windows)} month(s) {windows[0].label}..{windows[-1].label}, "
                  f"{len(windows) - len(todo)} already done (state: {state.path})")
    if not todo:
        return
    run_window, how = _runner(settings, source, mode)
    console.print(f"running {how}")
    try:
        _run_with_progress(console, windows, state, run_window, redo)
    except BackfillError as exc:
        from rich.markup import escape

        console.print(f"[red]{escape(str(exc))}[/]\nFinished months are recorded; run the same command to resume.")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: finished months are recorded; run the same command "
                      "to resume.")
        raise typer.Exit(130) from None


def _runner(settings, source: str, mode: Mode):
    """Choose deployment or direct mode and set Prefect's environment accordingly."""
    from cchc.service.backfill import via_deployment, via_flow
    from cchc.service.prefect_server import api_healthy
    from cchc.service.runtime import apply_environment, prefect_environment

    api_url = settings.service.prefect_api_url or f"http://127.0.0.1:{settings.service.prefect_port}/api"
    healthy = mode != Mode.direct and api_healthy(api_url)
    if mode == Mode.deployment and not healthy:
        raise typer.BadParameter(f"no Prefect server at {api_url}", param_hint="--mode")
    apply_environment(prefect_environment(settings, api_url if healthy else None),
                      api_url if healthy else None)
    from flows.deployments import DEFAULT_FLOWS, load_flow, pull_deployment_name

    name = pull_deployment_name(source)
    if healthy and (mode == Mode.deployment or _deployment_ready(name)):
        return via_deployment(name), f"through deployment {name} on {api_url}"
    pull = next(p for p in DEFAULT_FLOWS.pulls if p.source_system == source)
    where = f"recorded on {api_url}" if healthy else "with a temporary Prefect server"
    return via_flow(load_flow(pull.flow)), f"the flow directly ({where})"


def _deployment_ready(name: str) -> bool:
    """True when a runner polled the deployment recently (``cchc serve`` is serving it)."""
    from prefect import get_client
    from prefect.client.schemas.objects import DeploymentStatus
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(name).status == DeploymentStatus.READY
        except ObjectNotFound:
            return False


def _run_with_progress(console, windows, state, run_window, redo: bool) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from cchc.service.backfill import run_backfill

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("backfill", total=len(windows))

        def progress(window, what: str) -> None:
            if what == "running":
                bar.update(task, description=f"{window.label} running")
            else:
                bar.advance(task)
                bar.console.print(f"  {window.label} {what}")

        ran, skipped = run_backfill(windows, state, run_window, redo=redo, progress=progress)
    console.print(f"backfill finished: {ran} month(s) pulled, {skipped} skipped")


def worker_command(
    pool: Annotated[str | None, typer.Option(
        help="Work pool to poll (default: [service] work_pool / CCHC_WORK_POOL).")] = None,
    name: Annotated[str | None, typer.Option(
        help="Worker name (default: cchc-<host>; one per machine).")] = None,
    limit: Annotated[int, typer.Option(help="Flow runs at once on this worker.")] = 2,
) -> None:
    """Run flow runs from the work pool on this machine (the distributed set-up): needs the
    server ([service] prefect_api_url and its auth string), the catalog and the storage.
    Ctrl-C stops it."""
    from rich.console import Console
    from rich.markup import escape

    from cchc.service.pool import run_worker

    console = Console(stderr=True)
    try:
        run_worker(load_settings(), pool=pool, name=name, limit=limit)
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]cchc worker: {escape(str(exc))}[/]")
        raise typer.Exit(1) from None
