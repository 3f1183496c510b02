"""Seconds spent per stage of a load, logged in one line so a slow load says where it went.

``bench/load_csv.py`` reads the lines (``stage timings: {...}``, ``load timings: {...}``,
``publish timings: {...}``) from ``cchc ingest``'s output; an operator reads them in the flow's
log.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageClock:
    """Wall seconds per named stage, summed over the parts of one load."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def log(self, logger: logging.Logger, step: str, what: str | None = None) -> None:
        """One line: ``<step> timings: {"<stage>": seconds, ...}`` (``what``: e.g. the load id)."""
        rounded = {k: round(v, 2) for k, v in self.seconds.items()}
        logger.info("%s timings: %s%s", step, json.dumps(rounded), f" ({what})" if what else "")
