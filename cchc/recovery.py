"""Loads are visible whole: finishing or undoing a load that did not end.

A load that fails inside its process is undone at once (:func:`undo_load`); one whose process
died is found by the next writer open, which finishes it from its staged batch or, when the
parts are gone, undoes it (:func:`recover_loads`). See warehouse/README.md, "Loads are visible
whole".
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import polars as pl

from cchc import pipeline
from cchc.config import Settings
from cchc.staging import staged_batch_of
from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN, WITHHELD_COLUMN
from sources.registry import source
from sources.spec import SourceSpec

log = logging.getLogger(__name__)


def recover_loads(wh, settings: Settings, loads: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Finish or undo unfinished loads ``(load_id, source_system)``; returns their new status.

    Called by ``Warehouse.open`` (we hold the writer lock, so none of them is running): a load
    whose staged batch is still whole is loaded again under its own id (merges are idempotent,
    so this completes it) and recorded ``recovered``; otherwise, or if that fails, its rows are
    removed (:func:`undo_load`) and it is recorded ``undone``."""
    done = []
    for load_id, system in loads:
        try:
            spec = source(system)
        except ValueError:  # 'unknown' (unreadable file): it never wrote data rows
            wh.finish_load(load_id, "undone", message="interrupted before any data was written")
            done.append((load_id, "undone"))
            continue
        batch = staged_batch_of(settings, load_id)
        if batch is not None:
            try:
                summary = pipeline._run_load(wh, settings, spec, batch, load_id, status="recovered")
            except Exception as exc:
                log.warning("load %s could not be finished (%s): undone", load_id, exc)
                # _run_load undid it and recorded it failed
                done.append((load_id, "failed"))
                continue
            if summary.status == "recovered":
                wh.finish_load(load_id, "recovered", message=(
                    "interrupted, then finished at the next start by loading its staged batch "
                    "again" + (f"; {summary.notes[0]}" if summary.notes else "")))
                pipeline.cleanup(batch)
            log.warning("load %s was interrupted: %s", load_id, summary.status)
            done.append((load_id, summary.status))
            continue
        undo_load(wh, settings, spec, load_id)
        wh.finish_load(load_id, "undone", message=(
            "interrupted and its staged batch is gone: the rows it had committed were removed; "
            "load the input again"))
        log.warning("load %s was interrupted and its staged batch is gone: undone", load_id)
        done.append((load_id, "undone"))
    return done


def undo_load(wh, settings: Settings, spec: SourceSpec, load_id: str) -> None:
    """Remove everything a load wrote, in one transaction (main and personal file).

    Raw versions and quarantined rows carry the load's id and are deleted (with their
    personal-data companions). A core row the load wrote (its ``load_id``) is rebuilt from the
    raw layer's newest remaining version of that key by the source's transform, or deleted when
    no version remains. A watermark the load moved goes back to its window's start."""
    from warehouse import raw_files, snapshot_spare
    from warehouse.ddl import literal, quote
    from warehouse.personal import COMPANIONS, PERSONAL_DB

    raw_t, q_t, core_t = spec.raw_table, spec.quarantine_table, spec.core_table
    key = core_t.key[0]
    raw_key = core_t.column(key).source_field
    lid = literal(load_id)
    con = wh.con
    # core rows rebuilt below take older load ids: a publish must copy, not update the spare
    snapshot_spare.discard(wh.settings.warehouse_path)
    with wh.transaction():
        keys = [r[0] for r in con.execute(
            f"SELECT {quote(key)} FROM {quote(core_t.name)} WHERE load_id = {lid}").fetchall()]
        main = quote(_main_db(con))
        for t in (raw_t, q_t):
            if t.name in COMPANIONS:
                wh._personal.execute(
                    f"DELETE FROM {quote(t.name)} WHERE row_hash IN (SELECT row_hash FROM "
                    f"{main}.main.{quote(t.name)} WHERE load_id = {lid})")
            if t.files and wh.raw_root is not None:  # kept as files: unlisted
                raw_files.drop_load(con, t, wh.raw_root, load_id)
            else:
                con.execute(f"DELETE FROM {quote(t.name)} WHERE load_id = {lid}")
        if not keys:
            _rewind_watermark(wh, load_id)
            return
        con.register("_cchc_undo_keys", pl.DataFrame({key: keys}).to_arrow())
        try:
            con.execute(f"DELETE FROM {quote(core_t.name)} WHERE {quote(key)} IN "
                        f"(SELECT {quote(key)} FROM _cchc_undo_keys)")
            if core_t.name in COMPANIONS:
                wh._personal.execute(
                    f"DELETE FROM {quote(core_t.name)} WHERE {quote(key)} IN "
                    f"(SELECT unnest(?::VARCHAR[]))", [keys])
            pii = COMPANIONS[raw_t.name].pii_columns if raw_t.name in COMPANIONS else []
            cols = ", ".join(f"p.{quote(c)}" if c in pii else f"r.{quote(c)}"
                             for c in raw_t.column_names)
            join = (f"LEFT JOIN {PERSONAL_DB}.main.{quote(raw_t.name)} p USING (row_hash)"
                    if pii else "")
            remaining = con.execute(
                f"SELECT {cols} FROM {quote(raw_t.name)} r {join} "
                f"WHERE r.{quote(raw_key)} IN (SELECT {quote(key)} FROM _cchc_undo_keys)").pl()
        finally:
            con.unregister("_cchc_undo_keys")
        if remaining.height:
            wh.write(core_t, _rebuild_core(wh, settings, spec, remaining))
        _rewind_watermark(wh, load_id)


def _main_db(con) -> str:
    return con.execute("SELECT current_database()").fetchone()[0]


def _rebuild_core(wh, settings: Settings, spec: SourceSpec, rows: pl.DataFrame) -> pl.DataFrame:
    """Core rows from raw-layer rows (the merge keeps the newest version per key)."""
    from expectations.validate import validate
    from transforms.context import TransformContext
    from warehouse.reference import transform_reference

    renames = {"source": SOURCE_COLUMN, "source_row": SOURCE_ROW_COLUMN}
    if "withheld" in rows.columns:
        renames["withheld"] = WITHHELD_COLUMN
    raw = rows.rename(renames)
    load_ids, hashes = raw["load_id"], raw["row_hash"]
    raw = raw.drop("load_id", "row_hash")
    ctx = TransformContext(
        units=wh.units(), province_code=settings.scope.province_code,
        district_code=settings.scope.district_code, unit_codes=settings.scope.units,
        as_of=datetime.now(UTC).astimezone(pipeline._local_tz()).date(),
        observed_at=datetime.now(UTC).replace(microsecond=0), **transform_reference(wh.con))
    core = spec.transform()(raw, ctx).frame
    checked = validate(core, raw, spec.core_table, chunk_rows=settings.chunk_rows)
    core = core.with_columns(checked.warnings.alias("dq_warnings"), load_ids.alias("load_id"),
                             hashes.alias("row_hash"))
    return core.select(spec.core_table.column_names)


def _rewind_watermark(wh, load_id: str) -> None:
    """A watermark moved by an undone load goes back to where that load's window began."""
    wh.con.execute(
        "UPDATE etl_watermarks w SET watermark = l.window_from, load_id = NULL, updated_at = now() "
        "FROM etl_loads l WHERE l.load_id = w.load_id AND w.load_id = ? "
        "AND l.window_from IS NOT NULL", [load_id])
