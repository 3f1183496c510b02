"""The pipeline commands: ``cchc run``, ``cchc ingest``, ``cchc demo``, ``cchc status``.

Each runs the real Prefect flows, so a run from the command line is recorded exactly as a
scheduled one. When ``cchc serve`` runs on the same data folder, ``cchc run`` and ``cchc ingest``
hand the work to its deployments and wait for the result (``cchc.service.handoff``); otherwise
they run the flows here, with a temporary Prefect server when none is configured.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cchc.config import load_settings
from cchc.prefect_env import configure_prefect


def _prepare():
    settings = load_settings()
    configure_prefect(settings)
    if settings.service.prefect_api_url and not os.environ.get("PREFECT_API_AUTH_STRING"):
        # the served API requires cchc serve's auth string (CCHC_PREFECT_AUTH_STRING or the
        # stored one); without it every call would be refused with 401
        from cchc.service.runtime import api_auth_string

        auth = api_auth_string(settings)
        if auth:
            os.environ["PREFECT_API_AUTH_STRING"] = auth
    return settings


def _local_prefect(settings):
    """Flows run in this command: start the temporary Prefect server now, so it boots in its
    own process while the flows are imported here (``cchc.temporary_server``; None when a
    server is configured), and Great Expectations' seconds of import in a thread beside them
    (``expectations.validate.warm_up``), rather than after the first file is staged."""
    import sys

    from cchc.temporary_server import start_temporary_server, without_heartbeats

    if "prefect.settings" in sys.modules:
        # Prefect read its settings at import and would not see PREFECT_API_URL: it starts its
        # own server (correct, only slower); the CLI tests catch this ordering mistake.
        server = None
    else:
        server = start_temporary_server(settings.service.prefect_api_url)
    if server is not None:
        without_heartbeats()
    from cchc.pipeline import warm_up_validation

    warm_up_validation()
    return server


def _ready(server) -> None:
    if server is not None:
        server.wait_ready()


def _running_service(settings):
    """The ``cchc serve`` of this data folder, if one runs: the command hands it the work
    (no temporary Prefect server here; ``CCHC_LOCAL=1`` runs locally anyway)."""
    from cchc.service.handoff import running_service

    service = running_service(settings)
    if service is not None:
        from cchc.console import console

        console.print(f"[dim]handing the work to cchc serve (pid {service.pid}) at "
                      f"{service.api_url}[/]")
    return service


def _on_service(settings, service, flow_name: str, parameters: dict) -> dict:
    from cchc.names import DEPLOYMENT_NAME
    from cchc.service.handoff import submit

    return submit(settings, service, f"{flow_name}/{DEPLOYMENT_NAME}", parameters)


def _ingest_on_service(settings, service, path: Path) -> dict:
    """Hand one file to the service's ingest deployment (``cchc.service.handoff``)."""
    from cchc.service.handoff import hand_off_file, remove_handed_off

    original = path.resolve()
    copy = hand_off_file(settings, original)
    try:
        return _on_service(settings, service, "ingest-file", {
            "path": str(copy), "handed_off": True, "origin": str(original)})
    finally:
        remove_handed_off(settings, copy)  # the flow removes it too; a failed submit leaves none


def run_command(
    since: Annotated[str | None, typer.Option(help="Start of the window (ISO, UTC); default: the stored watermark.")] = None,
    until: Annotated[str | None, typer.Option(help="End of the window, exclusive (ISO, UTC); default: now.")] = None,
    system: Annotated[list[str] | None, typer.Option(
        "--system", help="Pull only this system (onestop, eoffice); repeatable. Default: every enabled one.")] = None,
) -> None:
    """Pull new and changed records from every configured system, load them and publish.

    One system failing does not stop the others; the command exits 1 if any failed."""
    settings = _prepare()
    service = _running_service(settings)
    server = _local_prefect(settings) if service is None else None  # before Prefect's import
    from rich.markup import escape

    from cchc.console import console, print_summary
    from flows.pull import PULL_FLOWS
    from sources.registry import source

    systems = system or settings.enabled_systems()
    failed = 0
    for name in systems:
        source(name)  # unknown names stop here, with the known ones listed
        _ready(server)
        try:
            if service is not None:
                summary = _on_service(settings, service, f"{PULL_FLOWS[name].name}",
                                      {"since": since, "until": until})
            else:
                summary = PULL_FLOWS[name](since=since, until=until)
        except Exception as exc:  # the next system still runs; the failure is recorded and shown
            failed += 1
            console.print(f"[bold red]{name}: pull failed[/] {type(exc).__name__}: "
                          f"{escape(str(exc))}")
            continue
        print_summary(summary)
    if failed:
        raise typer.Exit(1)


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Exports (XLSX or CSV): dossier lists, document registers.", exists=True, dir_okay=False)],
) -> None:
    """Load exports (dossier lists, document registers; XLSX/CSV) and publish. The header tells
    which system made each file. Every file is tried, whatever happened to the one before;
    exits 1 if any file was rejected or failed."""
    settings = _prepare()
    from rich.markup import escape

    from cchc.console import console, print_summary

    service = _running_service(settings)
    if service is None:
        server = _local_prefect(settings)  # before Prefect's import
        from flows.ingest import ingest_file

        _ready(server)
    failed = 0
    for path in paths:
        try:
            if service is not None:
                summary = _ingest_on_service(settings, service, path)
            else:
                summary = ingest_file(path=str(path))
            ok = summary["status"] not in ("rejected", "failed")
            print_summary(summary)
            failed += not ok
        except Exception as exc:  # the next file still loads; the command exits 1 at the end
            failed += 1
            console.print(f"[bold red]{escape(str(path))}: failed[/] {type(exc).__name__}: "
                          f"{escape(str(exc))}")
    if failed:
        console.print(f"{failed} of {len(paths)} file(s) not loaded")
        raise typer.Exit(1)


def demo_command(
    port: Annotated[int, typer.Option(help="Port for the simulator (0: a free one).")] = 0,
) -> None:
    """Start the simulator on loopback, pull krongpa-2021-2022 from both systems through
    Prefect, publish, and show the form-06 totals next to the published figures, the document
    figures, the dirt found and how to query."""
    settings = _prepare()
    server = _local_prefect(settings)  # before Prefect's import
    from cchc.console import console, print_demo_report, print_summary
    from cchc.simulator_process import running_simulator_process
    from flows.pull import PULL_FLOWS

    _ready(server)

    sim = settings.simulator
    summaries = []
    with running_simulator_process(settings, port=port) as base_url:
        for system in PULL_FLOWS:
            os.environ[f"CCHC_{system.upper()}_URL"] = base_url
        console.print(f"[bold]Simulator[/] {sim.scenario} (seed {sim.seed}) on {base_url}")
        for system, pull in PULL_FLOWS.items():
            summaries.append(pull(since=settings.source_settings(system).initial_since))
    for summary in summaries:
        print_summary(summary)
    print_demo_report(load_settings(), date(2021, 1, 1), date(2022, 12, 31))


def status_command() -> None:
    """Show the latest loads, the watermark and open alerts from the published snapshot."""
    settings = load_settings()
    from cchc.console import print_status

    print_status(settings)
