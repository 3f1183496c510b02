"""Prefect's server on SQLite, with write transactions that wait for the lock instead of failing.

Prefect 3.9 opens most of its server transactions ``BEGIN DEFERRED``: the transaction reads
first (the deployment, the concurrency limit) and takes SQLite's write lock only at its first
write. When another connection commits in between (a finishing flow run writing its states,
the event persister), SQLite cannot upgrade the stale snapshot and fails the write at once with
``SQLITE_BUSY_SNAPSHOT``; the busy timeout is never consulted. Prefect answers 503 and its client
retries after 2 s. Measured with ``bench/drop_latency.py``: half of the dropped files waited
those 2 s, once in the automation's ``create_flow_run`` and once in the writer slot's acquire
(docs/performance.md). Taking the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``, the standard
cure) makes a second writer wait in SQLite's busy handler for the few milliseconds the first
one holds it. Reads outside a transaction are unchanged.

Every Prefect server cchc starts loads this module first: ``cchc serve``'s (``python -m
cchc.prefect_sqlite server start …``, Prefect's own command line) and a command's temporary one
(:func:`create_app`, Prefect's application factory). A PostgreSQL database is not affected.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

_PATCHED = "_cchc_immediate"


def take_write_lock_at_begin() -> bool:
    """Make the SQLite configuration begin every transaction it opens ``IMMEDIATE``; False
    (and a warning) when this Prefect's configuration is not the one this was written for:
    the server then runs as Prefect made it, with its 2-s retries."""
    from prefect.server.database.configurations import AioSqliteConfiguration

    begin = AioSqliteConfiguration.begin_transaction
    if getattr(begin, _PATCHED, False):
        return True
    if "with_for_update" not in inspect.signature(begin).parameters:
        log.warning("Prefect's SQLite configuration has changed (no with_for_update): its "
                    "transactions stay DEFERRED")
        return False

    @asynccontextmanager
    async def begin_immediate(self: Any, session: Any,
                              with_for_update: bool = False) -> AsyncIterator[Any]:
        # Prefect chooses IMMEDIATE for with_for_update, DEFERRED otherwise
        async with begin(self, session, with_for_update=True) as transaction:
            yield transaction

    setattr(begin_immediate, _PATCHED, True)
    AioSqliteConfiguration.begin_transaction = begin_immediate  # type: ignore[method-assign]
    return True


def create_app() -> Any:
    """Prefect's application factory (uvicorn ``--factory``), on immediate transactions."""
    take_write_lock_at_begin()
    from prefect.server.api.server import create_app as prefect_app

    return prefect_app()


if __name__ == "__main__":  # python -m cchc.prefect_sqlite <prefect command line>
    take_write_lock_at_begin()
    from prefect.cli import app

    app()
