"""Stand-in flows with the real flows' names and signatures, for testing the service's wiring
(schedules, triggers, recovery) without the simulator or the warehouse. Each call is appended to
``<data>/standin-calls.jsonl``; a pull sleeps while ``<data>/slow-pull`` exists, holding the
warehouse writer slot like the real load does."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from prefect import flow
from prefect.concurrency.sync import concurrency
from prefect.runtime import flow_run

from cchc.config import load_settings

WRITER_LIMIT = "cchc-warehouse-writer"


def _record(name: str, **params) -> dict:
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    line = {"flow": name, "params": params, "flow_run_id": str(flow_run.get_id()),
            "at": datetime.now(UTC).isoformat()}
    with (settings.data_dir / "standin-calls.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    return line


@flow(name="onestop-pull")
def pull_onestop(since: str | None = None, until: str | None = None) -> dict:
    settings = load_settings()
    with concurrency(WRITER_LIMIT, occupy=1, strict=True):
        while (settings.data_dir / "slow-pull").exists():
            time.sleep(0.2)
        return _record("onestop-pull", since=since, until=until)


@flow(name="ingest-file")
def ingest_file(path: str, from_inbox: bool = False) -> dict:
    return _record("ingest-file", path=path, from_inbox=from_inbox)
