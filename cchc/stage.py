"""The stage step of the pipeline (``cchc.pipeline``): one batch of any source system — a pull
window of its API or one export file — read into parquet parts in a staging folder
(``cchc.staging``), with the fields a system must withhold dropped before anything is written.

A batch is staged first so that a flow passes paths between tasks, a failed load can be retried
without pulling again, and memory stays flat: a plain CSV export streams into parts, a pull is
written page by page.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from cchc.config import Settings
from cchc.stage_clock import StageClock
from cchc.staging import StagedBatch, new_staging_dir, write_manifest
from sources.registry import SOURCES, source
from sources.spec import SourceSpec
from sources.window import iso_z, pull_window

log = logging.getLogger("cchc.pipeline")  # the timing lines the bench and the docs read


def resolve_window(settings: Settings, spec: SourceSpec, since: str | None,
                   until: str | None) -> tuple[str, str]:
    """[since, until) of a pull: given, or from the system's stored watermark up to now."""
    watermark = None
    if since is None:
        from cchc.writer_slot import writer_slot
        from warehouse.writer import Warehouse

        # the slot: opening the writer finishes other loads it finds unfinished, which on
        # several machines may be another worker's load in progress
        with writer_slot(settings), Warehouse.open(settings) as wh:
            watermark = wh.get_watermark(spec.watermark_stream)
    return pull_window(since, until, watermark=watermark,
                       initial_since=settings.source_settings(spec.system).initial_since)


def stage_pull(settings: Settings, spec: SourceSpec, since: datetime, until: datetime) -> StagedBatch:
    """Pull every record version updated in [since, until) into parquet parts.

    Fields the system must withhold are dropped page by page, before any part is written."""
    from sources.pull import pull_to_parquet

    src = settings.source_settings(spec.system)
    warm_up_validation()
    out_dir = new_staging_dir(settings, f"{spec.system}-pull")
    with spec.client_class().from_settings(src) as client:
        result = pull_to_parquet(client, since, until, out_dir, rows_per_part=settings.chunk_rows,
                                 fields=spec.fields.raw_fields, redact=spec.redactor(settings))
    notes = []
    if result.extra_keys:
        notes.append(f"the API sent fields cchc does not know: {', '.join(sorted(result.extra_keys))}")
    return write_manifest(StagedBatch(
        system=spec.system,
        kind="pull",
        source=f"{src.base_url.rstrip('/')}{spec.api_path} [{iso_z(since)}, {iso_z(until)})",
        parts=[str(p) for p in result.parts],
        rows=result.items,
        reported_total=result.total_reported,
        window_from=iso_z(since),
        window_to=iso_z(until),
        notes=notes,
        fields_seen=result.fields_seen if result.items else None,
    ))


def warm_up_validation() -> None:
    """Get Great Expectations ready while the input is staged (expectations.validate.warm_up):
    staging runs in native code, so its seconds of import are hidden rather than added."""
    from expectations.validate import warm_up

    warm_up(spec.core_table for spec in SOURCES)


def stage_file(settings: Settings, path: Path, sha256: str) -> StagedBatch:
    """Read one export of any system into parquet parts (SourceFileError for unreadable files);
    see :func:`_stage_file`."""
    clock = StageClock()
    with clock.stage("stage"):
        batch = _stage_file(settings, path, sha256)
    clock.log(log, "stage", f"of {batch.rows} rows")
    return batch


def max_file_bytes(settings: Settings, path: Path) -> int:
    """The largest export file taken at ``path``: a CSV may be streamed (``[ingest]
    max_csv_mb``); anything else is read whole (``sources.filecheck.MAX_FILE_BYTES``)."""
    from sources.filecheck import MAX_FILE_BYTES

    if path.suffix.lower() == ".csv":
        return max(MAX_FILE_BYTES, settings.ingest.max_csv_bytes)
    return MAX_FILE_BYTES


def _stage_file(settings: Settings, path: Path, sha256: str) -> StagedBatch:
    """Read one export of any system into parquet parts (SourceFileError for unreadable files).

    The header tells which system made the export. A plain CSV export streams straight into
    parts (memory flat in the file's size); any other file goes through the general reader,
    which finds title rows, footers and legacy bytes. Fields a system must withhold are dropped
    before any part is written."""
    from sources.csv_stream import STAGING_COMPRESSION, stage_plain_csv
    from sources.files import read_export

    warm_up_validation()
    layouts = [spec.layout for spec in SOURCES]
    out_dir = new_staging_dir(settings, "file")
    if path.suffix.lower() == ".csv":
        streamed = stage_plain_csv(path, out_dir, settings.chunk_rows, layouts,
                                   redact=lambda lay: source(lay.system).redactor(settings),
                                   max_bytes=settings.ingest.max_csv_bytes)
        if streamed is not None:
            return write_manifest(StagedBatch(
                system=streamed.layout.system, kind="file", source=str(path),
                parts=[str(p) for p in streamed.parts], rows=streamed.rows,
                file_sha256=sha256, fields_seen=streamed.fields_seen))
    layout, raw = read_export(path, layouts)
    spec = source(layout.system)
    frame = raw.frame
    if (redact := spec.redactor(settings)) is not None:
        frame = redact(frame)
    parts = []
    for i, offset in enumerate(range(0, max(frame.height, 1), settings.chunk_rows)):
        part = out_dir / f"part-{i:05d}.parquet"
        frame.slice(offset, settings.chunk_rows).write_parquet(part, compression=STAGING_COMPRESSION)
        parts.append(str(part))
    return write_manifest(StagedBatch(
        system=spec.system,
        kind="file",
        source=str(path),
        parts=parts,
        rows=frame.height,
        reported_total=raw.declared_total,
        file_sha256=sha256,
        notes=list(raw.notes),
        fields_seen=raw.fields_present,
    ))
