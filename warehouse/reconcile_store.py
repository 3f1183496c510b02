"""Reconciliation runs: the table they are kept in, how one is computed and recorded, its alerts.

``run_reconciliation`` computes our form 06 and the warehouse's facts on the writer's
connection, compares (``transforms.reconcile``), appends the result to ``dq_reconciliation``
and reports every unexplained difference through ``warehouse.alerts.record_check`` (kind
``reconciliation_difference``; a difference no longer found resolves its alert). The caller
publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from warehouse.schema import Column, Strategy, Table

if TYPE_CHECKING:
    import polars as pl

    from warehouse.writer import Warehouse

AgainstKind = Literal["system", "form06", "published"]
SOURCE_SYSTEM = "onestop"

DQ_RECONCILIATION = Table(
    name="dq_reconciliation",
    description=(
        "One row per figure compared in a reconciliation run: the warehouse's form 06 against "
        "the source system's report, a form-06 spreadsheet or published figures, with the "
        "explanation of each difference (docs/figures.md, Reconciliation)."
    ),
    key=("run_id", "row_key", "figure"),
    strategy=Strategy.APPEND,
    columns=(
        Column("run_id", "VARCHAR", "The reconciliation run (UUIDv7).", nullable=False),
        Column("run_at", "TIMESTAMPTZ", "When it ran."),
        Column("period_from", "DATE", "First day of the period compared."),
        Column("period_to", "DATE", "Last day of the period compared."),
        Column("report_by", "VARCHAR", "Rows by unit or by field."),
        Column("against_kind", "VARCHAR", "system, form06 (a spreadsheet) or published (a CSV)."),
        Column("against", "VARCHAR", "The report's URL or the file's name."),
        Column("row_key", "VARCHAR", "Unit code, field name, or 'Tổng cộng'.", nullable=False),
        Column("unit", "VARCHAR", "The unit or field as named on our side (else theirs)."),
        Column("source_row", "BIGINT", "The other side's row (spreadsheet row, CSV line)."),
        Column("figure", "VARCHAR", "c3…c13, an indicator, a rate, or 'check: …' for an "
               "identity of the other side.", nullable=False),
        Column("formula", "VARCHAR", "How the figure is computed from form-06 columns."),
        Column("ours", "DOUBLE", "The warehouse's value (for a check: what the other side's "
               "parts add up to)."),
        Column("theirs", "DOUBLE", "The other side's value."),
        Column("difference", "DOUBLE", "theirs - ours."),
        Column("status", "VARCHAR", "agrees, explained or unexplained."),
        Column("explanation_code", "VARCHAR", "no_due_date, closed_after_to, quarantine, "
               "unit_missing, own_inconsistency, from_counts, unknown (two joined by '+')."),
        Column("explanation", "VARCHAR", "The explanation, with the counts it rests on."),
        Column("explained", "BOOLEAN", "Whether the difference is explained (null: no difference)."),
        Column("as_of", "DATE", "The warehouse's figures as published at the end of this day "
               "(cchc reconcile --as-of); null: the current state."),
    ),
)


@dataclass(frozen=True)
class Against:
    """The other side: its kind and what names it (URL or file name)."""

    kind: AgainstKind
    name: str

    @property
    def label(self) -> str:
        return "system" if self.kind == "system" else f"{self.kind}:{self.name}"

    def scope(self, date_from: date, date_to: date, by: str, as_of: date | None = None) -> str:
        """The alert scope: one per other side, period and row kind (and ``--as-of`` day: a
        comparison with earlier published figures never resolves today's alerts)."""
        base = f"{self.label}:{date_from}..{date_to}"
        base = base if by == "unit" else f"{base}:{by}"
        return base if as_of is None else f"{base}@{as_of}"

    @property
    def name_vi(self) -> str:
        return {"system": "báo cáo của phần mềm một cửa", "form06": f"biểu 06 {self.name}",
                "published": f"số liệu công bố {self.name}"}[self.kind]


@dataclass(frozen=True)
class ReconciliationRun:
    run_id: str
    against: Against
    result: pl.DataFrame
    alerts_opened: list[str]

    @property
    def unexplained(self) -> int:
        return int((self.result["status"] == "unexplained").sum())


def run_reconciliation(wh: Warehouse, theirs: pl.DataFrame, against: Against, date_from: date,
                       date_to: date, by: str = "unit") -> ReconciliationRun:
    """Compare, record and alert. ``theirs``: a form-06 frame (``sources.form06_file``) or
    published figures already limited to the period (``sources.published_figures``)."""
    result = compare(wh.con, theirs, against, date_from, date_to, by, wh.settings.scope)
    return record(wh, result, against, date_from, date_to, by)


def compare(con, theirs: pl.DataFrame, against: Against, date_from: date, date_to: date,
            by: str, scope) -> pl.DataFrame:
    """The comparison on a connection (private file or snapshot): our form 06, the facts."""
    from transforms import reconcile as rc
    from warehouse import reconcile_facts as facts
    from warehouse.form06 import form06

    ours = form06(con, date_from, date_to, by)  # type: ignore[arg-type]
    units = facts.admin_units(con)
    if against.kind == "published":
        keyed = rc.published_keys(theirs, [scope.district_code, scope.province_code])
        kind: rc.Kind = "published"
    else:
        keyed = rc.match_form_rows(theirs, ours, by, units, scope.province_code,
                                   scope.district_code, day=date_to)
        kind = "form"
    closed = facts.closed_after_period(con, date_from, date_to, by)  # type: ignore[arg-type]
    quarantined = rc.quarantined_by_key(facts.quarantined_dossiers(con), ours, by, date_from,
                                        date_to, units, scope.province_code, scope.district_code)
    fact_frame = closed.join(quarantined, on="key", how="full", coalesce=True)
    return rc.reconcile(ours, keyed, fact_frame.fill_null(0), kind, by)


def record(wh: Warehouse, result: pl.DataFrame, against: Against, date_from: date,
           date_to: date, by: str, as_of: date | None = None) -> ReconciliationRun:
    """Append the run to ``dq_reconciliation`` and report its unexplained differences
    (``as_of``: our side was the snapshot published at the end of that day)."""
    import polars as pl

    from cchc.config import utc_now
    from warehouse.ids import new_id

    run_id = new_id()
    rows = result.drop("explanation_vi").rename({"key": "row_key"}).with_columns(
        run_id=pl.lit(run_id), run_at=pl.lit(utc_now()), period_from=pl.lit(date_from),
        period_to=pl.lit(date_to), report_by=pl.lit(by), against_kind=pl.lit(against.kind),
        against=pl.lit(against.name), as_of=pl.lit(as_of, pl.Date))
    wh.write(DQ_RECONCILIATION, rows)
    opened = raise_alerts(wh, result, against, date_from, date_to, by, as_of)
    return ReconciliationRun(run_id, against, result, opened)


def raise_alerts(wh: Warehouse, result: pl.DataFrame, against: Against, date_from: date,
                 date_to: date, by: str, as_of: date | None = None) -> list[str]:
    """One finding per unexplained difference (none resolves the scope's open alerts)."""
    from warehouse import alerts

    return alerts.record_check(wh, alerts.RECONCILIATION_DIFFERENCE, SOURCE_SYSTEM,
                               scope=against.scope(date_from, date_to, by, as_of),
                               findings=findings(result, against, date_from, date_to))


def findings(result: pl.DataFrame, against: Against, date_from: date, date_to: date) -> list:
    """The alert findings of a result: figure, both values, period and the other side, in
    Vietnamese and English."""
    from transforms.reconcile import CELLS, INDICATORS, RATES, UNEXPLAINED
    from warehouse.alerts import Finding

    labels = {f.name: f.label_vi for f in (*CELLS, *RATES, *INDICATORS)}
    period_vi = f"{date_from:%d/%m/%Y}–{date_to:%d/%m/%Y}"
    out = []
    for r in result.filter(result["status"] == UNEXPLAINED).iter_rows(named=True):
        figure = r["figure"]
        label_vi = labels.get(figure, figure.replace("check:", "kiểm tra:"))
        ours, theirs = _fmt(r["ours"]), _fmt(r["theirs"])
        why_vi = f" {_sentence(r['explanation_vi'])}" if r["explanation_vi"] else ""
        why_en = f" {_sentence(r['explanation'])}" if r["explanation"] else ""
        out.append(Finding(
            key=f"{r['key']}:{figure}",
            severity="warning",
            message=(f"Số liệu chưa khớp, kỳ {period_vi}, {r['unit']}: {label_vi} — cchc "
                     f"{ours}, {against.name_vi} {theirs}.{why_vi}"),
            message_en=(f"Figures differ for {date_from}..{date_to}, {r['unit']}: {figure} — "
                        f"cchc {ours}, {against.label} {theirs}.{why_en}"),
            counts={"figure": figure, "unit": r["unit"] or "", "ours": r["ours"] or 0,
                    "theirs": r["theirs"] or 0, "difference": r["difference"] or 0,
                    "explanation_code": r["explanation_code"] or ""},
            period_from=date_from, period_to=date_to,
        ))
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
