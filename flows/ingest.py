"""The file-ingest flow: one export of any source system (XLSX or CSV), dropped in the inbox or
given by path. The file's header tells which system made it (``sources.files``)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task

from cchc import inbox, pipeline
from cchc.config import Settings, load_settings
from flows.common import deliver_alerts_task, publish_task
from flows.pull import flow_state_hooks


@dataclass(frozen=True)
class FileRejection:
    """A file that cannot be read: what is wrong, where, and what to do (no traceback)."""

    reason: str


@task(name="stage-file")
def stage_task(settings: Settings, path: str, sha256: str) -> pipeline.StagedBatch | FileRejection:
    """Read the file into parquet parts, or say why it cannot be read (file, row, field).

    An unreadable file is an answer, not an error: returning it keeps Prefect from logging a
    traceback above the one line that matters."""
    from sources.files import SourceFileError

    try:
        return pipeline.stage_file(settings, Path(path), sha256)
    except SourceFileError as exc:
        return FileRejection(str(exc))


@task(name="already-published")
def already_published_task(settings: Settings, sha256: str) -> str | None:
    """The load id of a successful earlier load of the same content, read from the published
    snapshot: no writer lock, so a file loaded before costs no wait and no staging. The load
    step asks the private warehouse again, under the lock."""
    from warehouse.reader import published_load_of

    return published_load_of(settings, sha256)


@task(name="load-and-publish", task_run_name="load {batch.system} file")
def load_and_publish_task(settings: Settings, batch: pipeline.StagedBatch) -> pipeline.LoadSummary:
    """Load a staged file and publish, holding the writer slot once and opening the warehouse
    once (``Warehouse.session``): the schema check, seeds and views run once per file, and the
    rows are visible as soon as this returns. Content loaded meanwhile is skipped."""
    from cchc.writer_slot import writer_slot
    from warehouse.alerts import GATE_FAILED
    from warehouse.writer import Warehouse

    logger = get_run_logger()
    with writer_slot(settings), Warehouse.session(settings) as wh:
        previous = wh.load_for_file(batch.file_sha256) if batch.file_sha256 else None
        if previous:
            logger.info("%s has the same content as load %s: not loaded again", batch.source,
                        previous)
            return pipeline.LoadSummary(previous, batch.source, "skipped",
                                        message=f"same content as load {previous}")
        summary = pipeline.load_batch(settings, batch)
        pipeline.publish_loaded(wh, settings)  # a gate's rejection too: its audit rows are shown
        if summary.status == "succeeded":  # an earlier unreadable file of this name: resolved
            wh.record_check(GATE_FAILED, UNKNOWN_SYSTEM, Path(batch.source).name, [])
    _log_summary(logger, summary)
    return summary


def _log_summary(logger, summary: pipeline.LoadSummary) -> None:
    logger.info(
        "load %s %s: %d in = %d duplicate + %d loaded + %d quarantined; %d warned; "
        "core +%d new, %d updated", summary.load_id, summary.status, summary.rows_in,
        summary.rows_duplicate, summary.rows_loaded, summary.rows_quarantined,
        summary.rows_warned, summary.core_inserted, summary.core_updated)
    for reason, n in summary.quarantine_reasons.items():
        logger.warning("quarantined %d row(s): %s", n, reason)
    if summary.rows_withheld:
        logger.error("%d secret record(s) arrived with withheld fields: dropped before storing",
                     summary.rows_withheld)
    if summary.status == "rejected":
        logger.error("batch rejected: %s", summary.message)


@task(name="draw-dashboard")
def dashboard_task(settings: Settings) -> None:
    """Redraw the dashboard page from the new snapshot (after the writer lock is released;
    never fails the run), under the load's memory limit (``pipeline.load_settings``)."""
    from cchc.dashboard import refresh_after_publish

    refresh_after_publish(pipeline.load_settings(settings))


@task(name="record-rejected-file")
def record_rejection_task(settings: Settings, path: str, sha256: str | None, reason: str) -> str:
    """Audit a file that could not even be read, so the rejection is queryable. Which system it
    came from is unknown (that is often the reason): it is recorded as ``unknown``; its
    ``gate_failed`` alert is scoped to the file's name."""
    from cchc.alert_findings import unreadable_file_finding
    from warehouse.alerts import GATE_FAILED
    from warehouse.writer import Warehouse

    with Warehouse.open(settings) as wh:
        load_id = wh.begin_load("unknown", "file", path, file_sha256=sha256)
        wh.finish_load(load_id, "rejected", message=reason)
        wh.record_check(GATE_FAILED, UNKNOWN_SYSTEM, Path(path).name,
                        [unreadable_file_finding(Path(path).name, reason, load_id)])
    publish_task.fn(settings)
    return load_id


UNKNOWN_SYSTEM = "unknown"  # etl_loads.source_system of a file no reader recognised
MAX_READS = 5  # a file that keeps changing while read is left in the inbox after this


def _deployment_id() -> str | None:
    from prefect.runtime import deployment

    return deployment.id


def _wait_until_written(file: Path, timeout_s: float = 600.0) -> None:
    """Wait while another process still has the file open for writing."""
    deadline = time.monotonic() + timeout_s
    while inbox.open_for_writing(file) and time.monotonic() < deadline:
        time.sleep(0.5)


@flow(name="ingest-file", log_prints=True, on_failure=flow_state_hooks(None)["on_crashed"],
      **flow_state_hooks(None))
