"""The weekly lake upkeep (served as ``lake-upkeep/cchc`` on the ducklake backend only)."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.concurrency.sync import concurrency

from cchc.config import load_settings
from cchc.names import WRITER_LIMIT


@flow(name="lake-upkeep", log_prints=True)
def lake_upkeep() -> dict:
    """Merge small files, expire snapshots by the retention rule, delete unneeded files
    (``warehouse.upkeep``), holding the writer slot like any load. On the file backend it
    does nothing (the deployment is not registered there)."""
    from warehouse.lake import is_lake
    from warehouse.upkeep import run_upkeep

    settings = load_settings()
    logger = get_run_logger()
    if not is_lake(settings):
        logger.info("the warehouse is a DuckDB file: no lake upkeep needed")
        return {}
    with concurrency(WRITER_LIMIT, occupy=1, strict=False):
        report = run_upkeep(settings)
    logger.info("lake upkeep: %d of %d snapshot(s) expired, %d file(s) merged, %d deleted "
                "(files %d → %d)", report.snapshots_expired, report.snapshots_before,
                report.files_merged, report.files_deleted, report.files_before,
                report.files_after)
    return report.as_dict()
