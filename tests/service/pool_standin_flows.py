"""A stand-in flow for the work-pool tests: holds the warehouse writer slot (through the
server, as the real loads do) for ``hold_s`` and records which worker ran it, and when."""

from __future__ import annotations

import json
import os
import time

from prefect import flow
from prefect.concurrency.sync import concurrency

from cchc.config import load_settings
from cchc.names import WRITER_LIMIT


@flow(name="pool-probe")
def pool_probe(label: str, hold_s: float = 0.0) -> dict:
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with concurrency(WRITER_LIMIT, occupy=1, strict=True):
        start = time.time()
        time.sleep(hold_s)
        line = {"label": label, "pid": os.getpid(), "worker_pid": os.getppid(),
                "start": start, "end": time.time()}
    with (settings.data_dir / "pool-calls.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    return line