def ingest_file(path: str, from_inbox: bool = False, handed_off: bool = False,
                origin: str | None = None) -> dict:
    """Load one export (a dossier list or a document register), then publish. With
    ``from_inbox`` the file must lie in the inbox and is moved afterwards: to archive/ when
    loaded (or loaded before), to rejected/ with a reason file when it cannot be loaded. The
    same content is never loaded twice. A file that changed while it was read (size, mtime or
    content) is read again, not archived. A run of the deployment (started by the inbox
    watcher's event) takes inbox files only, or a file ``cchc ingest`` handed to the service
    (``handed_off``: under ``handoff/``, removed afterwards; ``origin`` is its path on the
    command line, recorded as the load's source)."""
    s = load_settings()
    try:
        return _ingest_file(s, path, from_inbox, handed_off, origin)
    finally:
        deliver_alerts_task(s)


def _ingest_file(s: Settings, path: str, from_inbox: bool, handed_off: bool = False,
                 origin: str | None = None) -> dict:
    from cchc.service.handoff import checked_handoff_path, remove_handed_off

    logger = get_run_logger()
    if not from_inbox and not handed_off and _deployment_id():
        raise inbox.InboxPathError(
            f"{path}: refused: a deployment run ingests files from the inbox only "
            f"(from_inbox=true, a file directly inside {s.inbox_dir}); to load a file from "
            "elsewhere, drop it in the inbox or run `cchc ingest FILE` on this machine")
    if handed_off:
        file = checked_handoff_path(s, path)
        try:
            return _read_until_settled(s, logger, file, False, origin or str(file))
        finally:
            remove_handed_off(s, file)
    file = inbox.checked_inbox_path(s, path) if from_inbox else Path(path).resolve()
    if not file.is_file():
        raise inbox.InboxPathError(f"{file}: not a regular file")
    return _read_until_settled(s, logger, file, from_inbox, str(file))


def _read_until_settled(s: Settings, logger, file: Path, from_inbox: bool, label: str) -> dict:
    """Read ``file`` until it stays the same while read (or ``MAX_READS``); archive inbox files."""
    from sources.files import file_sha256

    limit = pipeline.max_file_bytes(s, file)
    result: dict = {}
    for _ in range(MAX_READS):
        if from_inbox:
            _wait_until_written(file)
        before = inbox.read_stamp(file)
        sha = file_sha256(file, max_bytes=limit)
        with inbox.crash_guard(s, sha) as died:
            if died >= inbox.MAX_CRASHES:
                return _crashed(s, logger, file, sha, died, from_inbox)
            result, settled = _ingest_once(s, logger, file, sha, from_inbox, label)
        if not settled:
            return result
        same = inbox.unchanged_since(file, before)
        if same is None:  # changed just before the read: only its bytes can tell
            same = file_sha256(file, max_bytes=limit) == sha
        if same:
            if from_inbox:
                inbox.archive(s, file)
            return result
        logger.warning("%s changed while it was read: reading it again (not archived)", file.name)
    logger.error("%s kept changing while it was read (%d times): left in %s; it is read again "
                 "once it stops changing", file.name, MAX_READS, file.parent)
    return result


def _ingest_once(s: Settings, logger, file: Path, sha: str, from_inbox: bool,
                 label: str) -> tuple[dict, bool]:
    """One read of ``file``; returns the summary and whether it may be archived now (True) or
    was moved to rejected/ or must stay (False)."""
    previous = already_published_task(s, sha)
    if previous:
        logger.info("%s has the same content as load %s: not loaded again", file, previous)
        return pipeline.LoadSummary(previous, label, "skipped",
                                    message=f"same content as load {previous}").as_dict(), True
    batch = stage_task(s, str(file), sha)
    if isinstance(batch, FileRejection):
        load_id = record_rejection_task(s, label, sha, batch.reason)
        _reject(s, logger, file, batch.reason, from_inbox)
        return pipeline.LoadSummary(load_id, label, "rejected",
                                    message=batch.reason).as_dict(), False
    logger.info("%s is a %s export", file.name, batch.system)
    if label != batch.source:  # a handed-off file: the load names the file the user gave
        batch = dataclasses.replace(batch, source=label)
    summary = load_and_publish_task(s, batch)  # an error keeps the staged batch for recovery
    pipeline.cleanup(batch)
    if summary.status != "skipped":
        dashboard_task(s)
    if summary.status in ("succeeded", "skipped"):
        return summary.as_dict(), True
    _reject(s, logger, file, summary.message or summary.status, from_inbox)
    return summary.as_dict(), False


def _crashed(s: Settings, logger, file: Path, sha: str, died: int, from_inbox: bool) -> dict:
    """Reject a file whose reading killed the process ``died`` times: it is not tried again."""
    reason = (f"reading this file stopped the process {died} times (a crash, not an error in the "
              "data), so it is not read again; send it to the operator of the system that made it")
    load_id = record_rejection_task(s, str(file), sha, reason)
    _reject(s, logger, file, reason, from_inbox)
    return pipeline.LoadSummary(load_id, str(file), "rejected", message=reason).as_dict()


def _reject(s: Settings, logger, file: Path, reason: str, from_inbox: bool) -> None:
    """One line: what was rejected, where it is now, what to do."""
    if from_inbox:
        moved = inbox.reject(s, file, reason)
        where = f"moved to {moved} (reason beside it in {moved.name}.reason.txt)"
    else:
        where = f"left at {file}"
    logger.error("rejected %s: %s — %s; correct the export (or export it again) and load it "
                 "again", file.name, reason, where)
