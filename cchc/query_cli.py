"""`cchc sql` and `cchc report`: readers of the published snapshot.

Both open only the published copy, read-only, so they work while a load runs. DuckDB and polars
are imported inside the commands to keep ``cchc --help`` fast.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import polars as pl

report_app = typer.Typer(help="Reports from the published snapshot.", no_args_is_help=True)

TABLE_ROW_LIMIT = 200


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    xlsx = "xlsx"


class IndicatorsFormat(StrEnum):
    table = "table"
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


class FormBy(StrEnum):
    unit = "unit"
    field = "field"


class DueDay(StrEnum):
    current = "current"
    original = "original"


class ReportUnits(StrEnum):
    """Rows by the unit that received (before or after the 2025 reform), or by today's units."""

    received = "received"
    new = "new"


UnitsOption = Annotated[ReportUnits, typer.Option(
    "--units", help="received: one row per unit that received (a code reused after the 1 July "
                    "2025 reform shows twice, with its validity); new: old units' figures under "
                    "today's successors (the district's own desk keeps its row).")]


class DocumentsBy(StrEnum):
    unit = "unit"
    month = "month"


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _snapshot(as_of: datetime | None = None):
    """Settings and a read-only connection (as published before the end of day ``as_of``),
    or a clear exit."""
    from cchc.config import load_settings
    from warehouse.reader import SnapshotUnavailable, open_snapshot

    settings = load_settings()
    try:
        if as_of is None:
            return settings, open_snapshot(settings)
        from warehouse.lake import end_of_day

        return settings, open_snapshot(settings, as_of=end_of_day(as_of.date()))
    except SnapshotUnavailable as exc:  # missing or corrupt: one line, and what to run
        raise _fail(str(exc)) from None


