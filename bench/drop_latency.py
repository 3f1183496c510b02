"""Benchmark: a clerk drops an export into the inbox; how long until its rows are queryable?

Starts the whole service as a district office runs it — the simulator (the provincial system),
``cchc serve`` with its own Prefect server (on free loopback ports, in a temporary data folder)
— then drops N exports of about R rows each (the simulator's own export function, distinct
dossiers per file), one after another: each is written as ``name.xlsx.part`` and renamed, and
the clock runs from the rename until every dossier of the file is in the published snapshot.
A first file is dropped before the measured ones and reported apart: it pays the service's
warm-up (the flow-run forkserver importing Prefect and Great Expectations). Then one signed
change notification is sent and the time to the pull's flow run starting, and finishing, is
reported.

Then the command line: ``cchc ingest`` of one more export of the same size, timed from the
command to its exit (its rows are then visible), once handed to the running service and, after
the service has stopped, once run locally (Prefect's temporary server: the baseline, same run).

    python bench/drop_latency.py [--files 10] [--rows 1000] [--keep]

Prints service start-up time, each latency, the median and the worst (target: median <= 3 s),
and both ``cchc ingest`` times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cchc.config import Settings  # noqa: E402
from cchc.processes import free_port, wait_until_healthy  # noqa: E402
from cchc.service.hooks import sign  # noqa: E402
from cchc.service.prefect_server import auth_headers, read_auth_string  # noqa: E402

SIM = {"scenario": "scale", "dossiers": 30_000, "years": 1, "dirt": "clean", "seed": 5}
SECRET = "bench-secret"


def date_ranges(ds, files: int, rows: int) -> list[tuple[date, date]]:
    """Consecutive day ranges of about ``rows`` dossiers each (by reception day, local)."""
    from simulator.exports import select_rows

    first, last = ds.period
    ranges, start, day = [], first, first
    while len(ranges) < files and day <= last:
        n = select_rows(ds, start, day).height
        if n >= rows:
            ranges.append((start, day))
            start = day + timedelta(days=1)
        day += timedelta(days=1)
    if len(ranges) < files:
        raise SystemExit("the simulated dataset is too small for that many files")
    return ranges


def snapshot_count(settings: Settings, codes: list[str]) -> int:
    from warehouse.reader import SnapshotMissing, open_snapshot

    try:
        con = open_snapshot(settings)
    except SnapshotMissing:
        return 0
    try:
        return con.execute("select count(*) from core_onestop__dossiers "
                           "where list_contains(?, dossier_code)", [codes]).fetchone()[0]
    finally:
        con.close()


def drop_and_wait(settings: Settings, export: Path, codes: list[str], timeout_s: float = 600) -> float:
    inbox = settings.inbox_dir
    part = inbox / (export.name + ".part")
    shutil.copyfile(export, part)
    t0 = time.monotonic()
    os.rename(part, inbox / export.name)
    while snapshot_count(settings, codes) < len(codes):
        if time.monotonic() - t0 > timeout_s:
            raise SystemExit(f"{export.name}: rows not visible after {timeout_s} s")
        time.sleep(0.05)
    return time.monotonic() - t0


def cli_ingest(tmp: Path, export: Path, local: bool) -> float:
    """Seconds ``cchc ingest export`` takes, handed to the service or (``local``) run here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CCHC_"))}
    env["CCHC_CONFIG"] = str(tmp / "cchc.toml")
    if local:
        env["CCHC_LOCAL"] = "1"
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "cchc.cli", "ingest", str(export)], env=env,
                          cwd=tmp, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - t0
    if done.returncode != 0 or "handing the work" not in done.stdout and not local:
        raise SystemExit(f"cchc ingest failed or ran locally:\n{done.stdout}\n{done.stderr}")
    return seconds


