"""The pipeline steps for one batch of any source system: stage, load, publish.

The steps are the same code for every system: what differs (fields, tables, transform, client,
fields to withhold) comes from the system's ``sources.spec.SourceSpec``. Flows (``flows/``) only
sequence these steps; the steps chain the stages (sources → transforms → expectations →
warehouse) and keep the books. A batch is staged first as parquet parts on disk (the stage step:
``cchc.stage``, re-exported here), so that a flow passes paths between tasks, a failed load can
be retried without pulling again, and memory stays flat: the load holds two parts at most (one
written, the next prepared, ``cchc.part_writes``).

Row accounting (docs/architecture.md): for every load
``rows_in = rows_duplicate + rows_loaded + rows_quarantined``.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from cchc import load_alerts
from cchc.config import LOCAL_TZ, Settings
from cchc.part_order import SeenRows
from cchc.stage import (  # the stage step; re-exported: flows call pipeline.stage_file etc.
    max_file_bytes,
    resolve_window,
    stage_file,
    stage_pull,
    warm_up_validation,
)
from cchc.stage_clock import StageClock
from cchc.staging import (
    LOAD_FILE,
    StagedBatch,
    claim,
    staging_folder,
)
from sources.fields import WITHHELD_COLUMN
from sources.registry import source
from sources.spec import SourceSpec
from sources.window import iso_z, parse_instant

if TYPE_CHECKING:
    from cchc.prepared import PreparedBatch

log = logging.getLogger(__name__)

__all__ = ["LoadSummary", "StagedBatch", "iso_z", "load_batch", "load_prepared", "parse_instant",
           "load_settings", "max_file_bytes", "publish", "publish_loaded",
           "resolve_window", "stage_file", "stage_pull", "warm_up_validation"]


@dataclass
class LoadSummary:
    """What one load did, for the audit table, the flow's result and the person watching."""

    load_id: str | None
    source: str
    status: str  # succeeded, rejected, failed, skipped
    system: str | None = None
    rows_in: int = 0
    rows_duplicate: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_warned: int = 0
    rows_new_versions: int = 0
    rows_withheld: int = 0  # rows whose withheld fields (secret documents) were dropped
    core_inserted: int = 0
    core_updated: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    warning_reasons: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    message: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def balanced(self) -> bool:
        """True when every input row is accounted for."""
        return self.rows_in == self.rows_duplicate + self.rows_loaded + self.rows_quarantined


# --------------------------------------------------------------------------- load


def _gates(spec: SourceSpec, batch: StagedBatch) -> list[str]:
    """Batch gates: stop the load before anything is written (raises GateFailure).

    The column gate judges the fields the source sent (a pull's item keys, a file's columns),
    not the staged parts, which carry every field. Returns notes on columns that do not stop
    the load (unknown or renamed-looking ones)."""
    from expectations.gates import check_columns, check_declared_total, check_not_empty

    notes: list[str] = []
    if batch.fields_seen is not None:
        report = check_columns(batch.fields_seen, spec.fields.required_for(batch.kind), batch.source,
                               spec.fields, export=spec.export_kind)
        notes.extend(n for n in report.notes if n not in notes)
    if batch.kind == "pull":
        check_not_empty(batch.rows, batch.reported_total, batch.source, spec.entity)
    elif batch.reported_total is not None:
        check_declared_total(batch.rows, batch.reported_total, batch.source, spec.entity,
                             spec.total_noun)
    return notes


def load_batch(settings: Settings, batch: StagedBatch, *, as_of: date | None = None) -> LoadSummary:
    """Validate, transform and load a staged batch; record it in etl_loads.

    A batch gate that fails records a *rejected* load and writes nothing else. Each staged part
    commits in its own transaction: DuckDB keeps a transaction's new rows in memory until it
    commits, so one transaction per load would make memory grow with the input. A load is
    nevertheless visible whole or not at all (warehouse/README.md, "Loads are visible whole"):
    publish refuses while a load is unfinished; an error undoes the parts already committed
    (:func:`undo_load`) before the load is recorded *failed* and the error re-raised; a process
    that dies mid-load leaves it *running*, and the next writer finishes it from the staged
    batch (kept until the load succeeds) or, with the parts gone, undoes it
    (:func:`recover_loads`).
    """
    from warehouse.writer import Warehouse

    spec = source(batch.system)
    with Warehouse.open(settings) as wh:
        load_id = _begin(wh, spec, batch)
        return _run_load(wh, settings, spec, batch, load_id, as_of=as_of)


