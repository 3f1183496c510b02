"""Work items across the pool: ``load-scope`` fans out one ``load-district`` run per district.

Thin: the split, the loads and the resubmission live in ``cchc.work_items``."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from cchc import work_items
from cchc.config import load_settings
from cchc.names import DEPLOYMENT_NAME

LOAD_DISTRICT = "load-district"


@flow(name=LOAD_DISTRICT, log_prints=True)
def load_district(district: str, files: list[str]) -> list[dict]:
    """Load one district's export files into the warehouse, publishing each as it is in."""
    return work_items.load_work_item(load_settings(), district, files)


@flow(name="load-scope", log_prints=True)
def load_scope(folder: str, max_attempts: int = 3) -> dict[str, str]:
    """One ``load-district`` run per sub-folder of ``folder`` (a district's exports), run by
    whichever workers are free; a run that crashed (its worker died) is submitted again.
    Fails when an item did not complete."""
    logger = get_run_logger()
    settings = load_settings()
    items = work_items.work_items(Path(folder))
    if not items:
        logger.warning("%s holds no district folder with exports: nothing to load", folder)
        return {}
    work_items.ensure_published(settings)
    runs = work_items.run_work_items(items, f"{LOAD_DISTRICT}/{DEPLOYMENT_NAME}",
                                     max_attempts=max_attempts)
    states = {r.item.name: r.state or "unknown" for r in runs}
    failed = {k: v for k, v in states.items() if v != work_items.FINAL_OK}
    for run in runs:
        logger.info("district %s: %s after %d run(s)", run.item.name, run.state, run.attempts)
    if failed:
        raise RuntimeError(f"district(s) not loaded: {failed}")
    return states
