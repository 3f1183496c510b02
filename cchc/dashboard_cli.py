"""``cchc dashboard``: draw the dashboard page from the current snapshot and print its path.

Every publish redraws the page already; this command is for a page drawn by hand (after a
change of the page itself, or to open it). The heavy libraries load only when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer


def dashboard_command(
    open_page: Annotated[bool, typer.Option(
        "--open", help="Open the page in the default web browser afterwards.")] = False,
) -> None:
    """Write the dashboard (an offline HTML page beside the published snapshot) from the
    current snapshot and print its path."""
    import time
    import webbrowser

    from cchc.config import load_settings
    from cchc.dashboard import write_dashboard

    settings = load_settings()
    from warehouse.lake import is_lake

    if not is_lake(settings) and not settings.published_path.is_file():
        typer.secho(f"cchc dashboard: nothing published yet at {settings.published_path}: run "
                    "`cchc run`, `cchc ingest` or `cchc demo` first", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    started = time.perf_counter()
    try:
        path = write_dashboard(settings)
    except Exception as exc:  # a corrupt snapshot, a full disk: one line, not a traceback
        typer.secho(f"cchc dashboard: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(str(path))
    typer.secho(f"written in {time.perf_counter() - started:.1f} s; open it in a browser, or "
                f"under `cchc serve` at http://127.0.0.1:{settings.service.hook_port}/dashboard",
                err=True, dim=True)
    if open_page:
        webbrowser.open(path.as_uri())