def load_prepared(settings: Settings, prepared: PreparedBatch) -> LoadSummary:
    """Write a batch :func:`cchc.prepared.prepare_batch` transformed and validated already: the
    part of a load that needs the writer (hold the writer slot around it). On the lake
    backend the parts and the audit rows that go with them are one catalog transaction, so a
    load killed here leaves nothing in the lake but its ``running`` audit row."""
    from warehouse.writer import Warehouse

    batch = prepared.batch
    spec = source(batch.system)
    with Warehouse.open(settings) as wh:
        load_id = _begin(wh, spec, batch)
        return _run_load(wh, settings, spec, batch, load_id, prepared=prepared)


def _begin(wh, spec: SourceSpec, batch: StagedBatch) -> str:
    """The load's etl_loads row; its staging folder records the load id (for recovery)."""
    load_id = wh.begin_load(
        spec.system,
        batch.kind,
        batch.source,
        file_sha256=batch.file_sha256,
        window_from=parse_instant(batch.window_from) if batch.window_from else None,
        window_to=parse_instant(batch.window_to) if batch.window_to else None,
    )
    folder = staging_folder(batch)
    if folder is not None and folder.is_dir():
        claim(folder)
        (folder / LOAD_FILE).write_text(json.dumps({"load_id": load_id}))
    return load_id


def _run_load(wh, settings: Settings, spec: SourceSpec, batch: StagedBatch, load_id: str, *,
              as_of: date | None = None, status: str = "succeeded",
              prepared: PreparedBatch | None = None) -> LoadSummary:
    """Gates, parts, watermark, audit and checks of one load whose etl_loads row exists, under
    DuckDB's ``[ingest] load_memory_limit``: the parts' decisions and the moved-due-date check
    scan tables that grow with the warehouse, and DuckDB would keep their blocks cached. With
    ``prepared`` the parts were transformed and validated already (outside the writer slot):
    only their writes happen here."""
    with wh.memory_limit(settings.ingest.load_memory_limit):
        return _run_load_limited(wh, settings, spec, batch, load_id, as_of=as_of, status=status,
                                 prepared=prepared)


def _run_load_limited(wh, settings: Settings, spec: SourceSpec, batch: StagedBatch, load_id: str,
                      *, as_of: date | None, status: str,
                      prepared: PreparedBatch | None) -> LoadSummary:
    from expectations.gates import GateFailure

    as_of = as_of or datetime.now(UTC).astimezone(_local_tz()).date()
    summary = LoadSummary(load_id=load_id, source=batch.source, status="running",
                          system=spec.system, notes=list(batch.notes))
    try:
        summary.notes.extend(_gates(spec, batch))
    except GateFailure as gate:
        summary.status, summary.message = "rejected", gate.reason
        wh.finish_load(load_id, "rejected", message=gate.reason, rows_in=batch.rows)
        load_alerts.alert_on_gate(wh, spec, batch, load_id, gate)
        return summary
    clock = StageClock()

    def move_watermark() -> None:
        # Last: the watermark moves only once every part is in.
        if batch.kind == "pull" and batch.window_to:
            wh.set_watermark(spec.watermark_stream, parse_instant(batch.window_to), load_id)

    try:
        if prepared is None:
            dq_rows = _load_parts(wh, spec, batch, load_id, summary, settings, as_of, clock)
            with clock.stage("audit"), wh.transaction():
                move_watermark()
                wh.record_dq_results(load_id, dq_rows)
        else:
            from cchc.prepared import write_prepared

            write_prepared(wh, spec, prepared, load_id, summary, clock, move_watermark)
    except Exception as exc:
        summary.status, summary.message = "failed", f"{type(exc).__name__}: {exc}"
        try:
            from cchc.recovery import undo_load

            undo_load(wh, settings, spec, load_id)
        except Exception:
            # Left 'running': the next writer marks it interrupted and finishes or undoes it.
            log.exception("load %s failed and could not be undone now", load_id)
        else:
            wh.finish_load(load_id, "failed", rows_in=batch.rows, message=(
                f"{summary.message} (the parts it had committed were undone: nothing of it "
                "remains; load the input again)"))
        load_alerts.alert_on_failure(wh, spec, batch, load_id, summary.message)
        raise
    # Audit rows commit on their own cursor: mark success only once the data has committed.
    summary.status = status
    with clock.stage("audit"):
        _finish(wh, load_id, summary)
    with clock.stage("alerts"):
        load_alerts.alert_on_quality(wh, spec, batch, summary)
    with clock.stage("moved_due_dates"):
        _check_moved_due_dates(wh, spec, summary)
    clock.log(log, "load", load_id)
    return summary


