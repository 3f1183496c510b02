"""The scope split into work items that several workers load at once (docs/distributed.md).

A work item is one district (or any group of units) and the export files made for it: the
provincial systems' APIs have no district filter, so a district's input is the per-district
exports its office drops in a folder of its own. The layout is the declaration: a scope folder
holds one sub-folder per work item, named by the district (or group) code::

    scope/637/*.csv|xlsx     scope/638/*.csv|xlsx     ...

The ``load-scope`` flow runs one ``load-district`` flow run per item in the work pool
(:func:`run_work_items`) and submits an item again when its run crashed (a killed worker: its
heartbeats stop and the server's automation marks it Crashed). ``load-district`` loads the
item's files one by one (:func:`load_work_item`): staging, transform and validation outside the
writer slot, the writes and the publish inside it. Loading a file twice is harmless: content
loaded before is skipped (by its SHA-256), so a resubmitted item redoes only what is missing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from cchc import pipeline
from cchc.config import Settings

log = logging.getLogger(__name__)

EXPORT_SUFFIXES = (".csv", ".xlsx")
FINAL_OK = "COMPLETED"


@dataclass(frozen=True)
class WorkItem:
    """One district (or unit group) and its export files, loaded by one flow run."""

    name: str
    files: tuple[str, ...]


def work_items(folder: Path) -> list[WorkItem]:
    """One item per sub-folder of ``folder`` that holds exports, in name order."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the scope folder does not exist")
    items = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = tuple(str(f.resolve()) for f in sorted(sub.iterdir())
                      if f.is_file() and f.suffix.lower() in EXPORT_SUFFIXES)
        if files:
            items.append(WorkItem(sub.name, files))
    return items


def ensure_published(settings: Settings) -> None:
    """Publish an (empty) warehouse if nothing is published yet, so that every item's
    transform can read the reference tables without the writer (``cchc.prepared``)."""
    from cchc.writer_slot import writer_slot
    from warehouse.reader import SnapshotUnavailable, open_snapshot
    from warehouse.writer import Warehouse

    try:
        open_snapshot(settings).close()
        return
    except SnapshotUnavailable:
        pass
    with writer_slot(settings), Warehouse.open(settings) as wh:
        wh.publish()


def load_work_item(settings: Settings, name: str, files: list[str] | tuple[str, ...]) -> list[dict]:
    """Load an item's files one by one; each is published as soon as it is in. Returns the
    load summaries. A file that cannot be read is recorded rejected and the others go on;
    any other error stops the item (its run fails and can be submitted again)."""
    from sources.files import SourceFileError, file_sha256
    from warehouse.reader import published_load_of

    results = []
    for path in files:
        sha = file_sha256(Path(path))
        previous = published_load_of(settings, sha)
        if previous:
            log.info("%s: %s has the same content as load %s: skipped", name, path, previous)
            results.append(pipeline.LoadSummary(previous, path, "skipped").as_dict())
            continue
        try:
            batch = pipeline.stage_file(settings, Path(path), sha)
        except SourceFileError as exc:
            results.append(_reject(settings, path, sha, str(exc)).as_dict())
            continue
        summary = _load_staged(settings, batch)  # an error keeps the batch for recovery
        pipeline.cleanup(batch)
        log.info("%s: %s %s (%d in, %d loaded, %d quarantined)", name, path, summary.status,
                 summary.rows_in, summary.rows_loaded, summary.rows_quarantined)
        results.append(summary.as_dict())
    return results


def _load_staged(settings: Settings, batch: pipeline.StagedBatch) -> pipeline.LoadSummary:
    """Prepare outside the writer slot; write and publish inside it."""
    from cchc.prepared import prepare_batch
    from cchc.writer_slot import writer_slot
    from warehouse.writer import Warehouse

    prepared = prepare_batch(settings, batch)
    with writer_slot(settings), Warehouse.session(settings) as wh:
        previous = wh.load_for_file(batch.file_sha256) if batch.file_sha256 else None
        if previous:  # loaded meanwhile (another run of the same item)
            return pipeline.LoadSummary(previous, batch.source, "skipped",
                                        message=f"same content as load {previous}")
        summary = (pipeline.load_prepared(settings, prepared) if prepared is not None
                   else pipeline.load_batch(settings, batch))
        pipeline.publish_loaded(wh, settings)
    return summary


def _reject(settings: Settings, path: str, sha: str, reason: str) -> pipeline.LoadSummary:
    from cchc.writer_slot import writer_slot
    from warehouse.writer import Warehouse

    log.error("rejected %s: %s", path, reason)
    with writer_slot(settings), Warehouse.session(settings) as wh:
        load_id = wh.begin_load("unknown", "file", path, file_sha256=sha)
        wh.finish_load(load_id, "rejected", message=reason)
        wh.publish()
    return pipeline.LoadSummary(load_id, path, "rejected", message=reason)


# --------------------------------------------------------------------------- fan-out


@dataclass
class ItemRun:
    """Where one work item stands in a load-scope run."""

    item: WorkItem
    flow_run_id: str | None = None
    state: str | None = None
    attempts: int = 0


def run_work_items(items: list[WorkItem], deployment: str, *, max_attempts: int = 3,
                   poll_s: float = 1.0, timeout_s: float | None = None) -> list[ItemRun]:
    """One flow run of ``deployment`` (``load-district/cchc``) per item, all at once; waits for
    them, and submits an item again when its run ended Crashed (a dead worker), up to
    ``max_attempts`` runs per item. Failed and Cancelled runs are not retried (a bad input
    fails the same way again). Returns every item's last run."""
    from prefect.deployments import run_deployment

    def submit(run: ItemRun) -> None:
        run.attempts += 1
        flow_run = run_deployment(
            deployment, parameters={"district": run.item.name, "files": list(run.item.files)},
            timeout=0, flow_run_name=f"{run.item.name}-{run.attempts}")
        run.flow_run_id, run.state = str(flow_run.id), None
        log.info("work item %s: run %s submitted (attempt %d)", run.item.name, flow_run.id,
                 run.attempts)

    runs = [ItemRun(item) for item in items]
    for run in runs:
        submit(run)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while any(r.state is None for r in runs):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"work items not finished after {timeout_s:g} s: "
                               + ", ".join(r.item.name for r in runs if r.state is None))
        time.sleep(poll_s)
        for run in runs:
            if run.state is not None:
                continue
            state = _final_state(run.flow_run_id)
            if state is None:
                continue
            if state == "CRASHED" and run.attempts < max_attempts:
                log.warning("work item %s: run %s crashed; submitting it again", run.item.name,
                            run.flow_run_id)
                submit(run)
                continue
            run.state = state
    return runs


def _final_state(flow_run_id: str) -> str | None:
    """The run's state type once final, else None."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    if state is None or not state.is_final():
        return None
    return state.type.value
