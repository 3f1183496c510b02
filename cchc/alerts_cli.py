"""`cchc alerts`: list alerts (published snapshot), acknowledge one, send what is pending.

Listing reads the published snapshot like every reader; acknowledging writes through the
writer (then publishes, so the list shows it); sending is ``cchc.notify.deliver_pending``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

alerts_app = typer.Typer(help="Alerts: list, acknowledge, send (docs/alerts.md).")

LIST_COLUMNS = ("alert_id", "status", "severity", "kind", "source_system", "scope", "raised_at",
                "last_seen_at", "seen_count", "resolved_at", "acknowledged_by", "load_id",
                "counts", "message", "message_en")
TABLE_LIMIT = 50


class AlertsFormat(StrEnum):
    table = "table"
    json = "json"


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def list_alerts(settings, *, only_open: bool = False) -> list[dict]:
    """Alerts from the published snapshot: unresolved first, newest first."""
    from warehouse.reader import open_snapshot, run_query

    where = "WHERE status IN ('open', 'acknowledged')" if only_open else ""
    con = open_snapshot(settings)
    try:
        frame = run_query(con, f"SELECT {', '.join(LIST_COLUMNS)} FROM dq_alerts {where} "
                               "ORDER BY status IN ('open', 'acknowledged') DESC, "
                               "raised_at DESC, alert_id")
    finally:
        con.close()
    return frame.to_dicts()


@alerts_app.callback(invoke_without_command=True)
def alerts_command(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only alerts not resolved yet "
                                            "(open or acknowledged).")] = False,
    fmt: Annotated[AlertsFormat, typer.Option("--format", help="table or json.")] =
        AlertsFormat.table,
) -> None:
    """List alerts from the published snapshot (unresolved first)."""
    if ctx.invoked_subcommand is not None:
        return
    from cchc.config import load_settings
    from warehouse.reader import SnapshotUnavailable

    settings = load_settings()
    try:
        rows = list_alerts(settings, only_open=open_only)
    except SnapshotUnavailable as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # a snapshot published before the alert lifecycle existed
        raise _fail(f"cannot read the alerts of the published snapshot ({exc}); run any load "
                    "or `cchc run` so that a current snapshot is published") from None
    if fmt is AlertsFormat.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    _print_table(rows, settings.alerts.language)


def _print_table(rows: list[dict], language: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from cchc.console import text

    table = Table(title=f"Alerts ({len(rows)})")
    for col in ("id", "status", "severity", "kind", "system", "raised", "seen", "message"):
        table.add_column(col, overflow="fold")
    for r in rows[:TABLE_LIMIT]:
        message = (r["message"] if language == "vi" else r["message_en"]) or r["message"]
        table.add_row(text(r["alert_id"]), text(r["status"]), text(r["severity"]),
                      text(r["kind"]), text(r["source_system"]), text(r["raised_at"]),
                      text(r["seen_count"]), text(message))
    console = Console()
    console.print(table)
    if len(rows) > TABLE_LIMIT:
        console.print(f"… {len(rows) - TABLE_LIMIT} more: `cchc alerts --format json`")


@alerts_app.command("ack")
def ack_command(
    alert_id: Annotated[str, typer.Argument(help="The alert's id (or its first 8+ characters).")],
    by: Annotated[str | None, typer.Option("--by", help="Who takes care of it.")] = None,
) -> None:
    """Acknowledge an open alert: someone is on it, no more reminders (it still resolves)."""
    import getpass

    from cchc.config import load_settings
    from cchc.dashboard.build import refresh_after_publish
    from warehouse.alerts import acknowledge
    from warehouse.writer import Warehouse

    settings = load_settings()
    who = by or getpass.getuser()
    try:
        with Warehouse.open(settings) as wh:
            row = acknowledge(wh, alert_id, who)
            wh.publish()
    except (KeyError, ValueError) as exc:
        raise _fail(str(exc.args[0] if exc.args else exc)) from None
    refresh_after_publish(settings)  # the page lists open alerts only
    typer.echo(f"acknowledged {row['alert_id']} ({row['kind']} {row['source_system'] or '-'}) "
               f"by {who}: no more reminders; it is resolved when its check passes")


@alerts_app.command("send")
def send_command() -> None:
    """Send pending alert messages now (retries included, whatever their backoff)."""
    from cchc.config import load_settings
    from cchc.notify import deliver_pending

    report = deliver_pending(load_settings(), force=True)
    if report.skipped:
        raise _fail(f"nothing sent: {report.skipped}")
    typer.echo(f"{report.sent} sent, {report.failed} not delivered (kept pending), "
               f"{report.reminders_queued} reminder(s) queued")
    for error in report.errors:
        typer.secho(f"  {error}", fg=typer.colors.YELLOW, err=True)
    if report.failed:
        raise typer.Exit(1)