def _check_moved_due_dates(wh, spec: SourceSpec, s: LoadSummary) -> None:
    """One-stop loads: the ``moved_due_date`` check, an alert when the load shows due dates
    moved later after reception (warehouse.moved_due_dates); never fails the load."""
    if spec.system != "onestop" or s.load_id is None:
        return
    from warehouse.moved_due_dates import check_moved_due_dates

    load_alerts.safely("moved_due_date", lambda: check_moved_due_dates(wh, s.load_id, spec.system))


def _local_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(LOCAL_TZ)


def _finish(wh, load_id: str, s: LoadSummary) -> None:
    message = "; ".join(s.notes) if s.notes else None
    wh.finish_load(
        load_id,
        s.status,
        rows_in=s.rows_in,
        rows_duplicate=s.rows_duplicate,
        rows_loaded=s.rows_loaded,
        rows_quarantined=s.rows_quarantined,
        rows_warned=s.rows_warned,
        rows_new_versions=s.rows_new_versions,
        core_inserted=s.core_inserted,
        core_updated=s.core_updated,
        message=message,
    )


def _reason_key(reason: str) -> str:
    """The rule part of a reason ("Field='value': rule" → "Field: rule") for counting."""
    field_part, _, rule = reason.partition(": ")
    return f"{field_part.split('=')[0]}: {rule}" if rule else reason


def _load_parts(wh, spec: SourceSpec, batch: StagedBatch, load_id: str, s: LoadSummary,
                settings: Settings, as_of: date, clock: StageClock | None = None) -> list[dict]:
    """Transform, validate and write each part; returns the aggregated dq_results rows.

    Up to ``[ingest] preparing_threads`` + 1 parts are in flight: while DuckDB writes part *k*
    (native code, the GIL released), other threads read, transform, validate the next parts
    and plan their writes (``cchc.part_writes``), so a load keeps both cores busy
    (docs/performance.md). The parts are still written one at a time, in order, each in its
    own transaction; the exact-duplicate check runs in part order (``cchc.part_order``), so
    which copy of a row counts as the first does not change. DuckDB works with the threads
    the preparing ones leave it, and with all of them for a part nothing is prepared beside
    (:func:`writing_threads`)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor
    from contextvars import copy_context

    from cchc.part_writes import plan_part
    from warehouse.reference import transform_reference

    clock = clock or StageClock()
    to_core = spec.transform()
    ctx = transform_context(settings, wh.units(), transform_reference(wh.con), as_of)
    dq: dict[tuple, dict] = {}
    q_reasons: Counter[str] = Counter()
    w_reasons: Counter[str] = Counter()
    seen = SeenRows()
    threads = settings.ingest.preparing_threads

    def prepare(index: int, part: str):
        raw, core, checked, bad, warned = check_part(
            spec, part, s, settings, to_core, ctx, seen, index, dq, q_reasons, w_reasons, clock)
        with clock.stage("plan"):  # the writes' polars work, off the writer's thread
            return plan_part(spec, load_id, raw, core, checked, bad, warned)

    # the parts' raw versions are distinct (exact duplicates dropped in part order)
    with clock.stage("parts"), wh.new_keys_only(spec.raw_table), \
            ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cchc-prepare") as pool:
        ahead = iter(enumerate(batch.parts))
        pending = deque()

        def submit_next() -> None:
            following = next(ahead, None)
            if following is not None:
                # in a copy of this thread's context: Prefect's run context reaches the logs
                pending.append(pool.submit(copy_context().run, prepare, *following))

        for _ in range(threads):
            submit_next()
        try:
            while pending:
                planned = pending.popleft().result()
                submit_next()  # the next part is prepared while this one is written
                with clock.stage("write_with_commit"), \
                        wh.threads(writing_threads(settings, preparing=bool(pending))), \
                        wh.transaction():
                    _write_part(wh, planned, s, clock)
                del planned  # freed before the next part is taken
        finally:
            for future in pending:
                future.cancel()
    s.quarantine_reasons = dict(q_reasons.most_common())
    s.warning_reasons = dict(w_reasons.most_common())
    return list(dq.values())


def writing_threads(settings: Settings, preparing: bool = True) -> int:
    """DuckDB's threads for a part's writes: beside parts being prepared, what the preparing
    threads leave of ``duckdb_threads`` (at least one: the appends use one thread each); for a
    part nothing is prepared beside (a load's last, an increment's only one), all of them, for
    its key decisions' scans of every stored key (docs/performance.md, round 11)."""
    spare = settings.duckdb_threads - settings.ingest.preparing_threads
    return max(1, spare) if preparing else settings.duckdb_threads


