"""Benchmark: does publishing grow with the warehouse?

The same increment — an export of ``--increment`` new dossiers (the simulator's CSV) — is
loaded twice: onto an empty warehouse (the baseline, same run) and onto one that already holds
``--size`` dossiers. Each time the load (stage, transform, validate, merge) and the publish
(``Warehouse.publish``: what readers wait for after the load) are timed apart, in one warm
process, after a first throwaway load has paid the imports and Great Expectations' set-up.

The large warehouse is filled quickly and realistically: the increment is loaded once into a
template, and its raw versions and core rows are copied under suffixed keys until the core
table holds ``--size`` dossiers (the increment's own codes stay new).

    python bench/publish_growth.py [--size 1000000] [--increment 5000] [--repeat 3]
                                   [--backend duckdb|ducklake] [--s3]
    make bench BENCH_SIZE=5000000          # the issue's 5M figure (or CCHC_BENCH_SIZE=...)

``--backend ducklake`` measures the same on the DuckLake warehouse (embedded SQLite catalog,
Parquet files): there publishing records the committed snapshot instead of copying a file.
``--s3`` (with ``--backend ducklake``) puts the lake's Parquet files in a bucket of a moto S3
server started in a separate process on loopback (a stand-in: Python, in memory, no network),
the catalog staying a local SQLite file.

The increment is loaded ``--repeat`` times onto each warehouse, alternating between them, each
time as new dossiers (its codes extended by the run's number), and the medians are compared: a
single load per side moved the ratio by more than the target's margin between runs on a shared
2-core machine (2.4× to 4.8× for the same code).

Both warehouses have published twice before the increment, as one in service has: the publish
measured is then the usual one, the snapshot before last brought up to date
(``warehouse.snapshot_spare``). A publish that copies the whole file (the first two, or one
while a reader still holds the snapshot before last) is timed on the large warehouse too.

Targets: publish after the increment onto ``--size`` ≤ 1.5× the same onto an empty warehouse;
the whole increment (load + publish) ≤ 1.2×.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cchc.config import S3Settings, Settings, WarehouseSettings  # noqa: E402

SIM = {"scenario": "scale", "years": 1, "dirt": "clean", "seed": 17}


def export_increment(tmp: Path, dossiers: int) -> Path:
    from simulator.exports import export_dossiers
    from simulator.testing import simulated_dataset

    ds = simulated_dataset(**SIM, dossiers=dossiers)
    return export_dossiers(tmp / "increment.csv", dataset=ds).path


def increment_variant(export: Path, index: int) -> Path:
    """Increment ``index`` of a repeated run: the export with every dossier code extended by
    the index (new dossiers of the same shape each time, so no run loads what another did);
    index 0 is the export itself."""
    if index == 0:
        return export
    import polars as pl

    frame = pl.read_csv(export, infer_schema=False, encoding="utf8")
    code = frame.columns[1]  # "Mã hồ sơ", after "STT" (simulator.exports)
    if code != "Mã hồ sơ":
        raise SystemExit(f"the increment's second column is {code!r}, not the dossier code")
    path = export.with_name(f"{export.stem}-{index}.csv")
    frame.with_columns(pl.col(code) + str(index)).write_csv(path)
    return path


def spread(values: list[float]) -> str:
    """``median (min–max, n runs)`` of seconds."""
    if len(values) == 1:
        return f"{values[0]:.2f} s"
    return f"{median(values):.2f} s ({min(values):.2f}–{max(values):.2f}, {len(values)} runs)"


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


def publish_twice(settings: Settings) -> None:
    """Publish twice, as a warehouse in service has: from then on a publish brings the
    snapshot before last up to date (``warehouse.snapshot_spare``) instead of copying."""
    from warehouse.writer import Warehouse

    with Warehouse.session(settings) as wh:
        wh.publish()
        wh.publish()


def publish_by_copy(settings: Settings) -> float:
    """Seconds of a publish that copies the whole file (no usable spare)."""
    from warehouse import snapshot_spare
    from warehouse.writer import Warehouse

    with Warehouse.session(settings) as wh:
        snapshot_spare.discard(settings.warehouse_path)
        t = time.perf_counter()
        wh.publish()
        return time.perf_counter() - t


def fill(settings: Settings, template: Settings, size: int) -> int:
    """Copy the template's raw versions and core rows under suffixed keys up to ``size``
    dossiers; returns the core row count."""
    from sources.registry import source
    from warehouse import raw_files
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
                    copies_sql = (f"SELECT {_copied(con, table)} "
                                  f"FROM tmpl.{table} t, range({lo}, {hi + 1}) c(i)")
                    if table == raw and wh.raw_root is not None:  # Parquet files, one write
                        raw_files.append(con, spec.raw_table, con.execute(copies_sql).pl(),
                                         wh.raw_root, keys_new=True)
                    else:
                        con.execute(f"INSERT INTO {table} {copies_sql}")
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


def _size(settings: Settings, s3=None) -> int:
    """Bytes of the warehouse: the private file, or the lake's catalog and data files."""
    if settings.warehouse.backend == "duckdb":  # the file and the raw layer's Parquet files
        return settings.warehouse_path.stat().st_size + sum(
            p.stat().st_size for p in settings.raw_dir.rglob("*") if p.is_file())
    local = sum(p.stat().st_size for p in settings.lake_dir.rglob("*") if p.is_file())
    if s3 is None:
        return local
    bucket, _, prefix = settings.warehouse.data_path.removeprefix("s3://").partition("/")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return local + sum(o["Size"] for page in pages for o in page.get("Contents", []))


