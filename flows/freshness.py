"""The hourly missing-data check (served as ``freshness-check/cchc``)."""

from __future__ import annotations

from prefect import flow, get_run_logger

from cchc.config import load_settings
from cchc.service import freshness
from cchc.service.events import prefect_emit


@flow(name="freshness-check", log_prints=True)
def check_freshness() -> dict:
    """Alert (event ``cchc.alert.stale-source``, a log line, a ``dq_alerts`` row) for every
    enabled source system with no successful load in ``stale_after_hours`` (each judged on its
    own: a fresh one-stop load does not hide a silent e-document system)."""
    settings = load_settings()
    sources = settings.enabled_systems()
    stale = freshness.check(settings, sources, emit=prefect_emit,
                            record=freshness.record_in_warehouse(settings),
                            resolve=freshness.resolve_in_warehouse(settings))
    logger = get_run_logger()
    for item in stale:
        logger.warning("missing data: %s", item.message)
    if not stale:
        logger.info("all sources fresh: %s", ", ".join(sources))
    return {"stale": [item.source_system for item in stale]}