def transform_context(settings: Settings, units: pl.DataFrame, reference: dict, as_of: date):
    """What a source's transform needs besides the rows: units, scope, calendar, procedures."""
    from transforms.context import TransformContext

    return TransformContext(
        units=units,
        province_code=settings.scope.province_code,
        district_code=settings.scope.district_code,
        unit_codes=settings.scope.units,
        as_of=as_of,
        observed_at=datetime.now(UTC).replace(microsecond=0),
        **reference,  # working calendar, procedure catalogue
    )


def check_part(spec: SourceSpec, part: str, s: LoadSummary, settings: Settings, to_core, ctx,
               seen: SeenRows, index: int, dq: dict[tuple, dict], q_reasons: Counter[str],
               w_reasons: Counter[str], clock: StageClock):
    """Read, transform, drop exact duplicates and validate part ``index`` of an input (no
    warehouse needed: the work-item loads do this outside the writer slot). Several parts may
    be checked at once: the duplicate check and what the summary lists in order run in part
    order (``seen``'s turn), the sums under its lock. Returns the raw and core frames, the
    check results, the bad and warned masks."""
    from expectations.validate import validate

    try:
        with clock.stage("read"):
            raw = _read_part(part)
        with clock.stage("transform"):
            result = to_core(raw, ctx)
        core = result.frame
        with seen.turn(index), clock.stage("duplicates"):
            s.rows_in += raw.height
            s.notes.extend(n for n in dict.fromkeys(result.notes) if n not in s.notes)
            # Exact duplicates: same raw content as an earlier row of this input.
            first = seen.first(core["row_hash"])
            s.rows_duplicate += int((~first).sum())
        del result
        if not first.all():
            raw = _each_column(raw, lambda column: column.filter(first).rechunk())
            core = _each_column(core, lambda column: column.filter(first).rechunk())
    finally:
        seen.skip(index)  # a part that failed before its turn lets the next ones through

    with clock.stage("validate"):
        checked = validate(core, raw, spec.core_table, chunk_rows=settings.chunk_rows)
        bad = checked.critical.list.len() > 0
        warned = checked.warnings.list.len() > 0
        with seen.lock:
            for reasons in checked.critical.filter(bad).to_list():
                q_reasons.update(_reason_key(r) for r in reasons)
            for reasons in checked.warnings.filter(warned & ~bad).to_list():
                w_reasons.update(_reason_key(r) for r in reasons)
            _accumulate(dq, checked.results)
            if WITHHELD_COLUMN in raw.columns:
                s.rows_withheld += int(raw[WITHHELD_COLUMN].is_not_null().sum())
    return raw, core, checked, bad, warned


