"""Client of the one-stop system's pull API (sources.md §1.1, §1.2).

Paging is by page number over a window ``[updated_since, updated_until)``. Page numbers are
offsets, so a window whose content changes while it is being read can make the client skip or
repeat items. The consistency guard: every page must report the same ``total`` as the first and
carry exactly the number of items that total implies; otherwise ``iter_pages`` raises
``SourceWindowChangedError`` and ``pull_to_parquet`` throws away what it wrote and reads the
window again from page 1 (a few times, then it fails). Items only leave a past window (a change
moves a dossier's ``NgayCapNhat`` to now, i.e. past ``updated_until``), and every departure
lowers ``total``, so the guard is complete when ``updated_until`` is in the past; pull up to
"now minus a small lag", never into the future, where an arrival could mask a departure.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from sources.errors import SourceProtocolError, SourceWindowChangedError
from sources.http import RetryPolicy, get_json

log = logging.getLogger("cchc.sources.onestop")

DOSSIERS_PATH = "/onestop/api/v1/dossiers"
REPORT_06_PATH = "/onestop/api/v1/reports/06"
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


class OnestopClient:
    """Reads dossier pages and the form-06 report, retrying what is worth retrying."""

    def __init__(
        self,
        base_url: str,
        token: str,
        page_size: int = MAX_PAGE_SIZE,
        timeout_s: float = 30.0,
        max_retries: int = 6,
        backoff_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}, got {page_size}")
        self.page_size = page_size
        self.policy = RetryPolicy(
            max_retries=max_retries, backoff_s=backoff_s, sleep=sleep, rng=rng or random.Random()
        )
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    @classmethod
    def from_settings(cls, source: Any, **overrides: Any) -> OnestopClient:
        """Client from ``cchc.config.SourceSettings`` (typed loosely to keep sources/ standalone)."""
        kwargs: dict[str, Any] = {
            "base_url": source.base_url,
            "token": source.token,
            "page_size": source.page_size,
            "timeout_s": source.timeout_s,
            "max_retries": source.max_retries,
            "backoff_s": source.backoff_s,
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

    def iter_pages(self, since: datetime, until: datetime) -> Iterator[Page]:
        """Every page of the window ``[since, until)``, until all ``total`` items are read.

        Raises SourceWindowChangedError when the window's content changes under the pull
        (see the module docstring); the consumer decides whether to start over.
        """
        params: dict[str, Any] = {
            "updated_since": utc_param(since),
            "updated_until": utc_param(until),
        }
        if since >= until:
            raise ValueError(
                f"empty window: since {params['updated_since']} >= until {params['updated_until']}"
            )
        first_total: int | None = None
        read, number = 0, 1
        while True:
            body, url = get_json(
                self._http,
                DOSSIERS_PATH,
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

    def report_06(
        self, date_from: date, date_to: date, by: Literal["unit", "field"] = "unit"
    ) -> dict[str, Any]:
        """The system's own form-06 report for ``[date_from, date_to]`` (calendar days)."""
        if by not in ("unit", "field"):
            raise ValueError(f"by must be 'unit' or 'field', got {by!r}")
        params = {"from": _day(date_from), "to": _day(date_to), "by": by}
        body, url = get_json(self._http, REPORT_06_PATH, params, self.policy)
        if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
            raise SourceProtocolError(url, "report 06 response has no 'rows' list")
        return body


def _day(value: date) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


# pull_to_parquet lives in its own module; importable from here too, next to the client it drives.
from sources.onestop.pull import PullResult, pull_to_parquet  # noqa: E402

__all__ = ["OnestopClient", "Page", "PullResult", "pull_to_parquet", "utc_param"]
