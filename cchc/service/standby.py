"""A warm worker for the next flow run: one process stands by with everything loaded.

A flow run forked from the forkserver (``cchc.service.warm_start``) starts with the modules
loaded, but not *warm*: the first transform, the Great Expectations context, the suites, the
shape check and DuckDB's first connection are built in every run again (3–5 s of a 1,000-row
file's 6 s on a busy 2-core machine). They cannot be built in the forkserver itself, because
running polars there starts the thread pool that a forked child must not inherit. So the
service keeps one **standby** process, forked from the forkserver ahead of need: it warms itself
up (imports the transforms, builds the GX runtime and suites, transforms and validates an empty
batch of each system, opens DuckDB in memory) and then waits on a pipe. When the runner starts a
flow run, the run is handed to the standby, which runs it exactly as a freshly started process
would (same entry point, same environment); a new standby is forked at once for the next run.

Each run still has a process of its own: the runner watches, cancels and kills it by its pid as
before, a crash takes down one run, and memory goes back to the system when the run ends. The
cost is one idle process (~300 MB) while the service runs. ``CCHC_WARM_START=0`` turns the
forkserver and the standby off.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# Imported in the standby only (they compute with polars at import: never in the forkserver).
WARM_MODULES: tuple[str, ...] = (
    "transforms.onestop_dossiers", "transforms.eoffice_documents", "flows.ingest", "flows.pull",
)


def warm_up() -> list[str]:
    """Load and exercise what a load needs, on empty batches; returns what could not be warmed
    (never raises: a cold run is slower, not wrong)."""
    failed = []
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"{name}: {exc!r}")
    try:
        import duckdb

        duckdb.connect(":memory:").close()
    except Exception as exc:
        failed.append(f"duckdb: {exc!r}")
    from sources.registry import SOURCES

    for spec in SOURCES:
        try:
            _dry_run(spec)
        except Exception as exc:
            failed.append(f"{spec.system}: {exc!r}")
    return failed


def _dry_run(spec) -> None:
    """Transform and validate an empty batch of ``spec``'s system: builds the GX runtime, the
    suites and the shape check the first real batch would otherwise build."""
    from datetime import UTC, datetime

    import polars as pl

    from expectations.validate import validate
    from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN
    from transforms.context import TransformContext
    from warehouse.tables import DIM_ADMIN_UNIT

    raw = pl.DataFrame(schema={**{f: pl.String for f in spec.fields.raw_fields},
                               SOURCE_COLUMN: pl.String, SOURCE_ROW_COLUMN: pl.Int64})
    now = datetime.now(UTC)
    ctx = TransformContext(units=pl.DataFrame(schema=DIM_ADMIN_UNIT.polars_schema()),
                           province_code="00", district_code=None, as_of=now.date(),
                           observed_at=now)
    core = spec.transform()(raw, ctx).frame
    validate(core, raw, spec.core_table)


def standby_main(reader: Any, warm: Callable[[], list[str]] = warm_up) -> None:
    """The standby's life: warm up, wait for one run, run it, exit. No run (the service
    stopped and closed the pipe): exit quietly."""
    failed = warm()
    for line in failed:
        log.warning("standby warm-up: %s", line)
    try:
        target, args = reader.recv()
    except (EOFError, OSError):
        return
    finally:
        reader.close()
    target(*args)


@dataclass
class _Standby:
    process: Any
    writer: Any


class StandbyPool:
    """Keeps one standby process of ``context`` (the forkserver) ready for the next run."""

    def __init__(self, context: Any, warm: Callable[[], list[str]] = warm_up) -> None:
        self._context = context
        self._warm = warm
        self._lock = threading.Lock()
        self._ready: _Standby | None = None
        self._closed = False

    def _fork(self) -> _Standby:
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(target=standby_main, args=(reader, self._warm),
                                        name="cchc-standby")
        process.start()
        reader.close()
        return _Standby(process, writer)

    def prepare(self) -> None:
        """Fork the standby now (at service start), so the first run finds it warm."""
        with self._lock:
            if self._ready is None and not self._closed:
                self._ready = self._fork()

    def hand_over(self, target: Any, args: tuple) -> Any:
        """Run ``target(*args)`` in the standby (or a fresh one if it died); fork the next
        standby; return the process running it."""
        with self._lock:
            standby, self._ready = self._ready, None
            for _ in range(2):
                if standby is None or not standby.process.is_alive():
                    standby = self._fork()
                try:
                    standby.writer.send((target, args))
                    break
                except OSError:
                    standby = None
            else:
                raise RuntimeError("no standby process could take the flow run")
            standby.writer.close()
            if not self._closed:
                self._ready = self._fork()
        return standby.process

    def close(self) -> None:
        """No more runs: the waiting standby reads end-of-file and exits."""
        with self._lock:
            self._closed = True
            standby, self._ready = self._ready, None
        if standby is not None:
            with contextlib.suppress(OSError):
                standby.writer.close()


class HandedOffProcess:
    """What Prefect's ``run_flow_in_subprocess`` gets from ``ctx.Process(target, args)``:
    ``start()`` hands the call to the standby; everything else (pid, join, exitcode, kill) is
    the standby process's own."""

    def __init__(self, pool: StandbyPool, target: Any, args: tuple = (),
                 kwargs: dict | None = None) -> None:
        if kwargs:
            raise TypeError("a standby run takes positional arguments only")
        self._pool = pool
        self._target = target
        self._args = tuple(args)
        self._process: Any = None

    def start(self) -> None:
        self._process = self._pool.hand_over(self._target, self._args)

    def __getattr__(self, name: str) -> Any:
        process = self.__dict__.get("_process")
        if process is None:
            raise AttributeError(name)
        return getattr(process, name)


class StandbyContext:
    """The "spawn" context Prefect's flow engine asks for: processes come from the pool."""

    def __init__(self, pool: StandbyPool) -> None:
        self.pool = pool

    def Process(self, target: Any = None, args: tuple = (), kwargs: dict | None = None,  # noqa: N802
                **_: Any) -> HandedOffProcess:
        return HandedOffProcess(self.pool, target, args, kwargs)
