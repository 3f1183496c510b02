"""Benchmark: merge N core rows into a warehouse that already holds N rows.

    .venv/bin/python tests/warehouse/bench_merge.py --rows 1000000

Half of the second batch are new dossiers, half are new versions of stored ones (of which half
are newer and win, half older and lose). Prints seconds per step, the counts, peak RSS and file
sizes. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from cchc.config import Settings
from warehouse.personal import personal_path
from warehouse.tables import CORE_ONESTOP_DOSSIERS
from warehouse.writer import Warehouse

T0 = datetime(2021, 1, 1, tzinfo=UTC)
WORDS = ["Xã Ia Rsươm", "Tư pháp", "Chứng thực bản sao từ bản chính", "UBND huyện Krông Pa", "x"]


def batch(n: int, first: int, shift_s: int, seed: int) -> pl.DataFrame:
    """n core rows with dossier numbers first…first+n-1; versions shifted by shift_s seconds."""
    rng = np.random.default_rng(seed)
    idx = np.arange(first, first + n)
    # the reception time depends on the dossier only, so two batches agree on it
    offset = pl.Series((idx * 7_919 % (730 * 86_400)) * 1_000_000)
    text = {c.name: pl.Series(rng.choice(WORDS, n)) for c in CORE_ONESTOP_DOSSIERS.columns
            if c.type == "VARCHAR"}  # fmt: skip
    frame = pl.DataFrame(text).with_columns(
        dossier_code=pl.Series([f"000.00.12.H21-210315-{i:07d}" for i in idx]),
        unit_code=pl.Series(rng.choice(["24076", "24079", "24082", "637"], n)),
        channel=pl.Series(rng.integers(1, 4, n), dtype=pl.Int8),
        status=pl.Series(rng.integers(2, 11, n), dtype=pl.Int8),
        service_level=pl.Series(rng.integers(2, 5, n), dtype=pl.Int8),
        digitisation=pl.Series(rng.integers(0, 4, n), dtype=pl.Int8),
        electronic_result=pl.Series(rng.integers(0, 2, n).astype(bool)),
        paid_online=pl.Series(rng.integers(0, 2, n).astype(bool)),
        source_row=pl.Series(idx),
        received_at=pl.lit(T0) + pl.duration(microseconds=offset),
        updated_at=pl.lit(T0) + pl.duration(microseconds=offset + shift_s * 1_000_000),
        received_date=pl.lit(date(2021, 1, 1)) + pl.duration(days=offset // 86_400_000_000),
        due_date=pl.lit(date(2021, 1, 15)) + pl.duration(days=offset // 86_400_000_000),
        dq_warnings=pl.Series([["warning"] if i % 10 == 0 else None for i in idx]),
    )
    frame = frame.with_columns(row_hash=pl.col("dossier_code") + pl.lit(f"#{seed}"))
    return frame.drop("load_id")


def _since(wall: float, cpu: float) -> str:
    """Wall and CPU seconds (CPU of all threads: on a shared machine wall time lies)."""
    return f"{time.perf_counter() - wall:6.2f} s wall {time.process_time() - cpu:6.2f} s cpu"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    n = args.rows
    base = args.dir or Path(tempfile.mkdtemp(prefix="cchc-bench-"))
    settings = Settings(data_dir=base)
    first = batch(n, 0, 0, seed=1)
    # second batch: keys n/2 … 3n/2; the stored half alternates newer (+1 h) and older (-1 h)
    second = batch(n, n // 2, 0, seed=2).with_columns(
        updated_at=pl.col("updated_at")
        + pl.when(pl.col("source_row") % 2 == 0).then(pl.duration(hours=1))
        .otherwise(pl.duration(hours=-1))
    )  # fmt: skip
    expected = (n // 2, (n - n // 2 + 1) // 2)
    print(f"{n:,} rows per batch, frames {first.estimated_size() / 2**20:.0f} MiB each, in {base}")
    with Warehouse.open(settings) as wh:
        for label, frame in (("insert into empty", first), ("merge into full", second),
                             ("same batch again", second)):  # fmt: skip
            t, cpu = time.perf_counter(), time.process_time()
            with wh.transaction():
                result = wh.write(CORE_ONESTOP_DOSSIERS, frame, load_id=label)
            print(f"{label:18} {_since(t, cpu)}  {result}")
            if label == "merge into full":
                assert (result.inserted, result.updated) == expected, result
        t, cpu = time.perf_counter(), time.process_time()
        wh.con.execute("CHECKPOINT")
        print(f"{'checkpoint':18} {_since(t, cpu)}")
        t, cpu = time.perf_counter(), time.process_time()
        wh.publish()
        print(f"{'publish':18} {_since(t, cpu)}")
        rows, keys = wh.con.execute(
            "SELECT count(*), count(DISTINCT dossier_code) FROM core_onestop__dossiers"
        ).fetchone()
    assert rows == keys == n + n // 2, (rows, keys)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"rows {rows:,}; peak RSS {rss:.2f} GiB; private "
          f"{settings.warehouse_path.stat().st_size / 2**20:.0f} MiB, personal "
          f"{personal_path(settings).stat().st_size / 2**20:.0f} MiB, published "
          f"{settings.published_path.stat().st_size / 2**20:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
