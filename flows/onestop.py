"""The one-stop system's pull flow: nightly, on change notifications, and for backfills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger, task

from cchc import pipeline
from flows.common import load_task, publish_task, settings


@task(name="resolve-window")
def window_task(since: str | None, until: str | None) -> tuple[str, str]:
    """[since, until): given, or from the stored watermark up to now."""
    from warehouse.writer import Warehouse

    s = settings()
    if since is None:
        with Warehouse.open(s) as wh:
            mark = wh.get_watermark(pipeline.WATERMARK_STREAM)
        since_dt = mark or pipeline.parse_instant(s.source.initial_since)
    else:
        since_dt = pipeline.parse_instant(since)
    # A default window ends a minute in the past: the source's last second may still be moving,
    # and a window closed in the past lets the client detect changes during the pull.
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    until_dt = pipeline.parse_instant(until) if until else now
    if until_dt <= since_dt:
        raise ValueError(f"empty window: since {since_dt} is not before until {until_dt}")
    return pipeline.iso_z(since_dt), pipeline.iso_z(until_dt)


@task(name="pull-to-staging", retries=2, retry_delay_seconds=30)
def pull_task(since: str, until: str) -> pipeline.StagedBatch:
    """Pull the window page by page into parquet parts (the client retries single requests)."""
    batch = pipeline.stage_pull(settings(), pipeline.parse_instant(since), pipeline.parse_instant(until))
    get_run_logger().info("pulled %d item(s) (API total %s) into %d part(s)",
                          batch.rows, batch.reported_total, len(batch.parts))
    return batch


@flow(name="onestop-pull", log_prints=True)
def pull_onestop(since: str | None = None, until: str | None = None) -> dict:
    """Pull dossiers updated in [since, until) (default: from the watermark to now), validate,
    load and publish. Idempotent per window: pulling the same window again changes nothing."""
    since_s, until_s = window_task(since, until)
    batch = pull_task(since_s, until_s)
    summary = load_task(batch)
    if summary.status == "succeeded":
        publish_task()
        pipeline.cleanup(batch)
    elif summary.status == "rejected":
        raise RuntimeError(f"pull rejected: {summary.message}")
    return summary.as_dict()
