"""Benchmark: does publishing grow with the warehouse?

The same increment — an export of ``--increment`` new dossiers (the simulator's CSV) — is
loaded twice: onto an empty warehouse (the baseline, same run) and onto one that already holds
``--size`` dossiers. Each time the load (stage, transform, validate, merge) and the publish
(``Warehouse.publish``: what readers wait for after the load) are timed apart, in one warm
process, after a first throwaway load has paid the imports and Great Expectations' set-up.

The large warehouse is filled quickly and realistically: the increment is loaded once into a
template, and its raw versions and core rows are copied under suffixed keys until the core
table holds ``--size`` dossiers (the increment's own codes stay new).

    python bench/publish_growth.py [--size 1000000] [--increment 5000] [--backend duckdb|ducklake]
    make bench BENCH_SIZE=5000000          # the issue's 5M figure (or CCHC_BENCH_SIZE=...)

``--backend ducklake`` measures the same on the DuckLake warehouse (embedded SQLite catalog,
Parquet files): there publishing records the committed snapshot instead of copying a file.

Targets: publish after the increment onto ``--size`` ≤ 1.5× the same onto an empty warehouse;
the whole increment (load + publish) ≤ 1.2×.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cchc.config import Settings, WarehouseSettings  # noqa: E402

SIM = {"scenario": "scale", "years": 1, "dirt": "clean", "seed": 17}


def export_increment(tmp: Path, dossiers: int) -> Path:
    from simulator.exports import export_dossiers
    from simulator.testing import simulated_dataset

    ds = simulated_dataset(**SIM, dossiers=dossiers)
    return export_dossiers(tmp / "increment.csv", dataset=ds).path


def load_and_publish(settings: Settings, export: Path) -> tuple[float, float, int]:
    """(seconds to stage and load, seconds to publish, rows in) of one file."""
    from cchc import pipeline
    from sources.files import file_sha256
    from warehouse.writer import Warehouse

    t0 = time.perf_counter()
    batch = pipeline.stage_file(settings, export, file_sha256(export))
    with Warehouse.session(settings) as wh:
        summary = pipeline.load_batch(settings, batch)
        t1 = time.perf_counter()
        wh.publish()
        t2 = time.perf_counter()
    pipeline.cleanup(batch)
    if summary.status != "succeeded":
        raise SystemExit(f"the increment did not load: {summary.status} {summary.message}")
    return t1 - t0, t2 - t1, summary.rows_in


def fill(settings: Settings, template: Settings, size: int) -> int:
    """Copy the template's raw versions and core rows under suffixed keys up to ``size``
    dossiers; returns the core row count."""
    from sources.registry import source
    from warehouse.ddl import literal
    from warehouse.writer import Warehouse

    spec = source("onestop")
    core, raw = spec.core_table.name, spec.raw_table.name
    with Warehouse.session(settings) as wh:
        con = wh.con
        con.execute(f"ATTACH {literal(str(template.warehouse_path))} AS tmpl (READ_ONLY)")
        per_copy = con.execute(f"SELECT count(*) FROM tmpl.{core}").fetchone()[0]
        copies = max(1, -(-size // per_copy))
        for lo in range(1, copies + 1, 50):  # 50 copies per transaction: memory stays bounded
            hi = min(copies, lo + 49)
            with wh.transaction():
                for table in (core, raw):
                    con.execute(f"INSERT INTO {table} SELECT {_copied(con, table)} "
                                f"FROM tmpl.{table} t, range({lo}, {hi + 1}) c(i)")
        con.execute("DETACH tmpl")
        if settings.warehouse.backend == "duckdb":
            con.execute("CHECKPOINT")
        wh.publish()
        return con.execute(f"SELECT count(*) FROM {core}").fetchone()[0]


def _copied(con, table: str) -> str:
    """``t.* REPLACE (...)``: every text column gets the copy number appended (keys stay
    unique, and values differ as real dossiers' do, so the file compresses like a real one)."""
    texts = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'tmpl' "
        "AND table_name = ? AND data_type = 'VARCHAR'", [table]).fetchall()]
    return "t.* REPLACE (" + ", ".join(
        f"t.\"{c}\" || '~' || c.i AS \"{c}\"" for c in texts) + ")"


def _size(settings: Settings) -> int:
    """Bytes of the warehouse: the private file, or the lake's catalog and data files."""
    if settings.warehouse.backend == "duckdb":
        return settings.warehouse_path.stat().st_size
    return sum(p.stat().st_size for p in settings.lake_dir.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("CCHC_BENCH_SIZE",
                                                                         1_000_000)))
    parser.add_argument("--increment", type=int, default=5000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--backend", choices=("duckdb", "ducklake"), default="duckdb")
    args = parser.parse_args()
    backend = WarehouseSettings(backend=args.backend)

    tmp = Path(tempfile.mkdtemp(prefix="cchc-publish-bench-"))
    try:
        export = export_increment(tmp, args.increment)
        template = Settings(data_dir=tmp / "template")
        load_and_publish(template, export)  # warm-up: imports, GX, first open
        if args.backend != "duckdb":  # the template stays a DuckDB file (fill attaches it)
            load_and_publish(Settings(data_dir=tmp / "warm", warehouse=backend), export)
        empty = Settings(data_dir=tmp / "empty", warehouse=backend)
        load_0, publish_0, rows = load_and_publish(empty, export)
        big = Settings(data_dir=tmp / "big", warehouse=backend)
        t = time.perf_counter()
        held = fill(big, template, args.size)
        fill_s = time.perf_counter() - t
        load_n, publish_n, _ = load_and_publish(big, export)
        size_mb = _size(big) / 2**20
        print(f"backend {args.backend}; increment: {rows:,} dossiers (CSV); large warehouse: "
              f"{held:,} dossiers, "
              f"{size_mb:,.0f} MB (filled in {fill_s:.0f} s)")
        print(f"publish after the increment: {publish_0:.2f} s onto an empty warehouse "
              f"(baseline), {publish_n:.2f} s onto {held:,}: {publish_n / publish_0:.1f}x "
              f"(target <= 1.5x)")
        whole_0, whole_n = load_0 + publish_0, load_n + publish_n
        print(f"whole increment (load + publish): {whole_0:.2f} s onto empty (baseline), "
              f"{whole_n:.2f} s onto {held:,}: {whole_n / whole_0:.2f}x (target <= 1.2x)")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
