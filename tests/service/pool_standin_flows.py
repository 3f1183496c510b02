"""A stand-in flow for the work-pool tests: records which worker process ran it."""

from __future__ import annotations

import json
import os

from prefect import flow

from cchc.config import load_settings


@flow(name="pool-probe")
def pool_probe(label: str) -> dict:
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    line = {"label": label, "pid": os.getpid(), "ppid": os.getppid()}
    with (settings.data_dir / "pool-calls.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    return line
