"""Benchmark of the dossier-file readers (not collected by pytest: run it by hand).

    .venv/bin/python tests/sources/bench_onestop_files.py [--csv-rows 1000000] [--xlsx-rows 100000]

Writes a CSV and an XLSX export with realistic columns to a temporary folder, then reads each in
a fresh process and prints wall time and peak RSS (baseline after imports shown separately).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from onestop_fixtures import HEADER, dossier_row, write_xlsx  # noqa: E402

_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from sources.onestop.files import read_dossier_file

def hwm_mib():  # this process's own peak RSS (ru_maxrss would include the parent's, on Linux)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

base = hwm_mib()
t = time.perf_counter()
raw = read_dossier_file(Path({path!r}))
dt = time.perf_counter() - t
print(f"{{raw.data_rows}} rows, {{dt:.2f}} s, peak RSS {{hwm_mib():.0f}} MiB "
      f"(after imports {{base:.0f}} MiB), notes={{raw.notes}}")
"""


def write_csv(path: Path, n: int) -> None:
    """n rows built column-wise with polars (fast), same shape as the fixtures' rows."""
    sample = [dossier_row(i) for i in range(1000)]
    idx = pl.int_range(0, n, eager=True)
    columns = {"STT": (idx + 1).cast(pl.String)}
    for c, label in enumerate(HEADER[1:]):
        pool = pl.Series([row[c] or None for row in sample], dtype=pl.String)
        columns[label] = pool.gather(idx % 1000)
    frame = pl.DataFrame(columns).with_columns(
        pl.format("000.00.12.H21-210315-{}", (idx % 10000).cast(pl.String)).alias("Mã hồ sơ")
    )
    frame.write_csv(path)


def measure(path: Path) -> str:
    code = _CHILD.format(root=str(HERE.parents[1]), path=str(path))
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, xlsx_path = Path(tmp) / "big.csv", Path(tmp) / "big.xlsx"
        t = time.perf_counter()
        write_csv(csv_path, args.csv_rows)
        print(
            f"wrote {csv_path.stat().st_size / 2**20:.0f} MiB CSV in {time.perf_counter() - t:.1f} s"
        )
        t = time.perf_counter()
        rows = (dossier_row(i, dates_as_cells=i % 2 == 0) for i in range(args.xlsx_rows))
        write_xlsx(xlsx_path, rows, total=args.xlsx_rows, constant_memory=True)
        print(
            f"wrote {xlsx_path.stat().st_size / 2**20:.0f} MiB XLSX in {time.perf_counter() - t:.1f} s"
        )
        print("CSV :", measure(csv_path))
        print("XLSX:", measure(xlsx_path))


if __name__ == "__main__":
    main()
