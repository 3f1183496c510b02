"""A load in two halves: transform and validate outside the writer slot, write inside it.

The plain load (``pipeline.load_batch``) transforms, validates and writes each staged part in
turn, all under the writer slot. With several workers (docs/distributed.md) only the writes
need the one slot: :func:`prepare_batch` does the rest beforehand, in parallel with another
worker's writes, and leaves the checked parts beside the staged ones; then
``pipeline.load_prepared`` writes them under the slot (:func:`write_prepared`).

The transform needs the units, the working calendar and the procedure catalogue. They are read
from the published snapshot (a reader: no slot, no lock). Before anything is published there is
no snapshot: :func:`prepare_batch` returns None and the caller loads the plain way.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import polars as pl

from cchc import pipeline
from cchc.config import Settings
from cchc.part_order import SeenRows
from cchc.part_writes import plan_part
from cchc.stage_clock import StageClock
from sources.registry import source
from sources.spec import SourceSpec

log = logging.getLogger(__name__)

CRITICAL, WARNINGS = "__critical", "__warnings"  # the checks' reasons, kept with the core rows


@dataclass
class PreparedBatch:
    """A staged batch, transformed and validated: per part a raw and a core parquet file, plus
    what the load's audit row and summary need."""

    batch: pipeline.StagedBatch
    parts: list[tuple[str, str]]  # (raw rows, core rows with their check reasons)
    rows_in: int = 0
    rows_duplicate: int = 0
    rows_withheld: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    warning_reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dq_rows: list[dict] = field(default_factory=list)


def published_reference(settings: Settings) -> tuple[pl.DataFrame, dict] | None:
    """The units and the transform's reference tables as published, or None before the first
    publish."""
    from warehouse.reader import SnapshotUnavailable, open_snapshot
    from warehouse.reference import transform_reference

    try:
        con = open_snapshot(settings)
    except SnapshotUnavailable:
        return None
    try:
        units = con.execute("SELECT * FROM dim_admin_unit ORDER BY unit_code").pl()
        return units, transform_reference(con)
    except Exception as exc:  # an older snapshot without a table: load the plain way
        log.warning("cannot read the reference tables from the published snapshot (%s)", exc)
        return None
    finally:
        con.close()


def prepare_batch(settings: Settings, batch: pipeline.StagedBatch, *,
                  as_of: date | None = None) -> PreparedBatch | None:
    """Transform and validate every staged part (no writer needed); None when the load must
    go the plain way: nothing published yet, or a batch gate fails (the load records it)."""
    from expectations.gates import GateFailure

    spec = source(batch.system)
    try:
        pipeline._gates(spec, batch)
    except GateFailure:
        return None
    reference = published_reference(settings)
    if reference is None:
        return None
    units, ref = reference
    as_of = as_of or datetime.now(UTC).astimezone(pipeline._local_tz()).date()
    ctx = pipeline.transform_context(settings, units, ref, as_of)
    to_core = spec.transform()
    acc = pipeline.LoadSummary(load_id=None, source=batch.source, status="prepared")
    seen = SeenRows()
    dq: dict[tuple, dict] = {}
    q_reasons: Counter[str] = Counter()
    w_reasons: Counter[str] = Counter()
    clock = StageClock()
    parts = []
    for index, part in enumerate(batch.parts):
        raw, core, checked, _bad, _warned = pipeline.check_part(
            spec, part, acc, settings, to_core, ctx, seen, index, dq, q_reasons, w_reasons, clock)
        stem = Path(part).with_suffix("")
        raw_path, core_path = f"{stem}.prepared-raw.parquet", f"{stem}.prepared-core.parquet"
        raw.write_parquet(raw_path)
        core.with_columns(checked.critical.alias(CRITICAL),
                          checked.warnings.alias(WARNINGS)).write_parquet(core_path)
        parts.append((raw_path, core_path))
    clock.log(log, "prepare", batch.source)
    return PreparedBatch(batch=batch, parts=parts, rows_in=acc.rows_in,
                         rows_duplicate=acc.rows_duplicate, rows_withheld=acc.rows_withheld,
                         quarantine_reasons=dict(q_reasons.most_common()),
                         warning_reasons=dict(w_reasons.most_common()), notes=acc.notes,
                         dq_rows=list(dq.values()))


def write_prepared(wh, spec: SourceSpec, prepared: PreparedBatch, load_id: str,
                   summary: pipeline.LoadSummary, clock: StageClock,
                   move_watermark: Callable[[], None]) -> None:
    """Write the prepared parts and the watermark, then the dq results (audit rows).

    On the lake: parts and watermark in one transaction, one catalog commit, so a load is
    whole or absent even before publish (a killed load leaves nothing to undo). On the file
    backend: a transaction per part as in the plain load (memory stays flat), the watermark in
    one more. The dq results are audit rows: they commit on the audit cursor afterwards."""
    from warehouse import lake

    summary.rows_in = prepared.rows_in
    summary.rows_duplicate = prepared.rows_duplicate
    summary.rows_withheld = prepared.rows_withheld
    summary.quarantine_reasons = dict(prepared.quarantine_reasons)
    summary.warning_reasons = dict(prepared.warning_reasons)
    summary.notes.extend(n for n in prepared.notes if n not in summary.notes)

    def write(raw_path: str, core_path: str) -> None:
        raw = pl.read_parquet(raw_path)
        core = pl.read_parquet(core_path)
        checked = SimpleNamespace(critical=core[CRITICAL], warnings=core[WARNINGS])
        core = core.drop(CRITICAL, WARNINGS)
        bad = checked.critical.list.len() > 0
        warned = checked.warnings.list.len() > 0
        planned = plan_part(spec, load_id, raw, core, checked, bad, warned)
        del raw, core, checked
        pipeline._write_part(wh, planned, summary, clock)

    if lake.is_lake(wh.settings):
        with clock.stage("write_with_commit"), wh.transaction():
            for raw_path, core_path in prepared.parts:
                write(raw_path, core_path)
            move_watermark()
    else:
        for raw_path, core_path in prepared.parts:
            with clock.stage("write_with_commit"), wh.transaction():
                write(raw_path, core_path)
        with clock.stage("audit"), wh.transaction():
            move_watermark()
    with clock.stage("audit"):
        wh.record_dq_results(load_id, prepared.dq_rows)
