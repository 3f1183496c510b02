"""The weekly warehouse upkeep (served as ``lake-upkeep/cchc``): the lake's maintenance on the
ducklake backend, the file's compaction on the DuckDB file backend."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.concurrency.sync import concurrency

from cchc.config import load_settings
from cchc.names import WRITER_LIMIT


@flow(name="lake-upkeep", log_prints=True)
def lake_upkeep() -> dict:
    """Merge small files, expire snapshots by the retention rule, delete unneeded files
    (``warehouse.upkeep``), holding the writer slot like any load. On the file backend:
    merge the row groups loads left partly filled (``warehouse.upkeep.compact_file``)."""
    from warehouse.lake import is_lake
    from warehouse.upkeep import compact_file, run_upkeep

    settings = load_settings()
    logger = get_run_logger()
    with concurrency(WRITER_LIMIT, occupy=1, strict=False):
        if not is_lake(settings):
            done = compact_file(settings)
            logger.info("warehouse file compacted in %.1f s (%d → %d bytes)", done["seconds"],
                        done["bytes_before"], done["bytes_after"])
            return done
        report = run_upkeep(settings)
    logger.info("lake upkeep: %d of %d snapshot(s) expired, %d file(s) merged, %d deleted "
                "(files %d → %d)", report.snapshots_expired, report.snapshots_before,
                report.files_merged, report.files_deleted, report.files_before,
                report.files_after)
    return report.as_dict()
