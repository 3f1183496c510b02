"""Client of a provincial system's paged pull API (both systems page the same way).

``GET {base}{path}?updated_since&updated_until&page&page_size`` returns ``{page, page_size,
total, items}``, ordered by ``NgayCapNhat`` then the record's id (docs/source-systems.md §1).
Paging is by page number over a window ``[updated_since, updated_until)``. Page numbers are
offsets, so a window whose content changes while it is being read can make the client skip or
repeat items. The consistency guard: every page must report the same ``total`` as the first and
carry exactly the number of items that total implies; otherwise ``iter_pages`` raises
``SourceWindowChangedError`` and ``pull_to_parquet`` throws away what it wrote and reads the
window again from page 1 (a few times, then it fails). Items only leave a past window (a change
moves a record's ``NgayCapNhat`` to now, i.e. past ``updated_until``), and every departure
lowers ``total``, so the guard is complete when ``updated_until`` is in the past; pull up to
"now minus a small lag", never into the future, where an arrival could mask a departure.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx

from sources.errors import SourceProtocolError, SourceWindowChangedError
from sources.http import RetryPolicy, get_json

log = logging.getLogger("cchc.sources.api")

MAX_PAGE_SIZE = 1000  # the API's documented limit


@dataclass(frozen=True)
class Page:
    """One page of a window: its 1-based number, the window's total, its items, its URL."""

    number: int
    total: int
    items: list[dict[str, Any]]
    url: str


def utc_param(moment: datetime) -> str:
    """``2021-01-01T00:00:00Z`` for the API; naive datetimes are refused (local or UTC?).

    Sub-second parts are truncated; consecutive windows that share a bound truncate it the same
    way, so they stay contiguous.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"window bound {moment!r} has no timezone; pass an aware datetime (UTC)")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_fields(body: Any, url: str, number: int) -> tuple[int, int | None, list[dict[str, Any]]]:
    """(total, page_size, items) of a page body, or SourceProtocolError if it breaks the contract."""
    if not isinstance(body, dict):
        raise SourceProtocolError(url, f"expected a JSON object, got {type(body).__name__}")
    total, items, size = body.get("total"), body.get("items"), body.get("page_size")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise SourceProtocolError(url, f"'total' is not a non-negative integer: {total!r}")
    if not isinstance(items, list) or not all(isinstance(it, dict) for it in items):
        raise SourceProtocolError(url, "'items' is not a list of objects")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise SourceProtocolError(url, f"'page_size' is not a positive integer: {size!r}")
    page = body.get("page")
    if page is not None and page != number:
        raise SourceProtocolError(url, f"asked for page {number}, got page {page!r}")
    return total, size, items


class PagedClient:
    """Reads the pages of one record endpoint (``path``), retrying what is worth retrying.

    A system's client is a subclass that names its ``path`` (and adds its other endpoints)."""

    path: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        token: str,
        page_size: int = MAX_PAGE_SIZE,
        timeout_s: float = 30.0,
        max_retries: int = 6,
        backoff_s: float = 0.5,
        connect_retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}, got {page_size}")
        self.page_size = page_size
        self.policy = RetryPolicy(
            max_retries=max_retries, max_connect_retries=connect_retries, backoff_s=backoff_s,
            sleep=sleep, rng=rng or random.Random()
        )
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, source: Any, **overrides: Any) -> Self:
        """Client from ``cchc.config.SourceSettings`` (typed loosely to keep sources/ standalone)."""
        kwargs: dict[str, Any] = {
            "base_url": source.base_url,
            "token": source.token,
            "page_size": source.page_size,
            "timeout_s": source.timeout_s,
            "max_retries": source.max_retries,
            "backoff_s": source.backoff_s,
            "connect_retries": source.connect_retries,
        }
        return cls(**(kwargs | overrides))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def iter_pages(self, since: datetime, until: datetime, **filters: Any) -> Iterator[Page]:
        """Every page of the window ``[since, until)``, until all ``total`` items are read.

        Raises SourceWindowChangedError when the window's content changes under the pull
        (see the module docstring); the consumer decides whether to start over.
        """
        params: dict[str, Any] = {
            "updated_since": utc_param(since),
            "updated_until": utc_param(until),
        } | {k: v for k, v in filters.items() if v is not None}
        if since >= until:
            raise ValueError(
                f"empty window: since {params['updated_since']} >= until {params['updated_until']}"
            )
        first_total: int | None = None
        read, number = 0, 1
        while True:
            body, url = get_json(
                self._http,
                self.path,
                params | {"page": number, "page_size": self.page_size},
                self.policy,
            )
            total, size, items = _page_fields(body, url, number)
            if first_total is None:
                first_total = total
            elif total != first_total:
                raise SourceWindowChangedError(
                    url, f"window total changed from {first_total} to {total} at page {number}"
                )
            expected = min(size or self.page_size, total - read)
            if len(items) != expected:
                raise SourceWindowChangedError(
                    url,
                    f"page {number} has {len(items)} items, expected {expected} of total {total}",
                )
            yield Page(number, total, items, url)
            read += len(items)
            if read >= total:
                return
            number += 1


def day_param(value: Any) -> str:
    """``YYYY-MM-DD`` of a date or datetime (report parameters)."""
    return (value.date() if isinstance(value, datetime) else value).isoformat()
