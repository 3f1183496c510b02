"""Names the flows and the service agree on: events, resources, the writer limit, deployments.

A leaf module (it imports nothing of cchc), so ``flows/`` and ``cchc/service/`` both import it
without importing each other. A source system's change event is derived from its name, so a new
system needs no new constant here.
"""

from __future__ import annotations

DEPLOYMENT_NAME = "cchc"  # every deployment is "<flow name>/cchc"
# One writer at a time across runs: the service creates this global concurrency limit (1 slot);
# without a server the warehouse's file lock still serialises writers.
WRITER_LIMIT = "cchc-warehouse-writer"

INBOX_FILE_ARRIVED = "cchc.inbox.file.arrived"
INBOX_FILE_REFUSED = "cchc.inbox.file.refused"
STALE_SOURCE = "cchc.alert.stale-source"
SOURCE_FAILED = "cchc.alert.source-failed"

# Resource ids (``prefect.resource.id``); triggers match on their prefixes.
INBOX_RESOURCE_PREFIX = "cchc.inbox.file."


def change_event(source_system: str) -> str:
    """The event a system's change notification becomes, e.g. ``cchc.onestop.changed``."""
    return f"cchc.{source_system}.changed"


def source_resource(source_system: str) -> str:
    """The resource id of a provincial source system, e.g. ``cchc.source.onestop``."""
    return f"cchc.source.{source_system}"


ONESTOP_CHANGED = change_event("onestop")
EOFFICE_CHANGED = change_event("eoffice")