BUCKET, KEYS = "cchc-bench", ("bench-key", "bench-secret")


@contextmanager
def moto_s3() -> Iterator[tuple[str, object]]:
    """A moto S3 server in its own process on a free loopback port, with the bench's bucket;
    yields (endpoint, boto3 client). The keys are set in this process's environment."""
    import boto3

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["CCHC_S3_ACCESS_KEY_ID"], os.environ["CCHC_S3_SECRET_ACCESS_KEY"] = KEYS
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=KEYS[0], aws_secret_access_key=KEYS[1])
    try:
        for _ in range(100):
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                time.sleep(0.1)
        else:
            raise SystemExit(f"the moto S3 server did not start on {endpoint}")
        yield endpoint, client
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("CCHC_BENCH_SIZE",
                                                                         1_000_000)))
    parser.add_argument("--increment", type=int, default=5000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="increments loaded onto each warehouse, alternating (medians)")
    parser.add_argument("--backend", choices=("duckdb", "ducklake"), default="duckdb")
    parser.add_argument("--s3", action="store_true",
                        help="the lake's data in a moto S3 server (with --backend ducklake)")
    args = parser.parse_args()
    if args.s3 and args.backend != "ducklake":
        parser.error("--s3 needs --backend ducklake")
    with moto_s3() if args.s3 else _no_s3() as (endpoint, client):
        run(args, endpoint, client)


@contextmanager
def _no_s3() -> Iterator[tuple[None, None]]:
    yield None, None


def run(args: argparse.Namespace, endpoint: str | None, client) -> None:
    backend = WarehouseSettings(backend=args.backend)

    def lake(name: str) -> Settings:
        settings = Settings(data_dir=tmp / name, warehouse=backend)
        if endpoint is None:
            return settings
        return replace(settings, warehouse=replace(
            backend, data_path=f"s3://{BUCKET}/{name}/",
            s3=S3Settings(endpoint=endpoint, url_style="path")))

    tmp = Path(tempfile.mkdtemp(prefix="cchc-publish-bench-"))
    try:
        export = export_increment(tmp, args.increment)
        template = Settings(data_dir=tmp / "template")
        load_and_publish(template, export)  # warm-up: imports, GX, first open
        if args.backend != "duckdb":  # the template stays a DuckDB file (fill attaches it)
            load_and_publish(lake("warm"), export)
        empty, big = lake("empty"), lake("big")
        publish_twice(empty)
        t = time.perf_counter()
        held = fill(big, template, args.size)
        fill_s = time.perf_counter() - t
        publish_twice(big)
        # the same increments onto each warehouse, alternating, so that the machine's noise
        # falls on both sides alike; medians compared
        onto_0: list[tuple[float, float]] = []
        onto_n: list[tuple[float, float]] = []
        for index in range(args.repeat):
            increment = increment_variant(export, index)
            *seconds, rows = load_and_publish(empty, increment)
            onto_0.append(tuple(seconds))
            *seconds, _ = load_and_publish(big, increment)
            onto_n.append(tuple(seconds))
        copy_n = publish_by_copy(big) if args.backend == "duckdb" else None
        size_mb = _size(big, client) / 2**20
        where = " (data in moto S3)" if endpoint else ""
        print(f"backend {args.backend}{where}; increment: {rows:,} dossiers (CSV); large warehouse: "
              f"{held:,} dossiers, "
              f"{size_mb:,.0f} MB (filled in {fill_s:.0f} s)")
        publish_0, publish_n = [p for _, p in onto_0], [p for _, p in onto_n]
        print(f"publish after the increment: {spread(publish_0)} onto an empty warehouse "
              f"(baseline), {spread(publish_n)} onto {held:,}: "
              f"{median(publish_n) / median(publish_0):.1f}x (target <= 1.5x)")
        if copy_n is not None:
            print(f"(a publish that copies the file — the first two, or one while a reader "
                  f"still holds the snapshot before last: {copy_n:.2f} s onto {held:,})")
        whole_0, whole_n = [sum(run) for run in onto_0], [sum(run) for run in onto_n]
        print(f"whole increment (load + publish): {spread(whole_0)} onto empty (baseline), "
              f"{spread(whole_n)} onto {held:,}: {median(whole_n) / median(whole_0):.2f}x "
              f"(target <= 1.2x)")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
