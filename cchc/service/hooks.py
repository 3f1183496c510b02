"""The change-notification receiver (docs/source-systems.md §7): ``POST /hooks/<system>``.

A source system calls it when its records change (``/hooks/onestop`` with
``{"event": "dossier.changed", ...}``, ``/hooks/eoffice`` with ``"document.changed"``). The receiver checks the signature (HMAC-SHA256
of the raw body with the shared secret), answers 202 at once and emits ``cchc.onestop.changed``;
a deployment trigger then runs the incremental pull. It never pulls itself, so a flood of
notifications costs one small event each, and the pull stays idempotent.

Refusals change nothing: 401 unsigned or badly signed, 413 over the size limit (checked on
Content-Length *and* while streaming, so a lying or chunked sender cannot make us buffer more),
400 malformed or of the wrong shape. A failure to hand the event on answers 503, so the
sender retries instead of the change being lost. No request can crash the receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cchc.names import change_event
from cchc.service.events import Emit, source_resource

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"
SIGNATURE_PREFIX = "sha256="
NOTIFICATION_EVENT = "dossier.changed"  # the one-stop system's; each system names its entity


def sign(body: bytes, secret: str) -> str:
    """The ``X-Signature`` header value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """Constant-time check of an ``X-Signature`` header against the body."""
    if not header or not secret:
        return False
    expected = sign(body, secret)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().lower().encode("utf-8", "replace"))


@dataclass(frozen=True)
class Notification:
    """A valid change notification."""

    changed_since: str
    count: int


class BadNotification(ValueError):
    """Malformed JSON or the wrong shape."""


def parse_notification(body: bytes, event: str = NOTIFICATION_EVENT) -> Notification:
    """Parse and check ``{"event": "dossier.changed", "changed_since": ISO, "count": n}``."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadNotification(f"body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadNotification("body must be a JSON object")
    if doc.get("event") != event:
        raise BadNotification(f"event must be {event!r}")
    since = doc.get("changed_since")
    if not isinstance(since, str):
        raise BadNotification("changed_since must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise BadNotification("changed_since is not an ISO 8601 instant") from None
    if parsed.tzinfo is None:
        raise BadNotification("changed_since must carry a time zone (Z or an offset)")
    count = doc.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BadNotification("count must be a non-negative integer")
    return Notification(changed_since=since, count=count)


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, max_bytes: int) -> bytes:
    """The body, refusing to hold more than ``max_bytes`` whatever the headers said."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(secret: str, emit: Emit, max_bytes: int = 64 * 1024,
               systems: dict[str, str] | None = None) -> Starlette:
    """The receiver as an ASGI app: ``POST /hooks/<system>`` for each of ``systems`` (system ->
    the notification's ``event`` value, e.g. ``{"onestop": "dossier.changed"}``; default: every
    registered source). ``emit(event, resource_id, payload)`` hands the event on."""
    if systems is None:
        from sources.registry import SOURCES

        systems = {spec.system: f"{spec.entity}.changed" for spec in SOURCES}

    def route(source_system: str, event: str) -> Route:
        async def hook(request: Request) -> JSONResponse:
            return await _guarded(request, source_system, event)

        return Route(f"/hooks/{source_system}", hook, methods=["POST"])

    async def _guarded(request: Request, source_system: str, event: str) -> JSONResponse:
        try:
            return await _handle(request, source_system, event)
        except ClientDisconnect:
            return _error(400, "client disconnected")
        except Exception:  # one bad request must never take the receiver down
            log.exception("change notification: unexpected error")
            return _error(500, "internal error")

    async def _handle(request: Request, source_system: str, event: str) -> JSONResponse:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return _error(400, "bad Content-Length")
            if declared > max_bytes:
                return _error(413, f"body over {max_bytes} bytes")
        header = request.headers.get(SIGNATURE_HEADER)
        if not header:
            return _error(401, f"missing {SIGNATURE_HEADER}")
        try:
            body = await _read_limited(request, max_bytes)
        except _TooLarge:
            return _error(413, f"body over {max_bytes} bytes")
        if not signature_ok(body, header, secret):
            log.warning("change notification with a bad signature from %s", _client(request))
            return _error(401, "bad signature")
        try:
            note = parse_notification(body, event)
        except BadNotification as exc:
            return _error(400, str(exc))
        payload: dict[str, Any] = {"changed_since": note.changed_since, "count": note.count,
                                   "source_system": source_system}
        if not emit(change_event(source_system), source_resource(source_system), payload):
            log.error("change notification accepted but the event could not be emitted")
            return _error(503, "cannot hand the notification on now; retry later")
        log.info("change notification from %s: %d change(s) since %s", source_system, note.count,
                 note.changed_since)
        return JSONResponse({"accepted": True}, status_code=202)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        *(route(system, event) for system, event in systems.items()),
        Route("/health", health, methods=["GET"]),
    ])


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
