"""GET-JSON with retries: the one place that decides which HTTP failures are worth retrying.

The provincial systems are slow and flaky (docs/source-systems.md §1): 429 with Retry-After, 5xx, timeouts,
connections reset mid-body, truncated JSON. Those are retried with exponential backoff and
jitter; a bad token (401/403) or a malformed request (other 4xx) fails at once, because
retrying cannot fix it and would only hide the cause for minutes.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sources.errors import (
    SourceAuthError,
    SourceRequestError,
    SourceUnavailableError,
    SourceUnreachableError,
)

log = logging.getLogger("cchc.sources.http")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry one request.

    ``max_retries`` counts retries, so a request is tried at most ``max_retries + 1`` times.
    The n-th retry waits ``backoff_s * 2**n`` (capped at ``max_backoff_s``) with "equal jitter"
    (half fixed, half random) so that many clients do not retry in lockstep; a 429's
    ``Retry-After`` is honoured instead, up to ``max_retry_after_s``.
    """

    max_retries: int = 6
    max_connect_retries: int = 2  # retries when nothing answers at the address (refused, DNS)
    backoff_s: float = 0.5
    max_backoff_s: float = 60.0
    max_retry_after_s: float = 600.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        ceiling = min(self.max_backoff_s, self.backoff_s * (2**retry))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


class _Retryable(Exception):
    """A failure worth another attempt; ``wait_s`` overrides the backoff (Retry-After);
    ``unreachable`` marks a connection that could not even be opened."""

    def __init__(self, cause: str, wait_s: float | None = None, unreachable: bool = False) -> None:
        super().__init__(cause)
        self.cause, self.wait_s, self.unreachable = cause, wait_s, unreachable


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _attempt(client: httpx.Client, path: str, params: Mapping[str, Any]) -> tuple[Any, str]:
    """One GET; returns (parsed JSON, URL) or raises _Retryable / a non-retried SourceError."""
    request = client.build_request("GET", path, params=params)
    url = str(request.url)
    try:
        response = client.send(request)  # reads the whole body: a reset mid-body raises here
    except httpx.TimeoutException as exc:  # a connect timeout too: slow is not absent
        raise _Retryable(f"timeout ({type(exc).__name__})") from exc
    except httpx.ConnectError as exc:  # refused, unknown host, no route
        raise _Retryable(f"cannot connect: {exc}", unreachable=True) from exc
    except (httpx.TransportError, httpx.DecodingError) as exc:  # resets, protocol errors mid-body
        raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if status in (401, 403):
        raise SourceAuthError(url, status)
    if status in RETRY_STATUSES:
        # 429 must carry Retry-After (docs/source-systems.md §1); a 503 may, and then it is meant too.
        wait = (
            parse_retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
        )
        raise _Retryable(f"HTTP {status}", wait)
    if 400 <= status < 600:
        raise SourceRequestError(url, status, response.text)
    try:
        return json.loads(response.content), url
    except (ValueError, UnicodeDecodeError) as exc:  # truncated or not JSON at all
        raise _Retryable(f"invalid JSON ({len(response.content)} bytes): {exc}") from exc


def get_json(
    client: httpx.Client, path: str, params: Mapping[str, Any], policy: RetryPolicy
) -> tuple[Any, str]:
    """GET ``path`` and parse its JSON body, retrying transient failures per ``policy``.

    Returns the parsed body and the request URL (which never contains the token: it travels in
    the Authorization header). Raises SourceAuthError, SourceRequestError or, once retries are
    exhausted, SourceUnavailableError naming the URL and the last cause.
    """
    url = str(client.build_request("GET", path, params=params).url)
    for attempt in range(policy.max_retries + 1):
        try:
            return _attempt(client, path, params)
        except _Retryable as exc:
            if exc.unreachable and attempt >= policy.max_connect_retries:
                raise SourceUnreachableError(url, attempt + 1, exc.cause) from exc
            if attempt == policy.max_retries:
                raise SourceUnavailableError(url, attempt + 1, exc.cause) from exc
            if exc.wait_s is not None:
                wait = min(exc.wait_s, policy.max_retry_after_s)
            else:
                wait = policy.backoff(attempt)
            log.warning(
                "GET %s failed (%s); retry %d/%d in %.2f s",
                url,
                exc.cause,
                attempt + 1,
                policy.max_retries,
                wait,
            )
            policy.sleep(wait)
    raise AssertionError("unreachable")  # the loop either returns or raises
