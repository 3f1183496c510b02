"""Benchmark: `cchc ingest` of an N-dossier CSV export, end to end, against DuckDB's own read.

Both sides run in one invocation on the same file, each in its own process tree:

* the floor: DuckDB's ``CREATE TABLE AS SELECT * FROM read_csv(...)`` into an empty file;
* cchc: the ``cchc ingest FILE`` command exactly as a user runs it — Prefect (a temporary
  server, or the one ``PREFECT_API_URL`` names), staging, transform, Great Expectations,
  quarantine, the merge into DuckDB, audit, alerts, publish and the dashboard — into an empty
  data folder.

Memory is the peak of the whole process tree's resident set (the command, the temporary Prefect
server and any other child), sampled with psutil every 50 ms: what the machine must have free;
the command's own peak is shown beside it. The stage times come from the pipeline's own log
lines (``cchc.pipeline``: "stage timings", "load timings", "publish timings"), and which stages
raised the command's peak memory from "load peak growth MiB".

An export past 1 GiB (5M dossiers are 3 GiB) is taken because the bench's settings file raises
``[ingest] max_csv_mb`` to the file's size, as a user with such exports would; ``--setting``
adds lines to that file (e.g. ``--setting 'duckdb_memory_limit = "512MB"'``, or
``--setting 'ingest.load_memory_limit = "256MB"'`` for a key of the ``[ingest]`` table).

    .venv/bin/python bench/load_csv.py --rows 1000000 [--rows 5000000 ...] [--workdir DIR]

Targets (docs/performance.md): ratio ≤ 4 and peak RSS ≤ 1 GiB, flat in N.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CCHC = Path(sys.executable).with_name("cchc")
SAMPLE_S = 0.05
TIMINGS = re.compile(r"(?:stage|load|publish) timings: (\{.*?\})")
# inside "parts" (the wall time of all parts): a part's stages, the writes of one part overlapping
# the preparation (read … plan) of the next, and the writes inside write_with_commit
NESTED = {"read", "transform", "duplicates", "validate", "plan", "write_with_commit", "write_quarantine",
          "write_raw", "write_core"}
GROWTH = re.compile(r"load peak growth MiB: (\{.*?\})")
CPU = re.compile(r"(?:stage|load|publish) cpu seconds: (\{.*?\})")


@dataclass
class Run:
    """One side's wall time, peak resident memory of its process tree, and output."""

    seconds: float
    peak_mib: float
    root_peak_mib: float = 0.0  # the command alone, without its children
    cpu_s: float = 0.0  # user + system CPU of the process and of the children it waited for
    output: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    growth: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)


def _tree_rss(root: psutil.Process) -> tuple[int, int]:
    """Resident bytes of a process and all its descendants (processes that vanish count 0),
    and of the process alone."""
    total = alone = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            rss = p.memory_info().rss
            total += rss
            alone = rss if p is root else alone
    return total, alone