def start_service(tmp: Path, base_url: str) -> tuple[subprocess.Popen, Settings, int, int, float]:
    data_dir, hook_port, prefect_port = tmp / "data", free_port(), free_port()
    config = tmp / "cchc.toml"
    config.write_text(
        f'data_dir = {json.dumps(str(data_dir))}\n'
        f'[service]\nprefect_port = {prefect_port}\nhook_port = {hook_port}\n'
        f'hook_secret = "{SECRET}"\n'
        f'[source]\nbase_url = "{base_url}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CCHC_"))}
    env["CCHC_CONFIG"] = str(config)
    log = (tmp / "serve.log").open("ab")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cchc.cli", "serve", "--no-catch-up"], env=env,
                            cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_until_healthy(f"http://127.0.0.1:{hook_port}/health", proc, 600, f"cchc serve (log: {tmp / 'serve.log'})")
    return proc, Settings(data_dir=data_dir), hook_port, prefect_port, time.monotonic() - t0


def pull_timings(api_url: str, since: float, headers: dict[str, str],
                 timeout_s: float = 900) -> tuple[float, float]:
    """Seconds from ``since`` (epoch) to the first pull run after it starting, and finishing
    (``headers`` carry the served API's auth string)."""
    from datetime import datetime

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api_url}/flow_runs/filter", headers=headers, json={
            "flows": {"name": {"any_": ["onestop-pull"]}}, "limit": 50}).json()
        runs = [r for r in runs if datetime.fromisoformat(r["created"]).timestamp() >= since - 1]
        done = [r for r in runs if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED")]
        if done:
            r = done[0]
            return (datetime.fromisoformat(r["start_time"]).timestamp() - since,
                    datetime.fromisoformat(r["end_time"]).timestamp() - since)
        time.sleep(0.5)
    raise SystemExit("no pull finished after the notification")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = parser.parse_args()

    from simulator.exports import export_dossiers, select_rows
    from simulator.testing import running_simulator, simulated_dataset

    tmp = Path(tempfile.mkdtemp(prefix="cchc-drop-bench-"))
    ds = simulated_dataset(**SIM)
    ranges = date_ranges(ds, args.files + 3, args.rows)
    exports = []
    for i, (first, last) in enumerate(ranges):
        result = export_dossiers(tmp / "exports" / f"export-{i:02d}.xlsx", dataset=ds,
                                 date_from=first, date_to=last)
        codes = select_rows(ds, first, last)["MaHoSo"].unique().to_list()
        exports.append((result.path, result.rows, first, last, codes))

    cli_exports, exports = exports[-2:], exports[:-2]
    with running_simulator(**SIM) as base_url:
        proc, settings, hook_port, prefect_port, ready_s = start_service(tmp, base_url)
        try:
            print(f"service ready (Prefect server + serve) in {ready_s:.1f} s")
            latencies, inodes = [], []
            for i, (path, rows, first, last, codes) in enumerate(exports):
                seconds = drop_and_wait(settings, path, codes)
                inodes.append(settings.published_path.stat().st_ino)
                label = "warm-up" if i == 0 else f"file {i:2d}"
                print(f"{label}: {rows:5d} rows ({first}..{last}) queryable after {seconds:5.2f} s")
                if i:
                    latencies.append(seconds)
            print(f"drop -> queryable over {len(latencies)} files: median {statistics.median(latencies):.2f} s, "
                  f"worst {max(latencies):.2f} s (first file after start: see warm-up)")
            updated = sum(a == b for a, b in zip(inodes[:-2], inodes[2:], strict=True))
            print(f"publishes after the third that brought the snapshot before last up to date: "
                  f"{updated} of {max(len(inodes) - 2, 0)} (the others copied the file)")
            body = json.dumps({"event": "dossier.changed", "changed_since": "2021-01-01T00:00:00Z",
                               "count": 1, "id": f"bench-{time.time_ns()}"}).encode()
            sent = time.time()
            r = httpx.post(f"http://127.0.0.1:{hook_port}/hooks/onestop", content=body,
                           headers={"X-Signature": sign(body, SECRET)})
            assert r.status_code == 202, r.text
            api_url = f"http://127.0.0.1:{prefect_port}/api"
            headers = auth_headers(read_auth_string(settings.data_dir / "prefect"))
            started, finished = pull_timings(api_url, sent, headers)
            print(f"notify -> pull running {started:.2f} s, finished {finished:.2f} s "
                  f"(a full pull of {ds.items.height:,} items from the initial watermark)")
            handed = cli_ingest(tmp, cli_exports[0][0], local=False)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        try:
            local = cli_ingest(tmp, cli_exports[1][0], local=True)
            print(f"cchc ingest of {cli_exports[0][1]:,} rows: {handed:.2f} s handed to cchc serve, "
                  f"{local:.2f} s run locally without the service (baseline, "
                  f"{cli_exports[1][1]:,} rows)")
        finally:
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                print(f"kept {tmp}")


if __name__ == "__main__":
    main()
