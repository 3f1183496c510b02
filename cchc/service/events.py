"""The events cchc emits, and one way to emit them.

Event names are the contract between the emitters (inbox watcher, hook receiver, freshness
check) and the deployment triggers in ``flows/deployments.py``: they live once in the leaf
module ``cchc.names`` and are re-exported here.
Emitters take an ``Emit`` callable so tests can record events without a Prefect server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cchc.names import (  # noqa: F401  (re-exported)
    EOFFICE_CHANGED,
    INBOX_FILE_ARRIVED,
    INBOX_FILE_REFUSED,
    INBOX_RESOURCE_PREFIX,
    ONESTOP_CHANGED,
    SOURCE_FAILED,
    STALE_SOURCE,
    change_event,
    source_resource,
)

Emit = Callable[[str, str, dict[str, Any]], bool]
"""``emit(event, resource_id, payload) -> sent``."""


def prefect_emit(event: str, resource_id: str, payload: dict[str, Any]) -> bool:
    """Emit through Prefect's events client (queued, sent in the background).

    Returns False when Prefect is not configured to send events (no API URL), so a caller can
    tell the sender to try again instead of silently dropping the event.
    """
    from prefect.events import emit_event

    sent = emit_event(
        event=event,
        resource={"prefect.resource.id": resource_id, "prefect.resource.name": resource_id},
        payload=payload,
    )
    return sent is not None


def flush_events(timeout_s: float = 5.0) -> None:
    """Send queued events before the process exits."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=timeout_s)
