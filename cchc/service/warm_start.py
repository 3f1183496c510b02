"""Start flow runs from a warm interpreter: the runner's children fork from a forkserver that
has already imported Prefect.

The runner starts every flow run in a new process (``multiprocessing`` *spawn*: a fresh
interpreter). Importing Prefect there costs 2 s on an idle 2-core machine and over 10 s on a
busy one, and Great Expectations another 3–4 s (30 s busy): most of the time from "file
dropped" to "rows visible". A *forkserver* is the standard library's answer: one helper process
imports the given modules once, and each run is forked from it, so a run starts with them
already loaded. Measured here under load: Prefect + flow module 12 s -> 2 s; GX import, context
and a first validation 30 s -> 0.8 s.

Forking a process that runs threads can deadlock the child, so only imports that leave no
worker pool running are preloaded (:data:`PRELOAD`): Prefect starts no thread on import; GX
pulls in numpy (OpenBLAS) and pyarrow, whose thread pools are rebuilt in a forked child (both
register at-fork handlers); polars and DuckDB start no compute pool on import (polars starts its
allocator's background threads, fork-aware, and an idle spill-file cleaner; DuckDB's threads
belong to a connection, and the forkserver opens none). So polars, DuckDB, GX and the flow
modules are loaded once, in the forkserver, and every run starts with them (measured: a flow
run's first warehouse open 0.85 s -> 0.2 s). What must never be preloaded is a module that
*computes* with polars at import (e.g. ``transforms.*`` builds frames at import, which starts
polars' thread pool and a tokio runtime): a child forked after that may hang. A test imports
:data:`PRELOAD` in a fresh interpreter and checks that no such pool runs
(:func:`compute_threads`).

How: ``prefect.flow_engine.run_flow_in_subprocess`` (used by the runner for flows it holds in
memory, i.e. added with ``Runner.aadd_flow``) asks ``multiprocessing.get_context("spawn")``;
this module gives that one module a ``multiprocessing`` whose "spawn" context is the
forkserver. Prefect 3.9.1 is pinned; ``CCHC_WARM_START=0`` turns this off.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.forkserver
import os
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from cchc.service.standby import StandbyContext, StandbyPool

log = logging.getLogger(__name__)

PRELOAD: tuple[str, ...] = (
    "prefect.flow_engine", "prefect.task_engine", "prefect.runner", "great_expectations",
    "polars", "duckdb", "pyarrow",
    "flows.ingest", "flows.pull", "flows.freshness", "cchc.pipeline", "expectations.validate",
    "warehouse.writer", "warehouse.reader", "sources.files", "sources.csv_stream",
    "cchc.dashboard.build", "cchc.notify",
)
# Thread names of compute pools that must not exist in the forkserver (polars' rayon pool is
# "polars-<n>", a tokio runtime "tokio-rt-worker").
_POOL_THREADS = ("polars-", "tokio-")
_SPILL_CLEANER = "polars-ooc-clea"  # idle, holds no lock a child needs


def compute_threads() -> list[str]:
    """Names of this process's threads that belong to a compute pool (Linux; else [])."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return []
    names = []
    for task in tasks.iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:
            continue
    return sorted(n for n in names if n.startswith(_POOL_THREADS) and n != _SPILL_CLEANER)


class _Multiprocessing(ModuleType):
    """``multiprocessing`` with "spawn" answered by a forkserver context."""

    def __init__(self, context: Any) -> None:
        super().__init__("multiprocessing")
        self._context = context

    def get_context(self, method: str | None = None) -> Any:
        return self._context if method == "spawn" else multiprocessing.get_context(method)

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)


_POOL: StandbyPool | None = None


def enable(preload: tuple[str, ...] = PRELOAD) -> bool:
    """Start the forkserver (preloading ``preload``) and route Prefect's flow runs through it:
    each run goes to the warm standby process (``cchc.service.standby``)."""
    global _POOL
    if os.environ.get("CCHC_WARM_START", "1") == "0" or "forkserver" not in \
            multiprocessing.get_all_start_methods():
        return False
    import prefect.flow_engine as flow_engine

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    multiprocessing.forkserver.ensure_running()
    _POOL = StandbyPool(context)
    flow_engine.multiprocessing = _Multiprocessing(StandbyContext(_POOL))  # type: ignore[attr-defined]
    log.info("flow runs start from a warm standby forked from a forkserver preloading %s",
             ", ".join(preload))
    threading.Thread(target=_warm_up, args=(context, _POOL), name="forkserver-warm-up",
                     daemon=True).start()
    return True


def disable() -> None:
    """At service stop: the waiting standby exits (it reads end-of-file)."""
    global _POOL
    if _POOL is not None:
        _POOL.close()
        _POOL = None


def _warm_up(context: Any, pool: StandbyPool) -> None:
    """Fork one no-op child (returns once the preloads are done; say so in the log), then the
    first standby."""
    start = time.monotonic()
    try:
        child = context.Process(target=int)
        child.start()
        child.join()
        log.info("flow-run forkserver warm after %.1f s", time.monotonic() - start)
        pool.prepare()
    except Exception as exc:  # e.g. Ctrl-C reached it mid-import; the next run restarts it
        log.warning("forkserver warm-up did not finish: %r", exc)
