"""The change-notification receiver (docs/source-systems.md §7): ``POST /hooks/<system>``.

A source system calls it when its records change (``/hooks/onestop`` with
``{"event": "dossier.changed", ...}``, ``/hooks/eoffice`` with ``"document.changed"``). The receiver checks the signature (HMAC-SHA256
of the raw body with the shared secret), answers 202 at once and emits ``cchc.onestop.changed``;
a deployment trigger then runs the incremental pull. It never pulls itself, so a flood of
notifications costs one small event each, and the pull stays idempotent.

Refusals change nothing: 401 unsigned or badly signed, 413 over the size limit (checked on
Content-Length *and* while streaming, so a lying or chunked sender cannot make us buffer more),
400 malformed or of the wrong shape, 409 a replay (the same signed body accepted within the
replay window, default 10 min: signatures of accepted notifications are remembered that long,
in memory), 400 a ``sent_at`` outside that window (so a body older than the memory cannot be
replayed either). A notification should therefore carry something unique, an ``id`` and/or a
``sent_at`` instant. A failure to hand the event on answers 503, so the sender retries instead
of the change being lost (a 503'd body is not remembered). No request can crash the receiver.

The receiver refuses to run on an empty or the documented default secret (``change-me``):
:func:`create_app` raises :class:`WeakSecret`, and ``cchc serve`` then runs without it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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
DEFAULT_SECRETS = frozenset({"", "change-me"})
REPLAY_WINDOW_S = 600.0
MAX_REMEMBERED = 10_000  # signatures held at most (only valid, accepted ones are remembered)


class WeakSecret(ValueError):
    """The shared secret is empty or the documented default: anyone could sign."""


def weak_secret_reason(secret: str | None) -> str | None:
    """Why ``secret`` must not be used for the receiver, or None when it may."""
    if not secret or secret.strip() in DEFAULT_SECRETS:
        return ("the change-notification secret is not set (empty or the default 'change-me'): "
                "set CCHC_HOOK_SECRET to a long random value shared with the source systems")
    return None


class ReplayGuard:
    """Signatures of accepted notifications, each remembered for ``window_s`` seconds."""

    def __init__(self, window_s: float = REPLAY_WINDOW_S, max_entries: int = MAX_REMEMBERED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self.max_entries, self.clock = window_s, max_entries, clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature -> expiry, oldest first

    def _prune(self) -> None:
        now = self.clock()
        while self._seen and (next(iter(self._seen.values())) <= now
                              or len(self._seen) > self.max_entries):
            self._seen.popitem(last=False)

    def claim(self, signature: str) -> bool:
        """Remember ``signature``; False when it was already seen within the window."""
        self._prune()
        if signature in self._seen:
            return False
        self._seen[signature] = self.clock() + self.window_s
        return True

    def release(self, signature: str) -> None:
        """Forget ``signature`` (its notification was not accepted after all)."""
        self._seen.pop(signature, None)


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
    id: str | None = None
    sent_at: str | None = None


class BadNotification(ValueError):
    """Malformed JSON or the wrong shape."""


def _instant(doc: dict, key: str) -> datetime:
    value = doc.get(key)
    if not isinstance(value, str):
        raise BadNotification(f"{key} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadNotification(f"{key} is not an ISO 8601 instant") from None
    if parsed.tzinfo is None:
        raise BadNotification(f"{key} must carry a time zone (Z or an offset)")
    return parsed


def parse_notification(body: bytes, event: str = NOTIFICATION_EVENT, *,
                       window_s: float | None = REPLAY_WINDOW_S,
                       now: datetime | None = None) -> Notification:
    """Parse and check ``{"event": "dossier.changed", "changed_since": ISO, "count": n}`` with
    optional ``"id"`` (a string) and ``"sent_at"`` (ISO instant, within ``window_s`` of now)."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadNotification(f"body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadNotification("body must be a JSON object")
    if doc.get("event") != event:
        raise BadNotification(f"event must be {event!r}")
    _instant(doc, "changed_since")
    count = doc.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BadNotification("count must be a non-negative integer")
    note_id = doc.get("id")
    if note_id is not None and (not isinstance(note_id, str) or not 0 < len(note_id) <= 200):
        raise BadNotification("id must be a string of 1 to 200 characters")
    sent_at = None
    if doc.get("sent_at") is not None:
        sent = _instant(doc, "sent_at")
        if window_s is not None:
            age = ((now or datetime.now(UTC)) - sent).total_seconds()
            if abs(age) > window_s:
                raise BadNotification(f"sent_at is {age:+.0f} s from now: outside the accepted "
                                      f"window of ±{window_s:.0f} s (too old, or a clock is off)")
        sent_at = doc["sent_at"]
    return Notification(changed_since=doc["changed_since"], count=count, id=note_id,
                        sent_at=sent_at)


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
               systems: dict[str, str] | None = None, *,
               replay_window_s: float = REPLAY_WINDOW_S,
               clock: Callable[[], float] = time.monotonic,
               dashboard: Path | None = None) -> Starlette:
    """The receiver as an ASGI app: ``POST /hooks/<system>`` for each of ``systems`` (system ->
    the notification's ``event`` value, e.g. ``{"onestop": "dossier.changed"}``; default: every
    registered source). ``emit(event, resource_id, payload)`` hands the event on. With
    ``dashboard`` (the page file), also ``GET /`` and ``GET /dashboard``
    (``cchc.dashboard.routes``).

    Raises :class:`WeakSecret` for an empty or the default secret."""
    reason = weak_secret_reason(secret)
    if reason:
        raise WeakSecret(reason)
    guard = ReplayGuard(replay_window_s, clock=clock)
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
            note = parse_notification(body, event, window_s=replay_window_s)
        except BadNotification as exc:
            return _error(400, str(exc))
        digest = f"{source_system}:{header.strip().lower()}"
        if not guard.claim(digest):
            log.warning("replayed change notification for %s from %s refused", source_system,
                        _client(request))
            return _error(409, "this notification was already received (replay); nothing started")
        payload: dict[str, Any] = {"changed_since": note.changed_since, "count": note.count,
                                   "source_system": source_system}
        if note.id is not None:
            payload["id"] = note.id
        try:
            sent = emit(change_event(source_system), source_resource(source_system), payload)
        except BaseException:
            guard.release(digest)
            raise
        if not sent:
            guard.release(digest)  # the sender will retry the same body: let it through then
            log.error("change notification accepted but the event could not be emitted")
            return _error(503, "cannot hand the notification on now; retry later")
        log.info("change notification from %s: %d change(s) since %s", source_system, note.count,
                 note.changed_since)
        return JSONResponse({"accepted": True}, status_code=202)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    pages = []
    if dashboard is not None:
        from cchc.dashboard.routes import dashboard_routes

        pages = dashboard_routes(dashboard)
    return Starlette(routes=[
        *(route(system, event) for system, event in systems.items()),
        Route("/health", health, methods=["GET"]),
        *pages,
    ])


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"
