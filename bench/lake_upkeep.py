"""Benchmark: what the lake's upkeep removes and costs after a series of loads and publishes.

Loads N monthly exports of the scale scenario (``cchc simulate export --from --to``) one by one
through the real path (``stage_file``, ``load_batch``, ``publish``) into an embedded lake (SQLite
catalog), then runs ``warehouse.upkeep`` as if the first half of the publications were older
than the retention window (``kept_since`` = the middle publication; nothing counts as recent).
Prints files and snapshots before and after, the upkeep's time, and checks that the current and
a kept publication give the same figures as before.

    .venv/bin/python bench/lake_upkeep.py [--months 12] [--dossiers 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CCHC = Path(sys.executable).with_name("cchc")


def _figures(settings, as_of: datetime | None = None) -> list[tuple]:
    from warehouse.reader import open_snapshot

    con = open_snapshot(settings, as_of=as_of)
    try:
        return con.execute("SELECT unit_code, count(*), count(finished_date) FROM "
                           "core_onestop__dossiers GROUP BY ALL ORDER BY ALL").fetchall()
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--dossiers", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cchc-lake-upkeep-") as tmp:
        work = Path(tmp)
        os.environ.update(CCHC_DATA_DIR=str(work / "data"), CCHC_WAREHOUSE_BACKEND="ducklake",
                          GX_ANALYTICS_ENABLED="false")
        os.environ.pop("CCHC_CONFIG", None)
        from cchc.config import load_settings
        from cchc.pipeline import load_batch, stage_file
        from warehouse.upkeep import run_upkeep
        from warehouse.writer import publish

        settings = load_settings()
        stamps, load_s = [], 0.0
        for m in range(args.months):
            first = date(2021 + m // 12, m % 12 + 1, 1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            csv = work / f"month{m:02d}.csv"
            subprocess.run([str(CCHC), "simulate", "export", "--scenario", "scale", "--dossiers",
                            str(args.dossiers), "--from", str(first), "--to", str(last),
                            "--out", str(csv)], check=True, capture_output=True, cwd=work)
            t0 = time.perf_counter()
            summary = load_batch(settings, stage_file(
                settings, csv, hashlib.sha256(csv.read_bytes()).hexdigest()))
            publish(settings)
            load_s += time.perf_counter() - t0
            assert summary.status == "succeeded", summary
            time.sleep(0.01)
            stamps.append(datetime.now(UTC))
        middle, kept = stamps[args.months // 2], stamps[args.months // 2 + 1]
        before = {"now": _figures(settings), "kept": _figures(settings, kept)}
        t0 = time.perf_counter()
        report = run_upkeep(settings, kept_since=middle, keep_recent=timedelta(0))
        took = time.perf_counter() - t0
        assert _figures(settings) == before["now"], "the current figures changed"
        assert _figures(settings, kept) == before["kept"], "a kept publication changed"
        parquet = sum(1 for _ in (settings.lake_dir / "files").rglob("*.parquet"))
        print(json.dumps({"loads": args.months, "load_and_publish_s": round(load_s, 1),
                          "upkeep_s": round(took, 2), "parquet_files_on_disk_after": parquet,
                          **report.as_dict()}, indent=1))


if __name__ == "__main__":
    main()
