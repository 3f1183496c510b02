"""What every flow shares: the writer concurrency limit and the load/publish tasks.

Tasks take and return settings, paths, ids and small dataclasses — never frames or connections —
so a flow's steps can run in other processes (work pools) later without change. Settings are
read once, when a flow starts, and reach every step as an argument.
"""

from __future__ import annotations

import os

from prefect import get_run_logger, task

from cchc import pipeline
from cchc.config import Settings
from cchc.writer_slot import writer_slot

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@task(name="load-batch", task_run_name="load {batch.system} {batch.kind}")
def load_task(settings: Settings, batch: pipeline.StagedBatch) -> pipeline.LoadSummary:
    """Validate, transform and load one staged batch, holding the writer slot."""
    logger = get_run_logger()
    with writer_slot(settings):
        summary = pipeline.load_batch(settings, batch)
    logger.info(
        "load %s %s: %d in = %d duplicate + %d loaded + %d quarantined; %d warned; "
        "core +%d new, %d updated",
        summary.load_id, summary.status, summary.rows_in, summary.rows_duplicate,
        summary.rows_loaded, summary.rows_quarantined, summary.rows_warned,
        summary.core_inserted, summary.core_updated,
    )
    for reason, n in summary.quarantine_reasons.items():
        logger.warning("quarantined %d row(s): %s", n, reason)
    if summary.rows_withheld:
        logger.error("%d secret record(s) arrived with withheld fields: dropped before storing",
                     summary.rows_withheld)
    if summary.status == "rejected":
        logger.error("batch rejected: %s", summary.message)
    return summary


@task(name="publish-snapshot")
def publish_task(settings: Settings) -> str:
    """Publish the read-only snapshot readers open."""
    with writer_slot(settings):
        return str(pipeline.publish(settings))


@task(name="deliver-alerts")
def deliver_alerts_task(settings: Settings) -> dict:
    """Send the alerts this run opened or resolved (and due reminders). Never fails the run: a
    channel that does not answer keeps its messages pending for the next try."""
    logger = get_run_logger()
    try:
        from cchc.notify import deliver_pending

        report = deliver_pending(settings)
    except Exception:
        logger.exception("alert delivery failed; the messages stay pending")
        return {}
    if report.sent or report.failed:
        logger.info("alerts: %d sent, %d not delivered (retried later)", report.sent, report.failed)
    for error in report.errors:
        logger.warning("alert delivery: %s", error)
    return report.as_dict()
