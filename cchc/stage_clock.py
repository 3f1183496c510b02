"""Seconds spent per stage of a load, logged in one line so a slow load says where it went.

``bench/load_csv.py`` reads the lines (``stage timings: {...}``, ``load timings: {...}``,
``publish timings: {...}``) from ``cchc ingest``'s output; an operator reads them in the flow's
log. Two more lines say what each stage cost in CPU seconds, all threads of the process
together (``load cpu seconds: {...}``: on a shared machine wall seconds swing with the other
users' load, CPU seconds much less), and which stages raised the process's peak resident
memory, by how much (``load peak growth MiB: {...}``): where a memory budget goes.

A load's parts overlap (``cchc.pipeline._load_parts``: one part is written while the next ones
are prepared in other threads), so the stages inside ``parts`` run at the same time as each other:
their seconds add up to more than ``parts``, and a stage's CPU seconds and peak growth include
what the other thread did meanwhile. ``parts`` itself is the wall time of all of them.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_KIB = 1 if sys.platform != "darwin" else 1024  # ru_maxrss: KiB on Linux, bytes on macOS


def peak_rss_mib() -> float:
    """The process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _KIB / 1024


class StageClock:
    """Wall seconds per named stage, summed over the parts of one load, and how much each stage
    raised the process's peak resident memory."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.peak_growth: dict[str, float] = {}
        self._lock = threading.Lock()  # parts are prepared in several threads at once

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start, cpu, peak = time.perf_counter(), time.process_time(), peak_rss_mib()
        try:
            yield
        finally:
            seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
            grown = peak_rss_mib() - peak
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + seconds
                self.cpu[name] = self.cpu.get(name, 0.0) + cpu_s
                if grown > 0:
                    self.peak_growth[name] = self.peak_growth.get(name, 0.0) + grown

    def log(self, logger: logging.Logger, step: str, what: str | None = None) -> None:
        """One line: ``<step> timings: {"<stage>": seconds, ...}`` (``what``: e.g. the load id);
        ``<step> cpu seconds: {...}``; ``<step> peak growth MiB: {...}`` when a stage raised the
        peak."""
        suffix = f" ({what})" if what else ""
        rounded = {k: round(v, 2) for k, v in self.seconds.items()}
        logger.info("%s timings: %s%s", step, json.dumps(rounded), suffix)
        cpu = {k: round(v, 2) for k, v in self.cpu.items()}
        logger.info("%s cpu seconds: %s%s", step, json.dumps(cpu), suffix)
        if self.peak_growth:
            grown = {k: round(v) for k, v in self.peak_growth.items() if v >= 0.5}
            logger.info("%s peak growth MiB: %s (peak %.0f MiB)%s", step, json.dumps(grown),
                        peak_rss_mib(), suffix)
