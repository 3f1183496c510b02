"""``cchc scope list|load FOLDER``: a scope's work items, and starting them on the pool.

Thin: the checks, the submission and the polling live in ``cchc.scope_run``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

scope_app = typer.Typer(help="Work items (pool mode): one load-district run per district folder.",
                        no_args_is_help=True)

FolderArg = Annotated[Path, typer.Argument(
    help="Scope folder: one sub-folder per district (its code) holding its exports.")]


def _items(console, folder: Path):
    from rich.markup import escape

    from cchc.scope_run import ScopeError, checked_items, items_table

    try:
        items = checked_items(folder)
    except ScopeError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    console.print(items_table(items))
    return items


@scope_app.command("list")
def list_command(folder: FolderArg) -> None:
    """The districts and file counts a load of FOLDER would start (read here; no server)."""
    from rich.console import Console

    _items(Console(), folder)


@scope_app.command("load")
def load_command(
    folder: FolderArg,
    wait: Annotated[bool, typer.Option(
        help="Follow the run until it ends; exit 0 only when it completed.")] = True,
    max_attempts: Annotated[int, typer.Option(
        min=1, help="Runs per district when its worker dies (Crashed).")] = 3,
) -> None:
    """Start load-scope/cchc on FOLDER in the work pool: one load-district run per district,
    run by the workers. The folder must be on a path every worker sees."""
    from rich.console import Console
    from rich.markup import escape

    from cchc import scope_run
    from cchc.config import load_settings

    console = Console()
    _items(console, folder)
    settings = load_settings()
    api_url = "the server"
    try:
        api_url = scope_run.pool_api_url(settings)
        run = scope_run.submit_scope(settings, api_url, folder, max_attempts)
    except scope_run.ScopeError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    except Exception as exc:  # the server refused or is unreachable: say so, no traceback
        console.print(f"[red]could not start {scope_run.LOAD_SCOPE} on {escape(api_url)}: "
                      f"{escape(str(exc) or type(exc).__name__)}[/]")
        raise typer.Exit(1) from None
    console.print(f"flow run {run.flow_run_id}\n  {run.ui_url}")
    if not wait:
        return
    try:
        state = scope_run.follow(settings, api_url, run.flow_run_id,
                                 lambda p: console.print(escape(p.line())))
    except KeyboardInterrupt:
        console.print("[yellow]stopped following[/]: the run goes on; see it in the UI.")
        raise typer.Exit(130) from None
    if state != "COMPLETED":
        console.print(f"[red]load-scope ended {state.lower()}[/]")
        raise typer.Exit(1)
    console.print("[green]load-scope completed[/]")
