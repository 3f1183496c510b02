"""`cchc reconcile`: the warehouse's form 06 against the source system's report, a form-06
spreadsheet or published figures, every difference explained or alerted (docs/figures.md,
"Reconciliation").

Exit codes: 0 every figure agrees or its difference is explained; 1 at least one unexplained
difference (each one is an open ``reconciliation_difference`` alert); 2 the reconciliation
could not run (unreadable file, source unavailable, bad period).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cchc.query_cli import AsOf, DateFrom, DateTo, FormBy

if TYPE_CHECKING:
    import polars as pl

    from cchc.config import Settings
    from warehouse.reconcile_store import Against, ReconciliationRun

SYSTEM = "system"
MARKS = {"agrees": "[green]✓ same[/]", "explained": "[yellow]≈ explained[/]",
         "unexplained": "[red]✗ differs[/]"}  # fmt: skip
HEADERS_VI = {"figure": "Chỉ tiêu", "unit": "Đơn vị", "formula": "Cách tính", "ours": "cchc",
              "theirs": "Bên kia", "difference": "Chênh lệch", "status": "Kết quả",
              "explanation": "Giải thích"}  # fmt: skip


class ReconcileFormat(StrEnum):
    table = "table"
    xlsx = "xlsx"
    csv = "csv"
    json = "json"


class ReconcileError(Exception):
    """The other side could not be read or the reconciliation could not run."""


def read_other_side(settings: Settings, spec: str, date_from: date, date_to: date,
                    by: str) -> tuple[Against, pl.DataFrame]:
    """``system`` (the one-stop system's own report) or a file: ``.xlsx`` a form 06, ``.csv``
    published figures (only those of the period)."""
    from sources.errors import SourceError
    from warehouse.reconcile_store import Against

    try:
        if spec == SYSTEM:
            from sources.form06_file import report_06_frame
            from sources.onestop.api import REPORT_06_PATH, OnestopClient

            src = settings.source_settings("onestop")
            url = f"{src.base_url.rstrip('/')}{REPORT_06_PATH}"
            with OnestopClient.from_settings(src) as client:
                body = client.report_06(date_from, date_to, by)  # type: ignore[arg-type]
            return Against("system", url), report_06_frame(body, url)
        path = Path(spec)
        if not path.is_file():
            raise ReconcileError(f"{spec}: no such file (use 'system' or a .xlsx / .csv file)")
        if path.suffix.lower() == ".csv":
            from sources.published_figures import for_period, read_published_figures

            frame = for_period(read_published_figures(path), path, date_from, date_to)
            return Against("published", path.name), frame
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            from sources.form06_file import read_form06_xlsx

            return Against("form06", path.name), read_form06_xlsx(path, (date_from, date_to))
        raise ReconcileError(f"{spec}: a form 06 is read from .xlsx, published figures from .csv")
    except SourceError as exc:
        raise ReconcileError(str(exc)) from None


def reconcile(settings: Settings, against: list[str], date_from: date, date_to: date,
              by: str = "unit", as_of: date | None = None) -> list[ReconciliationRun]:
    """Read every other side first (no lock held while a source answers), then compare,
    record, alert and publish in one writer session. With ``as_of`` our side is the snapshot
    published at the end of that local day (``open_snapshot(settings, as_of=…)``, the lake
    backend), compared before the writer is opened."""
    from cchc.dashboard.build import refresh_after_publish
    from warehouse.form06 import Form06IdentityError
    from warehouse.reconcile_store import compare, record, run_reconciliation
    from warehouse.writer import Warehouse

    if date_from > date_to:
        raise ReconcileError(f"the period starts ({date_from}) after it ends ({date_to})")
    snapshot = _as_published(settings, as_of) if as_of is not None else None
    try:
        sides = [read_other_side(settings, spec, date_from, date_to, by)
                 for spec in dict.fromkeys(against)]
        results = None
        if snapshot is not None:
            try:
                results = [compare(snapshot, frame, side, date_from, date_to, by, settings.scope)
                           for side, frame in sides]
            except Form06IdentityError as exc:
                raise ReconcileError(str(exc)) from None
    finally:
        if snapshot is not None:
            snapshot.close()
    with Warehouse.open(settings) as wh:
        try:
            if results is not None:
                runs = [record(wh, result, side, date_from, date_to, by, as_of)
                        for result, (side, _) in zip(results, sides, strict=True)]
            else:
                runs = [run_reconciliation(wh, frame, side, date_from, date_to, by)
                        for side, frame in sides]
        except Form06IdentityError as exc:
            raise ReconcileError(str(exc)) from None
        wh.publish()
    refresh_after_publish(settings)  # the page shows the alerts the run opened or resolved
    return runs


def _as_published(settings: Settings, day: date):
    """The snapshot published last before ``day`` ended, or a ReconcileError saying why not
    (the file backend, nothing published then, expired by the lake's upkeep)."""
    from warehouse.lake import end_of_day
    from warehouse.reader import SnapshotUnavailable, open_snapshot

    try:
        return open_snapshot(settings, as_of=end_of_day(day))
    except SnapshotUnavailable as exc:
        raise ReconcileError(str(exc)) from None


def result_frame(runs: list[ReconciliationRun], sides: list[Against]) -> pl.DataFrame:
    """All runs' rows in one frame, each with its other side."""
    import polars as pl

    return pl.concat([
        r.result.drop("explanation_vi").with_columns(against=pl.lit(s.label))
        for r, s in zip(runs, sides, strict=True)
    ])


def _shown(value: float | None, figure: str) -> str:
    if value is None:
        return "—"
    if figure.endswith("_pct") and "check" not in figure or not float(value).is_integer():
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def print_reconciliation(run: ReconciliationRun, side: Against, date_from: date,
                         date_to: date) -> None:
    """Differences and the total's figures (every row when there are few), one line each."""
    from rich.table import Table

    from cchc.console import console, text
    from transforms.reconcile import AGREES, TOTAL_KEY

    result = run.result
    shown = result if result.height <= 30 else result.filter(
        (result["status"] != AGREES) | (result["key"] == TOTAL_KEY))
    only = "" if shown["unit"].n_unique() > 1 else f" ({shown['unit'][0]})"
    t = Table(title=text(f"Reconciliation with {side.label}{only}, "
                         f"{date_from:%d/%m/%Y} – {date_to:%d/%m/%Y}"))
    by_unit = shown["unit"].n_unique() > 1  # one unit (published figures): said in the title
    columns = ("figure", "unit", "computed as", "warehouse", "other side", "difference", "")
    for col in columns if by_unit else tuple(c for c in columns if c != "unit"):
        t.add_column(col, justify="right" if col in ("warehouse", "other side", "difference")
                     else "left", no_wrap=col in ("figure", "unit", ""))
    notes: list[str] = []  # explanations below the table: a narrow terminal keeps it readable
    for r in shown.iter_rows(named=True):
        diff = "" if r["status"] == AGREES else _shown(r["difference"], r["figure"])
        mark = MARKS[r["status"]]
        if r["explanation"]:
            notes.append(f"[{len(notes) + 1}] {r['figure']} ({r['unit']}): {r['explanation']}")
            mark = f"{mark} [{len(notes)}]"
        cells = [text(r["figure"]), text(r["unit"]), text(r["formula"]),
                 _shown(r["ours"], r["figure"]), _shown(r["theirs"], r["figure"]), diff, mark]
        t.add_row(*(cells if by_unit else cells[:1] + cells[2:]))
    console.print(t)
    for note in notes:
        console.print(text(note))
    counts = result["status"].value_counts()
    n = dict(zip(counts["status"], counts["count"], strict=True))
    console.print(f"{result.height:,} figures compared: {n.get('agrees', 0):,} agree, "
                  f"{n.get('explained', 0):,} differ with an explanation, "
                  f"{n.get('unexplained', 0):,} differ unexplained"
                  + (f" ({len(run.alerts_opened)} new alert(s))" if run.alerts_opened else ""))


def write_xlsx(frame: pl.DataFrame, path: Path, date_from: date, date_to: date) -> Path:
    """The comparison as a spreadsheet, one row per figure."""
    from warehouse.form06_xlsx import add_formats, new_workbook, write_cell

    wb = new_workbook(path)
    ws = wb.add_worksheet("Đối chiếu")
    fmt = add_formats(wb)
    cols = ["against", "unit", "figure", "formula", "ours", "theirs", "difference", "status",
            "explanation"]
    ws.merge_range(0, 0, 0, len(cols) - 1, "ĐỐI CHIẾU SỐ LIỆU GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
                   fmt["title"])
    ws.merge_range(1, 0, 1, len(cols) - 1, f"(Từ ngày {date_from:%d/%m/%Y} đến ngày "
                   f"{date_to:%d/%m/%Y})", fmt["italic_c"])  # fmt: skip
    for i, c in enumerate(cols):
        ws.write_string(3, i, HEADERS_VI.get(c, "So với"), fmt["head"])
    for r, row in enumerate(frame.select(cols).iter_rows(), start=4):
        for i, v in enumerate(row):
            write_cell(ws, r, i, v, fmt["text"] if isinstance(v, str) else fmt["cell"])
    ws.set_column(0, 1, 22)
    ws.set_column(2, 3, 24)
    ws.set_column(4, 7, 12)
    ws.set_column(8, 8, 70)
    ws.freeze_panes(4, 0)
    wb.close()
    return path


def reconcile_command(
    date_from: DateFrom,
    date_to: DateTo,
    against: Annotated[list[str] | None, typer.Option(
        "--against", help="'system' (the one-stop system's own report, the default), a form-06 "
        ".xlsx or a published-figures .csv; repeatable.")] = None,
    by: Annotated[FormBy, typer.Option("--by", help="Compare per unit or per field.")] =
        FormBy.unit,
    format: Annotated[ReconcileFormat, typer.Option("--format", "-f", help="Output format.")] =
        ReconcileFormat.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write.")] = None,
    as_of: AsOf = None,
) -> None:
    """Reconcile the warehouse's form 06 with the other side's figures, explain every
    difference, record the run and alert on what stays unexplained. Exit 0: nothing
    unexplained; 1: unexplained differences; 2: could not reconcile."""
    from cchc.config import load_settings
    from cchc.query_cli import _emit

    settings = load_settings()
    first, last = date_from.date(), date_to.date()
    specs = against or [SYSTEM]
    try:
        runs = reconcile(settings, specs, first, last, by.value,
                         as_of.date() if as_of is not None else None)
    except ReconcileError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    sides = [r.against for r in runs]
    if format is ReconcileFormat.table:
        for run, side in zip(runs, sides, strict=True):
            print_reconciliation(run, side, first, last)
    elif format is ReconcileFormat.xlsx:
        path = out or settings.reports_dir / f"reconciliation_{by.value}_{first}_{last}.xlsx"
        write_xlsx(result_frame(runs, sides), path, first, last)
        typer.echo(f"wrote {path}")
    else:
        _emit(result_frame(runs, sides), format.value, out)
    if any(r.unexplained for r in runs):
        raise typer.Exit(1)
