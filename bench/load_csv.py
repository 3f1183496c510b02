"""Benchmark: load N dossiers from a CSV export end to end, as a ratio to DuckDB's own read.

The baseline, measured in the same run on the same file, is DuckDB's
``CREATE TABLE AS SELECT * FROM read_csv(...)`` — the floor any load is measured against
(README.md, "Development"). cchc's figure covers the whole load: read the CSV into raw frames,
stage, transform, validate with Great Expectations, quarantine, merge into DuckDB, audit, publish.
Prefect's fixed start-up cost (≈ 10 s, not proportional to N) is left out: the flow calls these
same steps.

Each side runs in its own child process, so peak memory (ru_maxrss) is that side's alone.

    python bench/load_csv.py --rows 1000000 [--rows 250000 ...]

Prints one line per size: seconds, ratio, peak RSS. Targets: ratio ≤ 4, peak RSS flat in N
past ~1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run python code in a child; return (wall seconds, peak RSS MiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    out = proc.stdout.read().decode() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed ({status}):\n{code}")
    return wall, usage.ru_maxrss / 1024, out


def make_csv(rows: int, path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "cchc.cli", "simulate", "export", "--format", "csv", "--out", str(path),
         "--scenario", "scale", "--dossiers", str(rows)],
        check=True, cwd=ROOT,
    )


BASELINE = """
import duckdb, time
con = duckdb.connect({db!r})
t = time.perf_counter()
con.execute("CREATE TABLE t AS SELECT * FROM read_csv({csv!r})")
con.close()
"""

CCHC = """
import json, time
from pathlib import Path
from cchc.config import load_settings
from cchc import pipeline
from sources.onestop.files import file_sha256
s = load_settings()
path = Path({csv!r})
t0 = time.perf_counter()
batch = pipeline.stage_file(s, path, file_sha256(path))
t1 = time.perf_counter()
summary = pipeline.load_batch(s, batch)
t2 = time.perf_counter()
pipeline.publish(s)
t3 = time.perf_counter()
pipeline.cleanup(batch)
print(json.dumps(dict(stage=t1 - t0, load=t2 - t1, publish=t3 - t2, rows_in=summary.rows_in,
                      loaded=summary.rows_loaded, quarantined=summary.rows_quarantined,
                      balanced=summary.balanced, status=summary.status)))
"""


def bench(rows: int, workdir: Path) -> dict:
    csv = workdir / f"dossiers-{rows}.csv"
    if not csv.exists():
        make_csv(rows, csv)
    baseline_db, data_dir = workdir / f"baseline-{rows}.duckdb", workdir / f"data-{rows}"
    baseline_db.unlink(missing_ok=True)  # both sides start empty on every run
    shutil.rmtree(data_dir, ignore_errors=True)
    base_s, base_mb, _ = _run(BASELINE.format(db=str(baseline_db), csv=str(csv)))
    env = dict(os.environ, CCHC_DATA_DIR=str(data_dir), GX_ANALYTICS_ENABLED="false")
    ours_s, ours_mb, out = _run(CCHC.format(csv=str(csv)), env=env)
    detail = json.loads(out.strip().splitlines()[-1])
    return dict(rows=rows, csv_mb=csv.stat().st_size / 2**20, baseline_s=base_s, baseline_peak_mb=base_mb,
                cchc_s=ours_s, cchc_peak_mb=ours_mb, ratio=ours_s / base_s, **detail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="dossier rows (repeatable)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here (default: a temp dir)")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000]
    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"{'rows':>10} {'csv MB':>8} {'duckdb s':>9} {'cchc s':>8} {'ratio':>6} "
              f"{'duckdb MiB':>10} {'cchc MiB':>9}  stage/load/publish s   accounted")
        for rows in sizes:
            r = bench(rows, workdir)
            print(f"{r['rows']:>10,} {r['csv_mb']:>8.0f} {r['baseline_s']:>9.2f} {r['cchc_s']:>8.2f} "
                  f"{r['ratio']:>6.2f} {r['baseline_peak_mb']:>10.0f} {r['cchc_peak_mb']:>9.0f}  "
                  f"{r['stage']:.1f}/{r['load']:.1f}/{r['publish']:.1f}   "
                  f"{'yes' if r['balanced'] else 'NO'} ({r['loaded']:,} loaded, {r['quarantined']:,} quarantined)")


if __name__ == "__main__":
    main()
