"""The file-ingest flow: one export of any source system (XLSX or CSV), dropped in the inbox or
given by path. The file's header tells which system made it (``sources.files``)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from cchc import inbox, pipeline
from cchc.config import Settings, load_settings
from flows.common import load_task, publish_task


@task(name="stage-file")
def stage_task(settings: Settings, path: str, sha256: str) -> pipeline.StagedBatch:
    """Read the file into parquet parts (raises SourceFileError naming file, row and field)."""
    return pipeline.stage_file(settings, Path(path), sha256)


@task(name="already-loaded")
def already_loaded_task(settings: Settings, sha256: str) -> str | None:
    """The load id of a successful earlier load of the same content, if any."""
    from warehouse.writer import Warehouse

    with Warehouse.open(settings) as wh:
        return wh.load_for_file(sha256)


@task(name="record-rejected-file")
def record_rejection_task(settings: Settings, path: str, sha256: str | None, reason: str) -> str:
    """Audit a file that could not even be read, so the rejection is queryable. Which system it
    came from is unknown (that is often the reason): it is recorded as ``unknown``."""
    from warehouse.writer import Warehouse

    with Warehouse.open(settings) as wh:
        load_id = wh.begin_load("unknown", "file", path, file_sha256=sha256)
        wh.finish_load(load_id, "rejected", message=reason)
        wh.raise_alert("gate_failed", "critical", "unknown", reason, load_id=load_id)
    publish_task.fn(settings)
    return load_id


@flow(name="ingest-file", log_prints=True)
def ingest_file(path: str, from_inbox: bool = False) -> dict:
    """Load one export (a dossier list or a document register), then publish. With
    ``from_inbox`` the file must lie in the inbox and is moved afterwards: to archive/ when
    loaded (or loaded before), to rejected/ with a reason file when it cannot be loaded. The
    same content is never loaded twice."""
    from sources.files import SourceFileError, file_sha256

    logger = get_run_logger()
    s = load_settings()
    file = inbox.checked_inbox_path(s, path) if from_inbox else Path(path).resolve()
    sha = file_sha256(file)
    previous = already_loaded_task(s, sha)
    if previous:
        logger.info("%s has the same content as load %s: not loaded again", file, previous)
        if from_inbox:
            inbox.archive(s, file)
        return pipeline.LoadSummary(previous, str(file), "skipped",
                                    message=f"same content as load {previous}").as_dict()
    try:
        batch = stage_task(s, str(file), sha)
    except SourceFileError as exc:
        reason = str(exc)
        load_id = record_rejection_task(s, str(file), sha, reason)
        logger.error("rejected %s: %s", file, reason)
        if from_inbox:
            inbox.reject(s, file, reason)
        return pipeline.LoadSummary(load_id, str(file), "rejected", message=reason).as_dict()
    logger.info("%s is a %s export", file.name, batch.system)
    summary = load_task(s, batch)
    if summary.status == "succeeded":
        publish_task(s)
        pipeline.cleanup(batch)
        if from_inbox:
            inbox.archive(s, file)
    else:  # rejected by a batch gate: only its audit rows were written; make them visible
        publish_task(s)
        if from_inbox:
            inbox.reject(s, file, summary.message or summary.status)
    return summary.as_dict()