def _read_part(part: str) -> pl.DataFrame:
    """A staged part, one chunk per column: parquet gives a chunk per row group, and a frame
    whose columns are chunked unlike each other (one chunk for the columns the transform
    computes, such as the row hash) is copied whole to align them by the next
    ``with_columns`` or ``to_arrow`` (when its writes are planned: +100 MiB); the transform,
    too, does less on one chunk. Rechunked here, while nothing else of the part is held."""
    return _each_column(pl.read_parquet(part), pl.DataFrame.rechunk)


def _each_column(frame: pl.DataFrame,
                 each: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """``each`` of every column of ``frame`` (as a one-column frame), one column at a time:
    ``frame`` is emptied on the way, so a column is freed as soon as its replacement is made
    and the part is never held twice (a frame-wide filter or rechunk makes every new column
    before it frees the old ones: +100 MiB for a part's raw or core frame). Only for a frame
    nothing else holds. ``each`` must return one chunk (a filter of one column gives a chunk
    per thread), or the frame is chunked unlike the others (see :func:`_read_part`)."""
    if not frame.width:
        return frame
    columns = []
    for name in frame.columns:
        column = frame.select(name)  # a frame, not a Series: a constant column stays constant
        frame.drop_in_place(name)
        columns.append(each(column))
    return pl.concat(columns, how="horizontal")


def _write_part(wh, planned, s: LoadSummary, clock: StageClock) -> None:
    """Write one part :func:`cchc.part_writes.plan_part` planned, in the caller's transaction."""
    from cchc.part_writes import write_part

    write_part(wh, planned, s, clock)


def _accumulate(into: dict[tuple, dict], results: list[dict]) -> None:
    """Sum per-expectation counts over the parts of one load."""
    for r in results:
        key = (r.get("expectation"), r.get("column_name"), r.get("reason"))
        if key not in into:
            into[key] = dict(r)
            continue
        acc = into[key]
        acc["element_count"] = (acc.get("element_count") or 0) + (r.get("element_count") or 0)
        acc["unexpected_count"] = (acc.get("unexpected_count") or 0) + (r.get("unexpected_count") or 0)
        acc["success"] = bool(acc.get("success")) and bool(r.get("success"))


def cleanup(batch: StagedBatch) -> None:
    """Remove a batch's staging folder once it is loaded."""
    if batch.parts:
        shutil.rmtree(Path(batch.parts[0]).parent, ignore_errors=True)


def load_settings(settings: Settings) -> Settings:
    """``settings`` with DuckDB's memory limit at ``[ingest] load_memory_limit``, for the
    publish and the dashboard page a load runs after its writes: a checkpoint and copy of the
    warehouse file, and the page's queries, would otherwise keep blocks cached up to
    ``duckdb_memory_limit`` and raise a bulk load's peak (docs/performance.md). Interactive
    readers keep ``duckdb_memory_limit``."""
    limit = settings.ingest.load_memory_limit
    return replace(settings, duckdb_memory_limit=limit) if limit else settings


def publish_loaded(wh, settings: Settings) -> Path:
    """``wh.publish()`` after a load, under ``[ingest] load_memory_limit``."""
    with wh.memory_limit(settings.ingest.load_memory_limit):
        return wh.publish()


def publish(settings: Settings) -> Path:
    """Publish the read-only snapshot for readers after a load, then redraw the dashboard page
    beside it (never fails the publish: an error is logged, the load stands); both under
    ``[ingest] load_memory_limit`` (:func:`load_settings`)."""
    from cchc.dashboard import refresh_after_publish
    from warehouse.writer import publish as _publish

    settings = load_settings(settings)
    clock = StageClock()
    with clock.stage("publish"):
        _publish(settings)
    with clock.stage("dashboard"):
        refresh_after_publish(settings)
    clock.log(log, "publish")
    return settings.published_path


def summary_json(summary: LoadSummary) -> str:
    return json.dumps(summary.as_dict(), ensure_ascii=False, indent=2)
