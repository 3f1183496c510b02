"""The lake-upkeep flow as the service runs it: on the lake it expires and cleans up; on the
file backend it compacts the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc.config import load_settings

pytestmark = pytest.mark.integration


def test_the_upkeep_flow_runs_on_the_lake_and_not_on_the_file(
        data_dir: Path, prefect_harness: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.upkeep import lake_upkeep
    from warehouse.writer import Warehouse

    done = lake_upkeep()  # the file backend: the file compacted
    assert done["bytes_after"] > 0 and done["seconds"] >= 0
    monkeypatch.setenv("CCHC_WAREHOUSE_BACKEND", "ducklake")
    with Warehouse.open(load_settings()) as wh:
        wh.publish()
    report = lake_upkeep()
    assert report["snapshots_before"] > 1 and not report["dry_run"]
    assert report["publications_kept"] == 1  # the only publication: kept
    assert report["snapshots_expired"] == 0  # everything is younger than a day
