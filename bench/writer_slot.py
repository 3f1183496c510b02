"""Benchmark: what the cross-machine writer guard costs, against the local one.

The embedded default serialises writers with a lock file beside the warehouse (one machine).
In the distributed set-up every load holds the writer slot, a Prefect global concurrency limit
held through the server (its database in PostgreSQL), so it works across machines. This times,
in one run on the same machine:

- taking and giving back the local lock file (``warehouse.lock.writer_lock``);
- taking and giving back the writer slot through a Prefect server on SQLite (the embedded
  default's server) and through one on PostgreSQL (a fresh database, dropped at the end);
- two processes contending for the slot on the PostgreSQL server: the hand-over time from one
  holder's release to the other's start (what a waiting worker loses).

    python bench/writer_slot.py [--rounds 50] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cchc.names import WRITER_LIMIT  # noqa: E402
from cchc.service.prefect_server import start_prefect_server  # noqa: E402

HOLDER = """
import json, sys, time
from prefect.concurrency.sync import concurrency
rounds, hold = int(sys.argv[1]), float(sys.argv[2])
for _ in range(rounds):
    with concurrency("{limit}", occupy=1, strict=True):
        start = time.time(); time.sleep(hold); end = time.time()
    print(json.dumps([start, end]), flush=True)
"""


def time_lock_file(folder: Path, rounds: int) -> list[float]:
    from warehouse.lock import writer_lock

    took = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with writer_lock(folder / "warehouse.duckdb", 5.0):
            pass
        took.append(time.perf_counter() - t0)
    return took


TIMER = """
import json, sys, time
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
with get_client(sync_client=True) as client:
    client.upsert_global_concurrency_limit_by_name("{limit}", 1)
took = []
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    with concurrency("{limit}", occupy=1, strict=True):
        pass
    took.append(time.perf_counter() - t0)
print(json.dumps(took))
"""


def time_slot(api_url: str, auth: str, rounds: int) -> list[float]:
    """In a process of its own: Prefect's slot service is one per process, bound to the first
    server it talked to."""
    import json

    env = dict(os.environ, PREFECT_API_URL=api_url, PREFECT_API_AUTH_STRING=auth)
    out = subprocess.run([sys.executable, "-c", TIMER.replace("{limit}", WRITER_LIMIT),
                          str(rounds)], env=env, capture_output=True, text=True, check=True,
                         timeout=600).stdout
    return json.loads(out.strip().splitlines()[-1])


def hand_over(api_url: str, auth: str, rounds: int, hold_s: float) -> list[float]:
    """Two processes each take the slot ``rounds`` times, holding it ``hold_s``: the gaps
    between one's release and the next start."""
    import json

    env = dict(os.environ, PREFECT_API_URL=api_url, PREFECT_API_AUTH_STRING=auth)
    code = HOLDER.replace("{limit}", WRITER_LIMIT)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(rounds), str(hold_s)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    spans = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        spans += [tuple(json.loads(line)) for line in out.splitlines() if line.startswith("[")]
    spans.sort()
    overlaps = sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1])
    if overlaps:
        raise AssertionError(f"{overlaps} overlapping holds: the slot let two writers in")
    return [b[0] - a[1] for a, b in zip(spans, spans[1:], strict=False)]


def _ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:7.1f} ms, "
            f"p90 {sorted(values)[int(len(values) * 0.9)] * 1000:7.1f} ms")


async def _pg(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--hold", type=float, default=0.2, help="seconds each holder keeps the slot")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"local lock file:           {_ms(time_lock_file(tmp_path, args.rounds))}")
        with start_prefect_server(tmp_path / "sqlite-home") as server:
            print(f"writer slot, SQLite:       {_ms(time_slot(server.api_url, server.auth_string, args.rounds))}"
                  f"  (server up in {server.startup_s:.1f} s)")
        name = f"cchc_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg(args.pg, f'CREATE DATABASE "{name}"'))
        db_url = args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        try:
            with start_prefect_server(tmp_path / "pg-home", database_url=f"{db_url}/{name}") as server:
                print(f"writer slot, PostgreSQL:   {_ms(time_slot(server.api_url, server.auth_string, args.rounds))}"
                      f"  (server up in {server.startup_s:.1f} s)")
                rounds = max(5, args.rounds // 5)
                gaps = hand_over(server.api_url, server.auth_string, rounds, args.hold)
                print(f"hand-over, 2 processes x {rounds} holds of {args.hold:g} s: {_ms(gaps)}, "
                      "no overlap")
        finally:
            asyncio.run(_pg(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
