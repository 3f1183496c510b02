"""What the commands print: load summaries, the demo's report, the status page (rich tables)."""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cchc.config import Settings

console = Console()

# The published indicators (docs/source-systems.md §4–5) and how the warehouse's form 06 computes each.
INDICATORS: dict[str, tuple[str, Any]] = {
    "received_total": ("c3", lambda c: c["c3"]),
    "received_online": ("c4", lambda c: c["c4"]),
    "received_counter_postal": ("c5", lambda c: c["c5"]),
    "carried_over": ("c6", lambda c: c["c6"]),
    "resolved_total": ("c7", lambda c: c["c7"]),
    "resolved_on_time": ("c8 + c9", lambda c: c["c8"] + c["c9"]),
    "resolved_late": ("c10", lambda c: c["c10"]),
    "in_progress_total": ("c11", lambda c: c["c11"]),
    "online_rate_pct": ("c4 / (c4 + c5)", lambda c: _pct(c["c4"], c["c4"] + c["c5"])),
    "on_time_rate_pct": ("(c8 + c9) / c7", lambda c: _pct(c["c8"] + c["c9"], c["c7"])),
    "late_rate_pct": ("c10 / c7", lambda c: _pct(c["c10"], c["c7"])),
}


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 2) if den else None


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


def published_figures(scenario: str) -> list[dict[str, str]]:
    """The figures a written report published for a scenario (simulator/data/*-published.csv)."""
    path = resources.files("simulator") / "data" / f"{scenario}-published.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def print_demo_report(settings: Settings, date_from: date, date_to: date) -> None:
    """Form-06 report, its totals beside the published figures, what the dirt became, how to query."""

    from cchc.query_cli import FormBy, ReportFormat, form06_command
    from warehouse.form06 import TOTAL_LABEL, form06
    from warehouse.reader import open_snapshot
    from warehouse.views import expand

    form06_command(*_days(date_from, date_to), by=FormBy.unit, format=ReportFormat.table, out=None)
    con = open_snapshot(settings)
    try:
        report = form06(con, date_from, date_to, "unit")
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
    total = report.filter(report["c2"] == TOTAL_LABEL).row(0, named=True)

    published = {r["indicator"]: r for r in published_figures(settings.simulator.scenario)}
    cmp = Table(title=f"Warehouse vs published figures, {date_from:%d/%m/%Y} – {date_to:%d/%m/%Y}")
    for col in ("indicator", "computed as", "warehouse", "published", ""):
        cmp.add_column(col, justify="right" if col in ("warehouse", "published") else "left")
    for indicator, (formula, compute) in INDICATORS.items():
        ours = compute(total)
        theirs = published.get(indicator, {}).get("value")
        same = theirs is not None and ours is not None and _agrees(float(ours), theirs)
        mark = "[green]✓ same[/]" if same else ("[red]✗ differs[/]" if theirs is not None else "")
        cmp.add_row(indicator, formula, _fmt(ours), _fmt(theirs), mark)
    console.print(cmp)

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
        "  .venv/bin/cchc sql            # interactive DuckDB shell\n"
    )


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


def _agrees(ours: float, published: str) -> bool:
    """Equal at the precision the figure was published with (98.52 % is published as 98.5)."""
    decimals = len(published.partition(".")[2])
    return round(ours, decimals) == round(float(published), decimals)


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) or (isinstance(v, str) and "." in v):
        return f"{float(v):,.2f}"
    return f"{int(v):,}"


def print_status(settings: Settings) -> None:
    """The latest loads and alerts, read from the published snapshot."""
    from warehouse.reader import open_snapshot

    con = open_snapshot(settings)
    try:
        for title, sql in [
            ("Latest loads", "SELECT load_id, kind, status, rows_in, rows_loaded, rows_quarantined, "
                             "finished_at FROM etl_loads ORDER BY started_at DESC LIMIT 10"),
            ("Watermarks", "SELECT stream, watermark, updated_at FROM etl_watermarks"),
            ("Latest alerts", "SELECT raised_at, kind, severity, message FROM dq_alerts "
                              "ORDER BY raised_at DESC LIMIT 10"),
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
