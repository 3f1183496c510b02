"""What every flow shares: settings, the writer concurrency limit, the load/publish tasks.

Tasks take and return paths, ids and small dataclasses — never frames or connections — so a
flow's steps can run in other processes (work pools) later without change.
"""

from __future__ import annotations

import os

from prefect import get_run_logger, task
from prefect.concurrency.sync import concurrency

from cchc import pipeline
from cchc.config import Settings, load_settings

# One writer at a time across runs: the service creates this global concurrency limit (1 slot);
# without a server the warehouse's file lock still serialises writers.
WRITER_LIMIT = "cchc-warehouse-writer"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def settings() -> Settings:
    return load_settings()


@task(name="load-batch", task_run_name="load {batch.kind}")
def load_task(batch: pipeline.StagedBatch) -> pipeline.LoadSummary:
    """Validate, transform and load one staged batch, holding the writer slot."""
    logger = get_run_logger()
    with concurrency(WRITER_LIMIT, occupy=1, strict=False):
        summary = pipeline.load_batch(settings(), batch)
    logger.info(
        "load %s %s: %d in = %d duplicate + %d loaded + %d quarantined; %d warned; "
        "core +%d new, %d updated",
        summary.load_id, summary.status, summary.rows_in, summary.rows_duplicate,
        summary.rows_loaded, summary.rows_quarantined, summary.rows_warned,
        summary.core_inserted, summary.core_updated,
    )
    for reason, n in summary.quarantine_reasons.items():
        logger.warning("quarantined %d row(s): %s", n, reason)
    if summary.status == "rejected":
        logger.error("batch rejected: %s", summary.message)
    return summary


@task(name="publish-snapshot")
def publish_task() -> str:
    """Publish the read-only snapshot readers open."""
    with concurrency(WRITER_LIMIT, occupy=1, strict=False):
        return str(pipeline.publish(settings()))