def run_tree(cmd: list[str], env: dict[str, str]) -> Run:
    """Run ``cmd``; sample its process tree's RSS until it ends."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            cwd=ROOT)
    root = psutil.Process(proc.pid)
    peak = root_peak = 0
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        total, alone = _tree_rss(root)
        peak, root_peak = max(peak, total), max(root_peak, alone)
        time.sleep(SAMPLE_S)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    reader.join()
    out = b"".join(chunks).decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-4000:]}")
    timings: dict[str, float] = {}
    for found in TIMINGS.findall(out):
        timings.update(json.loads(found))
    growth = json.loads(grown[-1]) if (grown := GROWTH.findall(out)) else {}
    cpu: dict[str, float] = {}
    for found in CPU.findall(out):
        cpu.update(json.loads(found))
    return Run(wall, peak / 2**20, root_peak / 2**20, cpu_s, out, timings, growth, cpu)


def make_csv(rows: int, path: Path) -> None:
    subprocess.run(
        [str(CCHC), "simulate", "export", "--format", "csv", "--out", str(path),
         "--scenario", "scale", "--dossiers", str(rows)],
        check=True, cwd=ROOT,
    )


MAX_RATIO = 4.0  # cchc's seconds against DuckDB's CTAS of the same file
MAX_TREE_MIB = 1024  # the whole process tree's peak resident memory
FLAT_WITHIN = 1.10  # "flat in N": the largest size's peak at most 10 % over the smallest's

BASELINE = """
import duckdb
con = duckdb.connect({db!r})
con.execute("CREATE TABLE t AS SELECT * FROM read_csv({csv!r})")
con.close()
"""


def _data_rows(csv: Path) -> int:
    import duckdb

    return duckdb.sql(f"SELECT count(*) FROM read_csv('{csv}')").fetchone()[0]


def settings_file(workdir: Path, csv: Path, settings: list[str]) -> Path:
    """The cchc settings the run uses: a CSV limit that takes the file, plus ``settings``
    (``ingest.<key> = value`` lines go into the ``[ingest]`` table, beside the CSV limit)."""
    path = workdir / "cchc-bench.toml"
    max_csv_mb = max(1024, -(-csv.stat().st_size // 2**20) + 1)
    top = [line for line in settings if not line.startswith("ingest.")]
    ingest = [line.removeprefix("ingest.") for line in settings if line.startswith("ingest.")]
    path.write_text("\n".join([*top, "[ingest]", f"max_csv_mb = {max_csv_mb}", *ingest, ""]))
    return path


def bench(rows: int, workdir: Path, settings: list[str]) -> dict:
    csv = workdir / f"dossiers-{rows}.csv"
    if not csv.exists():
        make_csv(rows, csv)
    baseline_db, data_dir = workdir / f"baseline-{rows}.duckdb", workdir / f"data-{rows}"
    baseline_db.unlink(missing_ok=True)  # both sides start empty on every run
    shutil.rmtree(data_dir, ignore_errors=True)
    env = dict(os.environ)
    base = run_tree([sys.executable, "-c", BASELINE.format(db=str(baseline_db), csv=str(csv))], env)
    # INFO from cchc's own loggers (Prefect copies its handlers to them, not its level): the
    # timing lines; nothing else changes.
    env = dict(os.environ, CCHC_DATA_DIR=str(data_dir), COLUMNS="200",
               PREFECT_LOGGING_ROOT_LEVEL="INFO",
               CCHC_CONFIG=str(settings_file(workdir, csv, settings)))
    ours = run_tree([str(CCHC), "ingest", str(csv)], env)
    summary = _summary(data_dir)
    baseline_db.unlink(missing_ok=True)
    return dict(rows=rows, csv_rows=_data_rows(csv), csv_mb=csv.stat().st_size / 2**20,
                baseline_s=base.seconds, baseline_peak_mib=base.peak_mib, cchc_s=ours.seconds,
                cchc_peak_mib=ours.peak_mib, cchc_cmd_peak_mib=ours.root_peak_mib,
                ratio=ours.seconds / base.seconds, timings=ours.timings, growth=ours.growth,
                cpu=ours.cpu, baseline_cpu_s=base.cpu_s, cchc_cpu_s=ours.cpu_s,
                errors=[line for line in ours.output.splitlines() if "| ERROR" in line],
                **summary)


def _summary(data_dir: Path) -> dict:
    """The load's row accounting, from the published snapshot."""
    import duckdb

    con = duckdb.connect(str(data_dir / "published" / "cchc.duckdb"), read_only=True)
    try:
        status, rows_in, dup, loaded, quarantined = con.execute(
            "SELECT status, rows_in, rows_duplicate, rows_loaded, rows_quarantined FROM etl_loads "
            "WHERE source_system = 'onestop' ORDER BY started_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return dict(status=status, rows_in=rows_in, duplicate=dup, loaded=loaded,
                quarantined=quarantined, balanced=rows_in == dup + loaded + quarantined)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="dossiers (repeatable)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the CSV files here (default: a temporary folder)")
    parser.add_argument("--setting", action="append", default=[],
                        help="a top-level line for cchc's settings file (repeatable)")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000]
    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"{'dossiers':>10} {'rows':>10} {'csv MB':>7} {'duckdb s':>9} {'cchc s':>8} "
              f"{'ratio':>6} {'duckdb MiB':>10} {'cchc MiB':>9} {'(command)':>9}  status, accounted")
        results = []
        for rows in sizes:
            r = bench(rows, workdir, args.setting)
            results.append(r)
            print(f"{r['rows']:>10,} {r['csv_rows']:>10,} {r['csv_mb']:>7.0f} "
                  f"{r['baseline_s']:>9.2f} {r['cchc_s']:>8.2f} {r['ratio']:>6.2f} "
                  f"{r['baseline_peak_mib']:>10.0f} {r['cchc_peak_mib']:>9.0f} "
                  f"{r['cchc_cmd_peak_mib']:>9.0f}  {r['status']}, "
                  f"{'balanced' if r['balanced'] else 'NOT BALANCED'} ({r['loaded']:,} loaded, "
                  f"{r['quarantined']:,} quarantined, {r['duplicate']:,} duplicate)")
            print(f"           cpu s (user + system, steadier than seconds on a shared machine): "
                  f"duckdb {r['baseline_cpu_s']:.1f}, cchc {r['cchc_cpu_s']:.1f}, "
                  f"ratio {r['cchc_cpu_s'] / max(r['baseline_cpu_s'], 1e-9):.2f}")
            if r["timings"]:
                print("           stages s: " + ", ".join(
                    f"{k} {v:.1f}" for k, v in r["timings"].items()))
                timed = sum(v for k, v in r["timings"].items() if k not in NESTED)
                print(f"           outside the timed stages (Prefect and its temporary server, "
                      f"imports, file hash, opening the warehouse, publish, dashboard): "
                      f"{r['cchc_s'] - timed:.1f} s")
            if r["cpu"]:
                print("           stages cpu s (all threads): " + ", ".join(
                    f"{k} {v:.1f}" for k, v in r["cpu"].items()))
            if r["growth"]:
                print("           peak growth MiB: " + ", ".join(
                    f"{k} {v:.0f}" for k, v in r["growth"].items()))
            if r["errors"]:  # e.g. a check after the load that failed without failing it
                print(f"           ERROR lines in the command's log: {len(r['errors'])}, the "
                      f"first: {r['errors'][0][:160]}")
            sys.stdout.flush()
        print(verdict(results))


