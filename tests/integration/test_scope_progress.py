"""`cchc scope load --wait` reads each district's state from the parent run's child runs: on a
real (temporary) Prefect server, a parent flow with child runs as run_deployment makes them."""

from __future__ import annotations

import pytest
from prefect import flow

from cchc.scope_run import read_progress

pytestmark = pytest.mark.integration


@flow(name="load-district")
def _district(district: str, fail: bool = False) -> None:
    if fail:
        raise ValueError(f"{district}: bad input")


@flow(name="load-scope")
def _scope() -> str:
    from prefect.runtime import flow_run

    _district("637")
    _district("638", fail=True, return_state=True)  # first run fails...
    _district("638", return_state=True)  # ...the latest one counts
    _district("639", fail=True, return_state=True)
    return flow_run.id


def test_progress_has_each_districts_latest_run(prefect_harness: None) -> None:
    from prefect import get_client

    parent_id = _scope()
    with get_client(sync_client=True) as client:
        progress = read_progress(client, parent_id)
    assert progress.final and progress.state == "COMPLETED"
    assert progress.districts == {"637": "COMPLETED", "638": "COMPLETED", "639": "FAILED"}
    assert progress.line() == ("load-scope completed: 637 completed, 638 completed, "
                               "639 failed")
