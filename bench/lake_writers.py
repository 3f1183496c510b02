"""Benchmark: K writer processes loading different districts into ONE DuckLake (PostgreSQL
catalog), one at a time against all at once.

Each writer is a process with its own data folder (its staging, lock file and personal-data
file: a worker machine's local state) sharing the lake: the catalog in a fresh PostgreSQL schema
(dropped at the end) and one data folder. Every writer loads the per-unit CSV export of its own
unit of the scale scenario (``cchc simulate export --scenario scale --unit CODE``) through the
project's real write path: ``stage_file``, ``load_batch`` (``Warehouse.open``: schema, seeds,
views, recovery; the load's parts, audit rows) and ``publish``. Two modes, in one run:

- ``serial``: a lock shared by the processes (a file lock standing in for the server's writer
  slot) around each writer's load and publish;
- ``concurrent``: no shared lock; DuckLake's conflict detection (with its own commit retries,
  ``ducklake_max_retry_count``) and a retry loop around the writer's load and publish: a
  writer that fails on a transaction conflict is started again in a new process (loads are
  idempotent per file; one whose load committed only publishes again).

Then, on the concurrent run's lake, the MERGE statement alone (every row of each unit as a
newer version): one unit after the other, both at once, and both at once after the upkeep has
merged the two units' files together.

Reported per mode: wall time (first start to last end), each writer's attempts and the errors it
retried, and correctness: the published core table's rows per unit (the same in both modes: what
each unit's load gives), duplicate keys, the loads recorded in ``etl_loads`` by status.

    .venv/bin/python bench/lake_writers.py [--dossiers 100000] [--units 637,24076]
        [--dsn "dbname=test host=127.0.0.1 port=5432"] [--modes serial,concurrent]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CCHC = Path(sys.executable).with_name("cchc")
MAX_ATTEMPTS = 8


def _config(folder: Path, dsn: str, schema: str, data_path: Path) -> Path:
    """A cchc.toml naming the shared lake (catalog schema and data folder)."""
    path = folder / "cchc.toml"
    path.write_text(
        "[warehouse]\nbackend = \"ducklake\"\n"
        f"catalog = \"postgres:{dsn}\"\nmetadata_schema = \"{schema}\"\n"
        f"data_path = \"{data_path}/\"\n", encoding="utf-8")
    return path


def _env(config: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    env.update(CCHC_CONFIG=str(config), CCHC_DATA_DIR=str(data_dir),
               GX_ANALYTICS_ENABLED="false", PYTHONPATH=str(ROOT))
    return env


# -- a writer process -----------------------------------------------------------------------

def writer(csv: Path, mode: str, lock_file: Path, start_at: float, publish_only: bool) -> dict:
    """One attempt: stage the export, then load and publish it (under the shared lock in
    ``serial`` mode). A failure is reported, not retried here: after a DuckLake commit conflict
    the process keeps the failed DuckDB instance (and its attach of the local personal-data
    file) alive, so a new writer cannot open in the same process; the retry is a new process."""
    import hashlib

    import duckdb
    from filelock import FileLock

    from cchc.config import load_settings
    from cchc.pipeline import load_batch, stage_file
    from warehouse.writer import publish

    settings = load_settings()
    batch = None if publish_only else stage_file(
        settings, csv, hashlib.sha256(csv.read_bytes()).hexdigest())
    while time.time() < start_at:  # every writer starts its load at the same instant
        time.sleep(0.005)
    t0 = time.time()
    waited, summary, error = 0.0, None, None
    try:
        if mode == "serial":
            with FileLock(lock_file):
                waited = time.time() - t0
                summary = batch and load_batch(settings, batch)
                publish(settings)
        else:
            summary = batch and load_batch(settings, batch)
            publish(settings)
    except (duckdb.Error, RuntimeError) as exc:  # a conflict, or a load that undid itself
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:240]}"
        traceback.print_exc()
    return {"start": t0, "end": time.time(), "lock_wait_s": round(waited, 2), "error": error,
            "loaded": summary is not None and summary.status == "succeeded",
            "core_inserted": summary.core_inserted if summary else 0}


def merge_writer(unit: str, start_at: float) -> dict:
    """Only the data statement: every row of ``unit`` in the core table as a newer version,
    MERGEd in one transaction (updates: DuckLake deletes and inserts), retried in the same
    connection on a conflict (DuckLake's own commit retries first)."""
    import duckdb
    import polars as pl

    from cchc.config import load_settings
    from warehouse import lake
    from warehouse.strategies import write_frame
    from warehouse.tables import CORE_ONESTOP_DOSSIERS

    con = lake.connect_writer(load_settings())
    frame = con.execute("SELECT * FROM core_onestop__dossiers WHERE unit_code = ?", [unit]).pl()
    frame = frame.with_columns(updated_at=pl.col("updated_at") + pl.duration(days=1),
                               row_hash=pl.col("row_hash") + "+")
    while time.time() < start_at:
        time.sleep(0.005)
    t0, attempts, errors, result = time.time(), 0, [], None
    while attempts < MAX_ATTEMPTS and result is None:
        attempts += 1
        try:
            con.execute("BEGIN TRANSACTION")
            written = write_frame(con, CORE_ONESTOP_DOSSIERS, frame, f"bench-{unit}")
            con.execute("COMMIT")
            result = written
        except duckdb.Error as exc:
            errors.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            time.sleep(0.1 * 2 ** (attempts - 1))
    con.close()
    return {"unit": unit, "start": t0, "end": time.time(), "attempts": attempts,
            "errors": errors, "updated": result.updated if result else None}


def merge_phase(label: str, units: list[str], folder: Path, config: Path,
                serial: bool) -> dict:
    """Every unit's MERGE at once (or one after another), in processes of their own."""
    env = _env(config, folder / "merge")
    results = []
    cmds = [[sys.executable, __file__, "--merge-unit", u, "--start-at", "0"] for u in units]
    if serial:
        for cmd in cmds:
            results.append(json.loads(subprocess.run(
                cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                check=True).stdout.strip().splitlines()[-1]))
    else:
        start_at = str(time.time() + 6.0)
        procs = [subprocess.Popen(c[:-1] + [start_at], env=env, cwd=ROOT, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in cmds]
        for p in procs:
            out, err = p.communicate()
            if p.returncode:
                raise SystemExit(err[-3000:])
            results.append(json.loads(out.strip().splitlines()[-1]))
    wall = (sum(r["end"] - r["start"] for r in results) if serial
            else max(r["end"] for r in results) - min(r["start"] for r in results))
    return {"mode": f"merge only, {label}", "wall_s": round(wall, 2), "writers": results}


# -- the run ----------------------------------------------------------------------------------

def _admin(dsn: str):
    import duckdb

    from warehouse import lake

    con = duckdb.connect()
    con.execute(f"LOAD '{lake.extension_path('postgres_scanner')}'")
    con.execute(f"ATTACH '{dsn}' AS pg (TYPE postgres)")
    return con


def published() -> dict:
    """Rows per unit in the published core table, file loads by status, duplicate keys."""
    from cchc.config import load_settings
    from warehouse.reader import open_snapshot

    con = open_snapshot(load_settings())
    try:
        units = con.execute("SELECT unit_code, count(*) FROM core_onestop__dossiers "
                            "GROUP BY ALL ORDER BY 1").fetchall()
        loads = con.execute("SELECT status, count(*) FROM etl_loads WHERE kind = 'file' "
                            "GROUP BY ALL ORDER BY 1").fetchall()
        dups = con.execute("SELECT count(*) - count(DISTINCT dossier_code) "
                           "FROM core_onestop__dossiers").fetchone()[0]
    finally:
        con.close()
    return {"units": dict(units), "loads": dict(loads), "duplicates": dups}


def _published(config: Path, data_dir: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--published"], env=_env(config, data_dir),
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _spawn(mode: str, csv: Path, folder: Path, config: Path, i: int, start_at: float,
           publish_only: bool) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--writer", str(csv), "--mode", mode,
           "--lock-file", str(folder / "writer.lock"), "--start-at", str(start_at)]
    return subprocess.Popen(cmd + (["--publish-only"] if publish_only else []),
                            env=_env(config, folder / f"worker{i}"), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_writers(mode: str, csvs: list[Path], folder: Path, config: Path,
                 start_at: float) -> list[dict]:
    """Every writer at once; a failed attempt is started again (a new process, after a
    backoff) until it succeeds or has had MAX_ATTEMPTS."""
    state = [{"csv": c.name, "attempts": 1, "errors": [], "start": None, "end": None,
              "loaded": False, "core_inserted": 0, "lock_wait_s": 0.0} for c in csvs]
    procs = {i: _spawn(mode, c, folder, config, i, start_at, False) for i, c in enumerate(csvs)}
    while procs:
        time.sleep(0.02)
        for i, p in list(procs.items()):
            if p.poll() is None:
                continue
            out, err = p.communicate()
            del procs[i]
            if p.returncode:
                raise SystemExit(f"writer crashed:\n{err[-3000:]}")
            if os.environ.get("BENCH_SHOW_ERRORS") and "Traceback" in err:
                print(err[:6000], file=sys.stderr)
            r, st = json.loads(out.strip().splitlines()[-1]), state[i]
            st["start"] = st["start"] or r["start"]
            st["end"] = r["end"]
            st["lock_wait_s"] += r["lock_wait_s"]
            if r["loaded"]:
                st["loaded"], st["core_inserted"] = True, r["core_inserted"]
            if r["error"] is None:
                st["status"] = "published"
                continue
            st["errors"].append(r["error"])
            if st["attempts"] >= MAX_ATTEMPTS:
                st["status"] = "gave up"
                continue
            time.sleep(0.1 * 2 ** (st["attempts"] - 1))
            st["attempts"] += 1
            procs[i] = _spawn(mode, csvs[i], folder, config, i, 0.0, st["loaded"])
    return state


def run_mode(mode: str, csvs: list[Path], dsn: str, work: Path,
             merge_units: list[str] | None = None) -> dict:
    """A fresh lake (schema + data folder), initialised once, then K writers at once."""
    schema = f"cchc_bench_{uuid.uuid4().hex[:8]}"
    admin = _admin(dsn)
    admin.execute(f"CALL postgres_execute('pg', 'CREATE SCHEMA {schema}')")
    folder = work / mode
    folder.mkdir()
    config = _config(folder, dsn, schema, folder / "lake-files")
    try:
        # The lake created before the writers start (schema, seeds, views), as a deployment
        # would have it: the first publish of an empty lake.
        init = subprocess.run(
            [sys.executable, "-c", "from cchc.config import load_settings; "
             "from warehouse.writer import publish; publish(load_settings())"],
            env=_env(config, folder / "init"), cwd=ROOT, capture_output=True, text=True)
        if init.returncode:
            raise SystemExit(init.stderr[-2000:])
        start_at = time.time() + 8.0  # time for each process to import and stage its file
        results = _run_writers(mode, csvs, folder, config, start_at)
        wall = max(r["end"] for r in results) - min(r["start"] for r in results)
        published = _published(config, folder / "init")
        out = {"mode": mode, "wall_s": round(wall, 2), "writers": results,
               "published": published}
        if merge_units:
            # each unit's rows are in files of their own (loaded apart) ...
            out["merge"] = [merge_phase("serial", merge_units, folder, config, True),
                            merge_phase("concurrent, units in separate files", merge_units,
                                        folder, config, False)]
            # ... until the upkeep merges small files: then both units share files
            subprocess.run([sys.executable, "-c", "from cchc.config import load_settings; "
                            "from warehouse.upkeep import run_upkeep; "
                            "run_upkeep(load_settings())"], env=_env(config, folder / "merge"),
                           cwd=ROOT, check=True, capture_output=True)
            out["merge"].append(merge_phase("concurrent, after merge_adjacent_files",
                                            merge_units, folder, config, False))
        return out
    finally:
        admin.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA {schema} CASCADE')")
        admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dossiers", type=int, default=100_000)
    ap.add_argument("--units", default="637,24076")
    ap.add_argument("--dsn", default="dbname=test host=127.0.0.1 port=5432 connect_timeout=5")
    ap.add_argument("--modes", default="serial,concurrent")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--writer", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--published", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--lock-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--publish-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--merge-unit", help=argparse.SUPPRESS)
    ap.add_argument("--no-merge", action="store_true",
                    help="Skip the MERGE-only runs after the last mode.")
    args = ap.parse_args()
    if args.merge_unit:
        print(json.dumps(merge_writer(args.merge_unit, args.start_at)))
        return
    if args.published:
        print(json.dumps(published()))
        return
    if args.writer:
        print(json.dumps(writer(args.writer, args.mode, args.lock_file, args.start_at,
                                args.publish_only)))
        return
    with tempfile.TemporaryDirectory(prefix="cchc-lake-writers-", dir=args.workdir) as tmp:
        work = Path(tmp)
        csvs = []
        for unit in args.units.split(","):
            csv = work / f"scale_{unit}.csv"
            subprocess.run([str(CCHC), "simulate", "export", "--scenario", "scale",
                            "--dossiers", str(args.dossiers), "--unit", unit, "--out", str(csv)],
                           check=True, capture_output=True, cwd=work)
            csvs.append(csv)
        rows = {c.name: sum(1 for _ in c.open(encoding="utf-8-sig")) - 1 for c in csvs}
        print(json.dumps({"exports": rows}))
        for mode in args.modes.split(","):
            last = mode == args.modes.split(",")[-1]
            result = run_mode(mode, csvs, args.dsn, work,
                              args.units.split(",") if last and not args.no_merge else None)
            print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