def verdict(results: list[dict]) -> str:
    """The targets beside what this run measured: ratio ≤ 4× at every size, the tree's peak
    ≤ 1 GiB at every size and flat in N (the largest size's peak within 10 % of the smallest's)."""
    ratios = ", ".join(f"{r['rows']:,}: {r['ratio']:.2f}×" for r in results)
    peaks = ", ".join(f"{r['rows']:,}: {r['cchc_peak_mib']:,.0f} MiB" for r in results)
    fast = all(r["ratio"] <= MAX_RATIO for r in results)
    small = all(r["cchc_peak_mib"] <= MAX_TREE_MIB for r in results)
    by_size = sorted(results, key=lambda r: r["rows"])
    flat = by_size[-1]["cchc_peak_mib"] <= FLAT_WITHIN * by_size[0]["cchc_peak_mib"]
    flatness = "" if len(results) < 2 else f"; flat in N: {'met' if flat else 'NOT met'}"
    failed = sum(len(r["errors"]) for r in results)
    clean = "" if not failed else f"; {failed} ERROR line(s) in the command's log: see above"
    return (f"targets: ratio ≤ {MAX_RATIO:g}× ({ratios}): {'met' if fast else 'NOT met'}; "
            f"tree peak ≤ {MAX_TREE_MIB:,} MiB ({peaks}): {'met' if small else 'NOT met'}"
            f"{flatness}{clean}")


if __name__ == "__main__":
    main()