def _json_text(values: list) -> list[str | None]:
    return [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in values]


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns as text, so CSV can hold them: a list of plain values as ``a | b``, any
    other nested value as JSON."""
    import polars as pl

    nested = {}
    for name, dtype in frame.schema.items():
        if not dtype.is_nested():
            continue
        if isinstance(dtype, pl.List | pl.Array) and not dtype.inner.is_nested():
            col = pl.col(name).arr.to_list() if isinstance(dtype, pl.Array) else pl.col(name)
            nested[name] = col.list.eval(pl.element().cast(pl.String)).list.join(" | ")
        else:
            nested[name] = pl.Series(name, _json_text(frame[name].to_list()), dtype=pl.String)
    return frame.with_columns(**nested) if nested else frame


def _print_table(frame: pl.DataFrame, title: str | None = None, bold_last: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    shown = frame.head(TABLE_ROW_LIMIT)
    table = Table(title=title, show_lines=False)
    for name, dtype in shown.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    last = shown.height - 1
    for i, row in enumerate(_plain(shown).iter_rows()):
        cells = ["" if v is None else str(v) for v in row]
        table.add_row(*cells, style="bold" if bold_last and i == last else None)
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze into 80 columns
        console = Console(width=160)
    console.print(table)
    if frame.height > shown.height:
        console.print(f"… {frame.height - shown.height} more rows (use --format csv)")


def _emit(frame: pl.DataFrame, fmt: str, out: Path | None = None) -> None:
    """CSV (text cells that a spreadsheet would run as a formula are neutralised: see
    ``warehouse.form06.csv_safe``) or JSON, to stdout or ``out``."""
    if fmt == "csv":
        from warehouse.form06 import csv_safe

        text = csv_safe(_plain(frame)).write_csv()
    else:
        text = frame.write_json()
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


# The DuckDB shell in safe mode (docs/security.md): .safe_mode refuses the dot commands that
# run programs or touch files (.shell .system .output .once .log .read .import .open .cd …) and
# sets enable_external_access = false and lock_configuration = true. It is given as the last
# -cmd, after the one folder a reader may still read (the raw layer's Parquet files,
# warehouse.raw_files), and both run before the shell reads a line; -readonly opens the
# snapshot read-only; -no-init skips ~/.duckdbrc (commands we did not choose).
SHELL_FLAGS = ("-readonly", "-no-init")


def _is_executable(path: Path) -> bool:
    if not (path.is_file() and os.access(path, os.X_OK)):
        return False
    with path.open("rb") as fh:  # the duckdb-cli package's console script is a Python wrapper
        return fh.read(2) != b"#!"  # that runs SET extension_directories: refused in -safe mode


def duckdb_binary() -> Path | None:
    """The DuckDB CLI executable: the one the duckdb-cli package ships, else a native
    ``duckdb`` next to the interpreter; None if there is none."""
    import importlib.util

    candidates = []
    spec = importlib.util.find_spec("duckdb_cli")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(loc) / "duckdb" for loc in spec.submodule_search_locations]
    candidates.append(Path(sys.executable).parent / "duckdb")
    return next((c for c in candidates if _is_executable(c)), None)


def shell_argv(binary: Path, published: Path, raw_directory: str) -> list[str]:
    from warehouse.ddl import literal

    return [str(binary), *SHELL_FLAGS,
            "-cmd", f"SET allowed_directories = [{literal(raw_directory)}]",
            "-cmd", ".safe_mode", str(published)]


def _shell(published: Path, raw_directory: str) -> None:
    """The DuckDB shell on the snapshot in safe mode; a small Python loop if it is missing."""
    _snapshot()[1].close()  # a missing or corrupt snapshot ends here, in one line
    binary = duckdb_binary()
    if binary is not None:
        sys.stdout.flush()
        os.execv(binary, shell_argv(binary, published, raw_directory))
    _python_shell()


def _python_shell() -> None:
    import duckdb

    from warehouse.reader import QueryRefused, run_query

    _, con = _snapshot()
    typer.echo("cchc sql (read-only snapshot). End a query with ';'. .quit or Ctrl-D to leave.")
    buffer: list[str] = []
    while True:
        try:
            line = input("cchc> " if not buffer else "  ... ")
        except EOFError:
            typer.echo()
            return
        if not buffer and line.strip() in (".quit", ".exit", "\\q"):
            return
        if not buffer and line.lstrip().startswith("."):
            typer.secho("only .quit (or .exit) is available here: the shell is read-only and "
                        "runs no commands", fg=typer.colors.RED, err=True)  # fmt: skip
            continue
        buffer.append(line)
        if not line.rstrip().endswith(";"):
            continue
        sql, buffer = "\n".join(buffer), []
        try:
            _print_table(run_query(con, sql))
        except (QueryRefused, duckdb.Error) as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)


def sql_command(
    query: Annotated[
        str | None,
        typer.Argument(help="SQL to run; without it, an interactive read-only shell opens."),
    ] = None,
    format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
) -> None:
    """Query the published snapshot (read-only; views out_* answer the common questions)."""
    if query is None:
        from cchc.config import load_settings
        from warehouse.lake import is_lake

        settings = load_settings()
        if is_lake(settings):  # the DuckDB CLI (1.5.6) cannot load the 1.5.5 lake extensions
            _python_shell()
            return
        published = settings.published_path
        if not published.is_file():
            raise _fail(
                f"no published warehouse at {published}: run `cchc run` or `cchc demo` first"
            )
        from warehouse.reader import raw_directory

        _shell(published, raw_directory(settings))
        return
    import duckdb

    from warehouse.reader import QueryRefused, run_query

    _, con = _snapshot()
    try:
        frame = run_query(con, query)
    except QueryRefused as exc:
        raise _fail(str(exc), 2) from None
    except duckdb.Error as exc:
        raise _fail(str(exc)) from None
    finally:
        con.close()
    if format is OutputFormat.table:
        _print_table(frame)
    else:
        _emit(frame, format.value)


DateFrom = Annotated[
    datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")
]
DateTo = Annotated[
    datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")
]
Format = Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")]
Out = Annotated[Path | None, typer.Option("--out", "-o", help="File to write (csv, xlsx).")]
AsOf = Annotated[datetime | None, typer.Option(
    "--as-of", "--published-on", formats=["%Y-%m-%d"],
    help="The figures as published at the end of this day (YYYY-MM-DD): the snapshot published "
         "last before it ended. Needs [warehouse] backend = \"ducklake\".")]


def _report(name: str, compute, errors: tuple[type[Exception], ...], write_xlsx, with_headers,
            first, last, by: str, format: ReportFormat, out: Path | None,
            as_of: datetime | None = None) -> pl.DataFrame | None:
    """Compute a report on the published snapshot (as published on day ``as_of``) and write it
    as xlsx or csv; for the table format return the frame to the command, which shows it."""
    settings, con = _snapshot(as_of)
    try:
        frame = compute(con, first, last, by)
    except (ValueError, *errors) as exc:
        raise _fail(str(exc)) from None
    finally:
        con.close()
    if format is ReportFormat.xlsx:
        from warehouse.form06_xlsx import issuer_from

        path = out or settings.reports_dir / f"{name}_{by}_{first}_{last}.xlsx"
        write_xlsx(frame, path, first, last, by, issuer_from(frame))
        typer.echo(f"wrote {path}")
        return None
    if format is ReportFormat.csv:
        _emit(with_headers(frame, by), "csv", out)
        return None
    return frame


@report_app.command("form06")
def form06_command(
    date_from: DateFrom,
    date_to: DateTo,
    by: Annotated[FormBy, typer.Option("--by", help="One row per unit or per field.")] = FormBy.unit,
    format: Format = ReportFormat.table,
    out: Out = None,
    due: Annotated[DueDay, typer.Option(
        "--due", help="Judge timeliness against the current due date or the first one promised "
                      "after reception (a due date moved later can hide lateness).")] = DueDay.current,
    units: UnitsOption = ReportUnits.received,
    as_of: AsOf = None,
) -> None:
    """Form 06 (biểu II.06a): dossiers received and resolved, computed from the dossier rows."""
    from warehouse.form06 import (
        COMPACT_HEADERS,
        COUNT_COLUMNS,
        Form06IdentityError,
        form06,
        with_headers,
    )
    from warehouse.form06_xlsx import write_form06_xlsx

    first, last = date_from.date(), date_to.date()
    def compute(con, first, last, by):
        return form06(con, first, last, by, due=due.value, units=units.value)

    frame = _report("form06", compute, (Form06IdentityError,), write_form06_xlsx, with_headers,
                    first, last, by.value, format, out, as_of)
    if frame is None:
        return
    compact = frame.select("c1", "c2", *COUNT_COLUMNS).rename(
        {"c1": "STT", "c2": "Đơn vị" if by is FormBy.unit else "Lĩnh vực", **COMPACT_HEADERS}
    )
    _print_table(compact, title=f"Biểu 06: {first:%d/%m/%Y} - {last:%d/%m/%Y}", bold_last=True)
    totals = frame.row(-1, named=True)
    typer.echo(
        f"Cột (9) gồm {totals['no_due_date']} hồ sơ không có ngày hẹn trả và "
        f"{totals['withdrawn']} hồ sơ rút; cột (12) gồm {totals['open_no_due_date']} hồ sơ "
        "không có ngày hẹn trả."
    )
    if totals["no_due_date"]:
        typer.secho(
            "Hồ sơ không có ngày hẹn trả được tính là đúng hạn như phần mềm một cửa: "
            "kiểm tra lại dữ liệu.",
            fg=typer.colors.YELLOW,
        )
    moved = totals["late_by_first_due"]
    if due is DueDay.original:
        typer.echo(f"Tính theo ngày hẹn trả đầu tiên sau tiếp nhận: {moved} hồ sơ trong cột (10) "
                   "là đúng hạn theo ngày hẹn hiện tại (ngày hẹn đã bị lùi).")
    elif moved:
        typer.secho(f"{moved} hồ sơ được tính đúng hạn chỉ vì ngày hẹn trả đã bị lùi sau tiếp "
                    "nhận: xem --due original và out_onestop__moved_due_dates.",
                    fg=typer.colors.YELLOW)


@report_app.command("documents")
def documents_command(
    date_from: DateFrom,
    date_to: DateTo,
    by: Annotated[DocumentsBy, typer.Option(
        "--by", help="One row per unit (register holder) or per month.")] = DocumentsBy.unit,
    format: Format = ReportFormat.table,
    out: Out = None,
    units: UnitsOption = ReportUnits.received,
    as_of: AsOf = None,
) -> None:
    """E-documents: incoming received and handled, outgoing issued, electronic and signed."""
    from warehouse.documents_report import (
        DocumentsIdentityError,
        compact_table,
        documents_report,
        with_headers,
        write_documents_xlsx,
    )

    first, last = date_from.date(), date_to.date()
    def compute(con, first, last, by):
        return documents_report(con, first, last, by, units=units.value)

    frame = _report("documents", compute, (DocumentsIdentityError,), write_documents_xlsx,
                    with_headers, first, last, by.value, format, out, as_of)
    if frame is None:
        return
    _print_table(compact_table(frame, by.value),
                 title=f"Văn bản: {first:%d/%m/%Y} - {last:%d/%m/%Y}", bold_last=True)
    typer.echo(
        "Tỷ lệ trao đổi điện tử = [(4)+(11)] / [(3)+(10)]; ký số = (12) / (10); "
        "xử lý đúng hạn = (6) / [(6)+(7)]."
    )
    if by is DocumentsBy.month:
        typer.echo(
            "Mỗi tháng là một kỳ riêng; dòng Tổng cộng là cả kỳ (cột 6-9 xét đến ngày cuối kỳ)."
        )


@report_app.command("indicators")
def indicators_command(
    date_from: DateFrom,
    date_to: DateTo,
    by: Annotated[DocumentsBy, typer.Option(
        "--by", help="One row per unit, or per month for the whole district.")] = DocumentsBy.unit,
    format: Annotated[
        IndicatorsFormat, typer.Option("--format", "-f", help="Output format.")
    ] = IndicatorsFormat.table,
    out: Out = None,
    units: UnitsOption = ReportUnits.received,
    as_of: AsOf = None,
) -> None:
    """Service-index indicators (Decision 766/QĐ-TTg): each rate beside its national target."""
    from warehouse.indicators import (
        NOTE,
        compact_table,
        indicators,
        issuer,
        long_form,
        summary_table,
        with_headers,
        write_indicators_xlsx,
    )

    first, last = date_from.date(), date_to.date()
    settings, con = _snapshot(as_of)
    try:
        frame = indicators(con, first, last, by.value, units=units.value)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    finally:
        con.close()
    if format is IndicatorsFormat.xlsx:
        path = out or settings.reports_dir / f"indicators_{by.value}_{first}_{last}.xlsx"
        write_indicators_xlsx(frame, path, first, last, by.value, issuer(frame))
        typer.echo(f"wrote {path}")
        return
    if format is IndicatorsFormat.csv:
        _emit(with_headers(frame, by.value), "csv", out)
        return
    if format is IndicatorsFormat.json:
        _emit(long_form(frame), "json", out)
        return
    period = f"{first:%d/%m/%Y} - {last:%d/%m/%Y}"
    _print_table(summary_table(frame), title=f"Chỉ số phục vụ (QĐ 766/QĐ-TTg), toàn huyện: {period}")
    _print_table(compact_table(frame, by.value), title=f"Theo {'đơn vị' if by is DocumentsBy.unit else 'tháng'}: {period}",
                 bold_last=True)  # fmt: skip
    typer.echo("✓ đạt mục tiêu, ✗ chưa đạt. " + NOTE)
