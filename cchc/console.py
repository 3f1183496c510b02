"""What the commands print: load summaries, the demo's report, the status page (rich tables)."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cchc.config import Settings

console = Console()


def text(value: Any) -> str:
    """Data as rich shows it literally: a file name, a header or a message containing ``[b]`` or
    ``[/b]`` is text, not markup (unescaped, it would crash the console or restyle it)."""
    return escape("" if value is None else str(value))


def print_summary(summary: dict) -> None:
    """One load's row accounting and what happened to the rows that were not loaded. Every
    value from the data (messages, reasons, notes, paths) is printed literally."""
    from sources.registry import source

    system = summary.get("system")
    entity = source(system).entity if system else "record"
    title = text(f"{system + ' ' if system else ''}load {summary.get('load_id')} — "
                 f"{summary.get('status')}")
    t = Table(title=title, show_header=False)
    t.add_column("what")
    t.add_column("rows", justify="right")
    for key, label in [
        ("rows_in", "input rows"),
        ("rows_duplicate", "exact duplicates (counted, not loaded twice)"),
        ("rows_loaded", "loaded"),
        ("rows_quarantined", "quarantined (with reasons)"),
        ("rows_warned", "loaded with warnings"),
        ("rows_new_versions", f"new {entity} versions kept in the raw layer"),
        ("core_inserted", f"{entity}s added"),
        ("core_updated", f"{entity}s whose state changed"),
        ("rows_withheld", "secret records whose leaked fields were dropped"),
    ]:
        if key == "rows_withheld" and not summary.get(key):
            continue
        t.add_row(label, f"{summary.get(key, 0):,}")
    console.print(t)
    if summary.get("message"):
        console.print(f"[yellow]{text(summary['message'])}[/]")
    for title, key in [("Quarantined, by reason", "quarantine_reasons"), ("Warnings, by reason", "warning_reasons")]:
        reasons = summary.get(key) or {}
        if reasons:
            r = Table(title=title)
            r.add_column("reason")
            r.add_column("rows", justify="right")
            for reason, n in reasons.items():
                r.add_row(text(reason), f"{n:,}")
            console.print(r)
    for note in summary.get("notes") or []:
        console.print(f"[dim]note:[/] {text(note)}")


def published_figures_path(scenario: str) -> Path | None:
    """The figures a written report published for a scenario (simulator/data/*-published.csv)."""
    path = Path(str(resources.files("simulator") / "data" / f"{scenario}-published.csv"))
    return path if path.is_file() else None


def print_demo_report(settings: Settings, date_from: date, date_to: date) -> None:
    """Form-06 report, its reconciliation with the published figures, what the dirt became,
    how to query."""

    from cchc.query_cli import FormBy, ReportFormat, form06_command
    from warehouse.reader import open_snapshot
    from warehouse.views import expand

    form06_command(*_days(date_from, date_to), by=FormBy.unit, format=ReportFormat.table, out=None)
    con = open_snapshot(settings)
    try:
        dirt = con.execute(
            expand("""
            SELECT count(*) FILTER (WHERE unit_code_source = 'name') AS by_name,
                   count(*) FILTER (WHERE due_date IS NULL
                                    AND status NOT IN {{codes onestop.NOT_RECEIVED}}) AS no_due,
                   count(*) AS dossiers
            FROM core_onestop__dossiers
            """)
        ).fetchone()
        versions = con.execute("SELECT count(*) FROM raw_onestop__dossier_versions").fetchone()[0]
    finally:
        con.close()
    published = published_figures_path(settings.simulator.scenario)
    if published is not None:
        print_demo_reconciliation(settings, published, date_from, date_to)

    console.print(
        f"\n[bold]Dirt handled[/]: {dirt[2]:,} dossiers from {versions:,} distinct versions "
        f"(older versions superseded by newer ones); {dirt[0]:,} dossiers had no usable unit code "
        f"and were matched on the unit name; {dirt[1]:,} have no due date and are flagged "
        f"(counted on time, as the vendor does)."
    )
    print_documents_demo(settings, date_from, date_to)
    console.print(
        "\n[bold]Query it[/] (read-only snapshot, safe while loads run):\n"
        '  .venv/bin/cchc sql "SELECT * FROM out_onestop__rates_by_unit_month LIMIT 10"\n'
        '  .venv/bin/cchc sql "SELECT * FROM out_eoffice__rates_by_unit_month LIMIT 10"\n'
        '  .venv/bin/cchc sql "SELECT * FROM out_quality__quarantine_reasons"\n'
        "  .venv/bin/cchc report form06 --from 2021-01-01 --to 2022-12-31 --by field\n"
        "  .venv/bin/cchc report documents --from 2022-01-01 --to 2022-12-31 --by month\n"
        f"  .venv/bin/cchc reconcile --from 2021-01-01 --to 2022-12-31 --against {published or 'system'}\n"
        "  .venv/bin/cchc sql            # interactive DuckDB shell\n"
    )


def print_demo_reconciliation(settings: Settings, published: Path, date_from: date,
                              date_to: date) -> None:
    """The warehouse's form 06 reconciled with the published figures (recorded, alerted)."""
    from cchc.reconcile_cli import ReconcileError, print_reconciliation, reconcile

    try:
        runs = reconcile(settings, [str(published)], date_from, date_to)
    except ReconcileError as exc:
        console.print(f"[red]reconciliation not possible: {text(exc)}[/]")
        return
    for run in runs:
        print_reconciliation(run, run.against, date_from, date_to)


def print_documents_demo(settings: Settings, date_from: date, date_to: date) -> None:
    """The e-document report for the same period, beside form 06, and what its dirt became."""

    from cchc.query_cli import DocumentsBy, ReportFormat, documents_command
    from warehouse.reader import open_snapshot

    console.print()
    documents_command(*_days(date_from, date_to), by=DocumentsBy.unit, format=ReportFormat.table,
                      out=None)
    con = open_snapshot(settings)
    try:
        docs, by_name, warned, leaks, repeated = con.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE unit_code_source = 'name'),
                   count(*) FILTER (WHERE len(dq_warnings) > 0),
                   count(*) FILTER (WHERE secret_leak_dropped),
                   count(*) FILTER (WHERE register_number_repeated)
            FROM core_eoffice__documents
            """
        ).fetchone()
        quarantined = con.execute("SELECT count(*) FROM quarantine_eoffice__documents").fetchone()[0]
    finally:
        con.close()
    console.print(
        f"\n[bold]Documents[/]: {docs:,} documents; {by_name:,} matched on the body's name; "
        f"{quarantined:,} rows quarantined; {warned:,} loaded with warnings, among them "
        f"{leaks:,} secret documents whose leaked summary was dropped before storing and "
        f"{repeated:,} with a register number used twice."
    )


def _days(*days: date) -> list:
    """Dates as the report commands take them (their options parse to datetimes)."""
    from datetime import datetime

    return [datetime.combine(d, datetime.min.time()) for d in days]


def print_status(settings: Settings) -> None:
    """The latest loads, the watermarks and the alerts not resolved yet (published snapshot)."""
    from warehouse.reader import open_snapshot

    con = open_snapshot(settings)
    try:
        for title, sql in [
            ("Latest loads", "SELECT load_id, kind, status, rows_in, rows_loaded, rows_quarantined, "
                             "finished_at FROM etl_loads ORDER BY started_at DESC LIMIT 10"),
            ("Watermarks", "SELECT stream, watermark, updated_at FROM etl_watermarks"),
            ("Open alerts (cchc alerts ack ID)",
             "SELECT alert_id, status, severity, kind, source_system, last_seen_at, seen_count, "
             "message FROM dq_alerts WHERE status IN ('open', 'acknowledged') "
             "AND severity <> 'info' "
             "ORDER BY severity = 'critical' DESC, raised_at DESC LIMIT 20"),
        ]:
            rel = con.execute(sql)
            cols = [d[0] for d in rel.description]
            t = Table(title=title)
            for c in cols:
                t.add_column(c)
            for row in rel.fetchall():
                t.add_row(*[text(v) for v in row])
            console.print(t)
    finally:
        con.close()
