"""The writer slot: the server's one-slot concurrency limit every warehouse write holds.

One place for how it is taken, so every holder uses the configured lease
(``[service] writer_lease_s``): a holder that dies without giving the slot back loses it that
long after its last renewal, and another worker's write goes on (docs/distributed.md).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from cchc.config import Settings
from cchc.names import WRITER_LIMIT

MIN_LEASE_S = 60.0  # the server refuses shorter leases (Prefect 3.9: 422)


def writer_slot(settings: Settings, *, timeout_seconds: float | None = None) -> AbstractContextManager:
    """Hold the writer slot (waits for it). Without the limit on the server (a plain
    ``cchc ingest`` with Prefect's temporary server) it is skipped: the file lock guards."""
    from prefect.concurrency.sync import concurrency

    return concurrency(WRITER_LIMIT, occupy=1, strict=False, timeout_seconds=timeout_seconds,
                       lease_duration=max(MIN_LEASE_S, settings.service.writer_lease_s))
