"""`cchc simulate ...`: serve the simulated one-stop system, export files, print the truth.

Heavy imports (numpy, polars, starlette, uvicorn) happen inside the commands, so `cchc --help`
stays fast. Defaults for host, port, scenario, seed and token come from the settings
(`cchc.config`, section [simulator]).
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cchc.config import SimulatorSettings
from simulator.options import SCENARIOS, DirtOptions, DocDirtOptions, FaultOptions

app = typer.Typer(help="The simulator of the provincial one-stop system (dossiers) and e-document system.",
                  no_args_is_help=True)

_S, _D, _F, _DD = SimulatorSettings(), DirtOptions(), FaultOptions.demo(), DocDirtOptions()
SYS, DIRT, FAULTS = "System", "Dirt (on top of the clean truth)", "HTTP faults"
DOCDIRT = "E-document dirt"

Scenario = Annotated[str | None, typer.Option(help=f"{' | '.join(SCENARIOS)} (default: settings, {_S.scenario})",
                                              show_default=False, rich_help_panel=SYS)]
Seed = Annotated[int | None, typer.Option(help=f"Same seed, same data. (default: settings, {_S.seed})",
                                          show_default=False, rich_help_panel=SYS)]
Dossiers = Annotated[int, typer.Option(help="Scenario 'scale': number of dossiers.", rich_help_panel=SYS)]
Units = Annotated[int, typer.Option(help="Scenario 'scale': receiving units.", rich_help_panel=SYS)]
Years = Annotated[int, typer.Option(help="Scenario 'scale': years from --start-year.", rich_help_panel=SYS)]
StartYear = Annotated[int, typer.Option(help="Scenario 'scale': first year.", rich_help_panel=SYS)]
Now = Annotated[str | None, typer.Option(help="The simulated system's 'now' (ISO UTC); versions after it are hidden. "
                                         "(default: the real time)", show_default=False, rich_help_panel=SYS)]
Clean = Annotated[bool, typer.Option("--clean", help="No dirt at all, dossiers and documents (overrides the switches "
                                     "below).", rich_help_panel=DIRT)]
Documents = Annotated[int, typer.Option(help="Scenario 'scale': number of e-documents (0: 0.43 × dossiers).",
                                        rich_help_panel=SYS)]
System = Annotated[str, typer.Option(help="onestop (dossiers) | eoffice (e-documents)")]

DocDuplicates = Annotated[float, typer.Option(help="Share of document items emitted twice.", rich_help_panel=DOCDIRT)]
DocReappear = Annotated[float, typer.Option(help="Share of documents that also emit older versions.",
                                            rich_help_panel=DOCDIRT)]
DocNfd = Annotated[float, typer.Option(help="Share of documents in NFD.", rich_help_panel=DOCDIRT)]
DocVariants = Annotated[float, typer.Option(help="Share of documents with a body-name variant, MaDVHC null.",
                                            rich_help_panel=DOCDIRT)]
DocUnknownBodies = Annotated[int, typer.Option(help="Extra documents of bodies outside the district.",
                                               rich_help_panel=DOCDIRT)]
DocCompletedBefore = Annotated[int, typer.Option(help="Extra incoming documents completed before receipt.",
                                                 rich_help_panel=DOCDIRT)]
DocUnknownLabels = Annotated[int, typer.Option(help="Extra documents with an unknown DoMat/DoKhan/TrangThai/HinhThuc/"
                                               "LoaiVanBan.", rich_help_panel=DOCDIRT)]
DocUnknownType = Annotated[float, typer.Option(help="Share of documents with a type outside the 29 (warning).",
                                               rich_help_panel=DOCDIRT)]
DocRepeated = Annotated[int, typer.Option(help="Documents given another's register number (warning).",
                                          rich_help_panel=DOCDIRT)]
DocLeak = Annotated[int, typer.Option(help="Secret documents served with a summary 'MẬT-LEAK …' (warning).",
                                      rich_help_panel=DOCDIRT)]


Duplicates = Annotated[float, typer.Option(help="Share of items emitted twice, identical.", rich_help_panel=DIRT)]
Reappear = Annotated[float, typer.Option(help="Share of dossiers that also emit their older versions.", rich_help_panel=DIRT)]
Nfd = Annotated[float, typer.Option(help="Share of dossiers whose text is decomposed Unicode (NFD).", rich_help_panel=DIRT)]
Variants = Annotated[float, typer.Option(help="Share of dossiers with a unit-name spelling variant and MaDVHC null.",
                                         rich_help_panel=DIRT)]
MissingDue = Annotated[float, typer.Option(help="Share of dossiers (closed on time) without a due date.", rich_help_panel=DIRT)]
OffStatuteDue = Annotated[float, typer.Option(help="Share of dossiers (finished on time) whose due date is moved 1–3 "
                                              "working days past the statutory handling time.", rich_help_panel=DIRT)]
FinishBefore = Annotated[int, typer.Option(help="Extra dossiers finished before their reception.", rich_help_panel=DIRT)]
UnknownUnits = Annotated[int, typer.Option(help="Extra dossiers of units outside the district (MaDVHC null).",
                                           rich_help_panel=DIRT)]
UnknownStatus = Annotated[int, typer.Option(help="Extra dossiers with status 0, 99, 11 or text.", rich_help_panel=DIRT)]
CodesAsNumbers = Annotated[float, typer.Option(help="Files only: share of plain procedure codes written as numbers "
                                               "(1.001230 → 1.00123).", rich_help_panel=DIRT)]


def _options(scenario: str | None, seed: int | None, token: str | None, dossiers: int, units: int, years: int,
             start_year: int, now: str | None, clean: bool, dirt: dict[str, Any], faults: FaultOptions | None = None,
             documents: int = 0, doc_dirt: dict[str, Any] | None = None) -> Any:
    from cchc.config import load_settings
    from simulator.options import SimOptions

    sim = load_settings().simulator
    moment = None
    if now:
        moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise typer.BadParameter("--now needs a time zone, e.g. 2022-06-30T17:00:00Z")
    return SimOptions(scenario=scenario or sim.scenario, seed=sim.seed if seed is None else seed,
                      token=token or sim.token, dossiers=dossiers, units=units, years=years, start_year=start_year,
                      now=moment, dirt=DirtOptions.clean() if clean else DirtOptions(**dirt),
                      faults=faults or FaultOptions(), documents=documents,
                      doc_dirt=DocDirtOptions.clean() if clean else DocDirtOptions(**(doc_dirt or {})))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help=f"Loopback address. (default: settings, {_S.host})",
                                             show_default=False)] = None,
    port: Annotated[int | None, typer.Option(help=f"Port (0: a free one). (default: settings, {_S.port})",
                                             show_default=False)] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token the API accepts. (default: settings)",
                                              show_default=False)] = None,
    scenario: Scenario = None, seed: Seed = None, dossiers: Dossiers = 1_000_000, units: Units = 15,
    years: Years = 2, start_year: StartYear = 2021, now: Now = None,
    clean: Clean = False, duplicates: Duplicates = _D.duplicates, reappear: Reappear = _D.reappear,
    nfd: Nfd = _D.nfd, unit_variants: Variants = _D.unit_variants, missing_due: MissingDue = _D.missing_due,
    off_statute_due: OffStatuteDue = _D.off_statute_due, finish_before_reception: FinishBefore = _D.finish_before_reception,
    unknown_units: UnknownUnits = _D.unknown_units, unknown_status: UnknownStatus = _D.unknown_status,
    no_faults: Annotated[bool, typer.Option("--no-faults", help="Never fault (overrides the rates below).",
                                            rich_help_panel=FAULTS)] = False,
    rate_429: Annotated[float, typer.Option(help="Share of requests answered 429 + Retry-After.",
                                            rich_help_panel=FAULTS)] = _F.rate_429,
    rate_5xx: Annotated[float, typer.Option(help="Share answered 500/502/503.", rich_help_panel=FAULTS)] = _F.rate_5xx,
    rate_slow: Annotated[float, typer.Option(help="Share answered after --slow-seconds.", rich_help_panel=FAULTS)] = _F.rate_slow,
    rate_drop: Annotated[float, typer.Option(help="Share whose connection is closed mid-body.",
                                             rich_help_panel=FAULTS)] = _F.rate_drop,
    rate_truncated: Annotated[float, typer.Option(help="Share answered 200 with truncated JSON.",
                                                  rich_help_panel=FAULTS)] = _F.rate_truncated,
    slow_seconds: Annotated[float, typer.Option(help="Delay of a slow response.", rich_help_panel=FAULTS)] = _F.slow_seconds,
    retry_after: Annotated[int, typer.Option(help="Retry-After seconds of a 429.", rich_help_panel=FAULTS)] = _F.retry_after,
    max_consecutive: Annotated[int, typer.Option(help="A request never faults more often in a row.",
                                                 rich_help_panel=FAULTS)] = _F.max_consecutive,
    documents: Documents = 0,
    doc_duplicates: DocDuplicates = _DD.doc_duplicates, doc_reappear: DocReappear = _DD.doc_reappear,
    doc_nfd: DocNfd = _DD.doc_nfd, doc_body_variants: DocVariants = _DD.doc_body_variants,
    doc_unknown_bodies: DocUnknownBodies = _DD.doc_unknown_bodies,
    doc_completed_before_receipt: DocCompletedBefore = _DD.doc_completed_before_receipt,
    doc_unknown_labels: DocUnknownLabels = _DD.doc_unknown_labels, doc_unknown_type: DocUnknownType = _DD.doc_unknown_type,
    doc_repeated_numbers: DocRepeated = _DD.doc_repeated_numbers, doc_secret_leak: DocLeak = _DD.doc_secret_leak,
) -> None:
    """Serve the pull API (/onestop/api/v1/dossiers, /onestop/api/v1/reports/06,
    /eoffice/api/v1/documents, /health) on loopback."""
    import time

    import uvicorn

    from cchc.config import load_settings
    from simulator.api import create_app, quiet_drop_logs
    from simulator.testing import bind_socket

    faults = FaultOptions() if no_faults else FaultOptions(rate_429, rate_5xx, rate_slow, rate_drop, rate_truncated,
                                                           slow_seconds, retry_after, max_consecutive)
    dirt = dict(duplicates=duplicates, reappear=reappear, nfd=nfd, unit_variants=unit_variants, missing_due=missing_due,
                off_statute_due=off_statute_due, finish_before_reception=finish_before_reception, unknown_units=unknown_units,
                unknown_status=unknown_status)
    doc_dirt = dict(doc_duplicates=doc_duplicates, doc_reappear=doc_reappear, doc_nfd=doc_nfd,
                    doc_body_variants=doc_body_variants, doc_unknown_bodies=doc_unknown_bodies,
                    doc_completed_before_receipt=doc_completed_before_receipt, doc_unknown_labels=doc_unknown_labels,
                    doc_unknown_type=doc_unknown_type, doc_repeated_numbers=doc_repeated_numbers,
                    doc_secret_leak=doc_secret_leak)
    options = _options(scenario, seed, token, dossiers, units, years, start_year, now, clean, dirt, faults,
                       documents, doc_dirt)
    sim = load_settings().simulator
    host, port = host or sim.host, sim.port if port is None else port
    started = time.perf_counter()
    from simulator.doc_dataset import get_documents

    app_ = create_app(options)
    docs = get_documents(options)  # built now, so the first documents request is not slow
    sock = bind_socket(host, port)
    actual = sock.getsockname()[1]
    print(f"simulator {options.scenario} (seed {options.seed}): {app_.state.dataset.items.height:,} items and "
          f"{docs.items.height:,} document items built in "
          f"{time.perf_counter() - started:.1f} s; serving http://{host}:{actual}", file=sys.stderr, flush=True)
    quiet_drop_logs()
    server = uvicorn.Server(uvicorn.Config(app_, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="File to write.")],
    format: Annotated[str | None, typer.Option("--format", help="xlsx | csv (default: from --out's suffix)",
                                               show_default=False)] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD). (default: scenario period)",
                                                  show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD). (default: scenario period)",
                                                show_default=False)] = None,
    unit: Annotated[str | None, typer.Option(help="One unit: statistics code (24109, 637) or MaDonVi.",
                                             show_default=False)] = None,
    bom: Annotated[bool, typer.Option("--bom/--no-bom", help="CSV: start with a UTF-8 BOM.")] = True,
    dates: Annotated[str, typer.Option(help="XLSX dates: text | excel | mixed.")] = "text",
    scenario: Scenario = None, seed: Seed = None, dossiers: Dossiers = 1_000_000, units: Units = 15,
    years: Years = 2, start_year: StartYear = 2021, now: Now = None,
    clean: Clean = False, duplicates: Duplicates = _D.duplicates, reappear: Reappear = _D.reappear,
    nfd: Nfd = _D.nfd, unit_variants: Variants = _D.unit_variants, missing_due: MissingDue = _D.missing_due,
    off_statute_due: OffStatuteDue = _D.off_statute_due, finish_before_reception: FinishBefore = _D.finish_before_reception,
    unknown_units: UnknownUnits = _D.unknown_units, unknown_status: UnknownStatus = _D.unknown_status,
    codes_as_numbers: CodesAsNumbers = _D.codes_as_numbers,
    system: System = "onestop",
    register: Annotated[str, typer.Option(help="--system eoffice: den (incoming) | di (outgoing) register.")] = "den",
    documents: Documents = 0,
    doc_duplicates: DocDuplicates = _DD.doc_duplicates, doc_reappear: DocReappear = _DD.doc_reappear,
    doc_nfd: DocNfd = _DD.doc_nfd, doc_body_variants: DocVariants = _DD.doc_body_variants,
    doc_unknown_bodies: DocUnknownBodies = _DD.doc_unknown_bodies,
    doc_completed_before_receipt: DocCompletedBefore = _DD.doc_completed_before_receipt,
    doc_unknown_labels: DocUnknownLabels = _DD.doc_unknown_labels, doc_unknown_type: DocUnknownType = _DD.doc_unknown_type,
    doc_repeated_numbers: DocRepeated = _DD.doc_repeated_numbers, doc_secret_leak: DocLeak = _DD.doc_secret_leak,
) -> None:
    """Write a dossier-list export (default) or, with --system eoffice, an incoming/outgoing register
    ("Sổ đăng ký văn bản đến/đi"): XLSX with title block and totals, or CSV."""
    import time

    from simulator.exports import export_dossiers

    if format not in (None, "xlsx", "csv") or dates not in ("text", "excel", "mixed"):
        raise typer.BadParameter("--format is xlsx or csv; --dates is text, excel or mixed")
    if system not in ("onestop", "eoffice") or register not in ("den", "di"):
        raise typer.BadParameter("--system is onestop or eoffice; --register is den or di")
    if system == "eoffice":
        from simulator.doc_exports import export_register

        doc_dirt = dict(doc_duplicates=doc_duplicates, doc_reappear=doc_reappear, doc_nfd=doc_nfd,
                        doc_body_variants=doc_body_variants, doc_unknown_bodies=doc_unknown_bodies,
                        doc_completed_before_receipt=doc_completed_before_receipt,
                        doc_unknown_labels=doc_unknown_labels, doc_unknown_type=doc_unknown_type,
                        doc_repeated_numbers=doc_repeated_numbers, doc_secret_leak=doc_secret_leak)
        options = _options(scenario, seed, None, dossiers, units, years, start_year, now, clean, {}, None,
                           documents, doc_dirt)
        started = time.perf_counter()
        res = export_register(out, format, register=register, options=options,  # type: ignore[arg-type]
                              date_from=date.fromisoformat(date_from) if date_from else None,
                              date_to=date.fromisoformat(date_to) if date_to else None,
                              unit=unit, dates=dates, bom=bom)  # type: ignore[arg-type]
        print(f"{res.path}: {res.rows:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return
    dirt = dict(duplicates=duplicates, reappear=reappear, nfd=nfd, unit_variants=unit_variants, missing_due=missing_due,
                off_statute_due=off_statute_due, finish_before_reception=finish_before_reception, unknown_units=unknown_units,
                unknown_status=unknown_status, codes_as_numbers=codes_as_numbers)
    options = _options(scenario, seed, None, dossiers, units, years, start_year, now, clean, dirt)
    started = time.perf_counter()
    result = export_dossiers(out, format, options=options,  # type: ignore[arg-type]
                             date_from=date.fromisoformat(date_from) if date_from else None,
                             date_to=date.fromisoformat(date_to) if date_to else None,
                             unit=unit, dates=dates, bom=bom)  # type: ignore[arg-type]
    print(f"{result.path}: {result.rows:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)


@app.command()
def catalogue(
    out: Annotated[Path, typer.Option(help="CSV file to write (e.g. the pipeline's [reference] procedures_csv).")],
) -> None:
    """Write the simulated province's procedure catalogue (procedures, fields, online level,
    statutory handling time in working days) as the CSV the pipeline reads as dim_procedure."""
    from simulator.catalog import write_catalogue

    rows = write_catalogue(out)
    print(f"{out}: {rows} procedures", file=sys.stderr)


@app.command()
def truth(
    date_from: Annotated[str | None, typer.Option("--from", help="First day. (default: scenario period)",
                                                  show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day. (default: scenario period)",
                                                show_default=False)] = None,
    by: Annotated[str, typer.Option(help="unit | field")] = "unit",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    scenario: Scenario = None, seed: Seed = None, dossiers: Dossiers = 1_000_000, units: Units = 15,
    years: Years = 2, start_year: StartYear = 2021, now: Now = None,
    clean: Clean = False, missing_due: MissingDue = _D.missing_due,
    system: System = "onestop", documents: Documents = 0,
) -> None:
    """Print the form-06 figures the simulated system's own report gives (the vendor's rules), or
    with --system eoffice the e-document report (docs/figures.md §5) computed from the truth."""
    import json

    from rich.console import Console
    from rich.table import Table

    from simulator.dataset import get_dataset

    if system not in ("onestop", "eoffice"):
        raise typer.BadParameter("--system is onestop or eoffice")
    if system == "eoffice":
        _document_truth(_options(scenario, seed, None, dossiers, units, years, start_year, now, clean, {}, None,
                                 documents), date_from, date_to, as_json)
        return

    base = DirtOptions()
    dirt = {**{k: getattr(base, k) for k in base.__dataclass_fields__}, "missing_due": missing_due}
    options = _options(scenario, seed, None, dossiers, units, years, start_year, now, clean, dirt)
    ds = get_dataset(options)
    report = ds.expected_report06(date.fromisoformat(date_from) if date_from else None,
                                  date.fromisoformat(date_to) if date_to else None, by)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    cols = [f"c{i}" for i in range(3, 14)]
    table = Table(title=f"Biểu 06 ({options.scenario}, seed {options.seed}) {report['from']} – {report['to']}, by {by}")
    for c in ("code", "name", *cols):
        table.add_column(c, justify="left" if c in ("code", "name") else "right")
    for row in report["rows"]:
        table.add_row(str(row["code"]), str(row["name"]), *[f"{row[c]:,}" for c in cols])
    table.add_row("", "Tổng cộng", *[f"{report['total'][c]:,}" for c in cols], style="bold")
    console = Console()
    console.print(table)
    t = report["total"]
    console.print(f"c8+c9 (on time) {t['c8'] + t['c9']:,}; online rate c4/(c4+c5) "
                  f"{100 * t['c4'] / max(1, t['c4'] + t['c5']):.2f} %")
    if ds.figures:
        console.print("Published figures: " + ", ".join(f"{k} {v:,}" for k, v in ds.figures.items()))


def _document_truth(options: Any, date_from: str | None, date_to: str | None, as_json: bool) -> None:
    import json

    from rich.console import Console
    from rich.table import Table

    from simulator.doc_dataset import REPORT_COLUMNS, get_documents

    docs = get_documents(options)
    f = date.fromisoformat(date_from) if date_from else docs.period[0]
    t = date.fromisoformat(date_to) if date_to else docs.period[1]
    report = docs.expected_report(f, t)
    total = docs.expected_total(f, t)
    if as_json:
        print(json.dumps({"from": f.isoformat(), "to": t.isoformat(), "rows": report.to_dicts(), "total": total},
                         ensure_ascii=False, indent=1))
        return
    table = Table(title=f"Văn bản đến/đi ({options.scenario}, seed {options.seed}) {f} – {t}")
    for c in ("code", "name", *REPORT_COLUMNS):
        table.add_column(c, justify="left" if c in ("code", "name") else "right")
    for row in report.iter_rows(named=True):
        table.add_row(str(row["code"]), str(row["name"]), *[f"{row[c]:,}" for c in REPORT_COLUMNS])
    table.add_row("", "Tổng cộng", *[f"{total[c]:,}" for c in REPORT_COLUMNS], style="bold")
    console = Console()
    console.print(table)
    console.print(f"electronic exchange ((4)+(11))/((3)+(10)) "
                  f"{100 * (total['c4'] + total['c11']) / max(1, total['c3'] + total['c10']):.2f} %; "
                  f"digitally signed (12)/(10) {100 * total['c12'] / max(1, total['c10']):.2f} %; "
                  f"on time (6)/((6)+(7)) {100 * total['c6'] / max(1, total['c6'] + total['c7']):.2f} %")
