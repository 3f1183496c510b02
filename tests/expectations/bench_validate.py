"""Benchmark of ``expectations.validate`` (not collected by pytest: run it by hand).

    .venv/bin/python tests/expectations/bench_validate.py [--rows 1000000] [--parts 4]
        [--chunk-rows 250000] [--broken 0.01] [--repeat 2] [--mode both|whole|parts]

Builds a synthetic core/raw pair (``synthetic_dossiers``), warms GX up on a few rows (import,
context, suites: paid once per process), then times

* one ``validate`` call on all rows with ``--chunk-rows`` chunks, and
* ``--parts`` calls on equal slices, the way ``cchc.pipeline`` validates staged parquet parts,

printing wall and CPU seconds and the peak RSS each adds on top of the frames already in memory
(sampled every 5 ms).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from synthetic_dossiers import make_frames  # noqa: E402

from warehouse.tables import CORE_ONESTOP_DOSSIERS  # noqa: E402


def _status_mib(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


class _PeakRss:
    """Sample this process's RSS every few ms while a block runs (VmHWM cannot be reset here)."""

    def __enter__(self) -> _PeakRss:
        self.before = self.peak = _status_mib("VmRSS")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _status_mib("VmRSS"))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_mib("VmRSS"))


def _timed(label: str, fn) -> None:
    gc.collect()
    with _PeakRss() as rss:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU, "
        f"peak RSS +{rss.peak - rss.before:.0f} MiB over {rss.before:.0f} MiB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    ap.add_argument("--broken", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--mode",
        choices=("both", "whole", "parts"),
        default="both",
        help="run one shape only, for a peak RSS not blurred by the other's freed memory",
    )
    args = ap.parse_args()

    t = time.perf_counter()
    core, raw, counts = make_frames(args.rows, broken_share=args.broken)
    print(
        f"{args.rows} rows, {sum(counts.values())} broken, built in {time.perf_counter() - t:.1f} s"
    )

    t = time.perf_counter()
    from expectations.validate import validate

    validate(core.head(10), raw.head(10), CORE_ONESTOP_DOSSIERS)
    print(f"warm-up (import GX, context, suites, first call): {time.perf_counter() - t:.1f} s")

    table = CORE_ONESTOP_DOSSIERS
    result = {}

    def whole() -> None:
        result["v"] = validate(core, raw, table, chunk_rows=args.chunk_rows)

    step = -(-args.rows // args.parts)

    def parts() -> None:
        for off in range(0, args.rows, step):
            validate(core.slice(off, step), raw.slice(off, step), table, chunk_rows=args.chunk_rows)

    for i in range(args.repeat):
        if args.mode in ("both", "whole"):
            _timed(f"[{i + 1}] one call, chunk_rows={args.chunk_rows}", whole)
        if args.mode in ("both", "parts"):
            _timed(f"[{i + 1}] {args.parts} calls of {step} rows", parts)
    if "v" not in result:
        whole()
    v = result["v"]
    print(
        f"quarantined {int(v.quarantined.sum())}, warned {int(v.warned.sum())}, "
        f"{len(v.results)} expectations, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
