"""The pull API client: paging, retries, clear failures, the window-consistency guard."""

from __future__ import annotations

import logging
import math
import random
from datetime import UTC, date, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onestop_fake_api import BASE, TOKEN, FakeApi, api_item

from sources.errors import (
    SourceAuthError,
    SourceProtocolError,
    SourceRequestError,
    SourceUnavailableError,
    SourceWindowChangedError,
)
from sources.http import parse_retry_after
from sources.onestop.api import OnestopClient, utc_param

SINCE = datetime(2021, 1, 1, tzinfo=UTC)
UNTIL = datetime(2021, 2, 1, tzinfo=UTC)


def client_for(api: FakeApi, sleeps: list[float] | None = None, **kw: object) -> OnestopClient:
    sleeps = [] if sleeps is None else sleeps
    options: dict[str, object] = {"page_size": 10, "max_retries": 3, "backoff_s": 1.0}
    options.update(kw)
    return OnestopClient(
        BASE, TOKEN, transport=api.transport(), sleep=sleeps.append, rng=random.Random(1), **options
    )


def items(n: int) -> list[dict]:
    return [api_item(i) for i in range(n)]


def test_pages_cover_the_window_with_the_documented_request() -> None:
    api = FakeApi(items(25))
    pages = list(client_for(api).iter_pages(SINCE, UNTIL))
    assert [(p.number, len(p.items), p.total) for p in pages] == [
        (1, 10, 25),
        (2, 10, 25),
        (3, 5, 25),
    ]
    first = api.requests[0]
    assert first.url.path == "/onestop/api/v1/dossiers"
    assert dict(first.url.params) == {
        "updated_since": "2021-01-01T00:00:00Z",
        "updated_until": "2021-02-01T00:00:00Z",
        "page": "1",
        "page_size": "10",
    }
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in pages[0].url and "page=1" in pages[0].url


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(total=st.integers(0, 120), page_size=st.integers(1, 50))
def test_paging_reads_every_item_once_for_any_total_and_page_size(
    total: int, page_size: int
) -> None:
    data = items(total)
    api = FakeApi(data)
    pages = list(client_for(api, page_size=page_size).iter_pages(SINCE, UNTIL))
    assert [it for p in pages for it in p.items] == data
    assert len(pages) == max(1, math.ceil(total / page_size))


def test_empty_window_yields_one_empty_page() -> None:
    pages = list(client_for(FakeApi([])).iter_pages(SINCE, UNTIL))
    assert [(p.number, p.total, p.items) for p in pages] == [(1, 0, [])]


def test_429_waits_the_retry_after_seconds(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    api = FakeApi(items(5), faults={0: ("429", 7)})
    with caplog.at_level(logging.WARNING, logger="cchc.sources.http"):
        pages = list(client_for(api, sleeps).iter_pages(SINCE, UNTIL))
    assert sleeps == [7.0]
    assert len(pages[0].items) == 5 and len(api.requests) == 2
    assert "HTTP 429" in caplog.text and "retry 1/3" in caplog.text


def test_503_with_retry_after_is_honoured() -> None:
    sleeps: list[float] = []
    api = FakeApi(items(5), faults={0: lambda r: httpx.Response(503, headers={"Retry-After": "3"})})
    list(client_for(api, sleeps).iter_pages(SINCE, UNTIL))
    assert sleeps == [3.0]


def test_5xx_backs_off_exponentially_with_jitter() -> None:
    sleeps: list[float] = []
    api = FakeApi(items(5), faults={0: ("status", 503), 1: ("status", 500), 2: ("status", 502)})
    list(client_for(api, sleeps).iter_pages(SINCE, UNTIL))
    assert len(sleeps) == 3
    for retry, wait in enumerate(sleeps):  # equal jitter: between half and all of 1 s * 2**n
        assert 2**retry / 2 <= wait <= 2**retry


@pytest.mark.parametrize(
    "fault", ["reset_mid_body", "protocol_mid_body", "truncated", "timeout", "connect"]
)
def test_transient_failures_are_retried(fault: str) -> None:
    sleeps: list[float] = []
    api = FakeApi(items(15), faults={1: fault})
    pages = list(client_for(api, sleeps).iter_pages(SINCE, UNTIL))
    assert sum(len(p.items) for p in pages) == 15
    assert len(api.requests) == 3 and len(sleeps) == 1


def test_401_fails_at_once_naming_the_url() -> None:
    sleeps: list[float] = []
    api = FakeApi(items(5))
    client = OnestopClient(BASE, "wrong", transport=api.transport(), sleep=sleeps.append)
    with pytest.raises(SourceAuthError) as err:
        list(client.iter_pages(SINCE, UNTIL))
    assert err.value.status == 401 and "/onestop/api/v1/dossiers?" in str(err.value)
    assert len(api.requests) == 1 and sleeps == []


@pytest.mark.parametrize("code", [400, 404, 422])
def test_other_4xx_fail_without_retry(code: int) -> None:
    api = FakeApi(items(5), faults={0: ("status", code)})
    with pytest.raises(SourceRequestError, match=f"HTTP {code}"):
        list(client_for(api).iter_pages(SINCE, UNTIL))
    assert len(api.requests) == 1


def test_exhausted_retries_name_url_and_last_cause() -> None:
    sleeps: list[float] = []
    api = FakeApi(items(5), faults={n: ("status", 503) for n in range(3)} | {3: "truncated"})
    with pytest.raises(SourceUnavailableError) as err:
        list(client_for(api, sleeps).iter_pages(SINCE, UNTIL))
    assert err.value.attempts == 4 and len(api.requests) == 4 and len(sleeps) == 3
    assert "invalid JSON" in err.value.cause
    assert err.value.url.startswith(BASE + "/onestop/api/v1/dossiers?updated_since=")


def test_total_changing_between_pages_is_detected() -> None:
    api = FakeApi(items(25), total_override={1: 24})
    with pytest.raises(SourceWindowChangedError, match="total changed from 25 to 24 at page 2"):
        list(client_for(api).iter_pages(SINCE, UNTIL))


def test_short_page_with_unchanged_total_is_detected() -> None:
    def short(request: httpx.Request) -> httpx.Response:
        body = FakeApi(items(25)).page_body(request, 0)
        body["items"] = body["items"][:-1]
        return httpx.Response(200, json=body)

    with pytest.raises(SourceWindowChangedError, match="page 2 has 9 items, expected 10"):
        list(client_for(FakeApi(items(25), faults={1: short})).iter_pages(SINCE, UNTIL))


def test_malformed_page_is_a_protocol_error() -> None:
    api = FakeApi(items(5), faults={0: lambda r: httpx.Response(200, json={"items": []})})
    with pytest.raises(SourceProtocolError, match="'total'"):
        list(client_for(api).iter_pages(SINCE, UNTIL))


def test_window_bounds_must_be_aware_and_ordered() -> None:
    client = client_for(FakeApi([]))
    with pytest.raises(ValueError, match="no timezone"):
        list(client.iter_pages(datetime(2021, 1, 1), UNTIL))
    with pytest.raises(ValueError, match="empty window"):
        list(client.iter_pages(UNTIL, SINCE))
    plus7 = timezone(timedelta(hours=7))
    assert utc_param(datetime(2021, 1, 1, 7, 0, 0, 999, tzinfo=plus7)) == "2021-01-01T00:00:00Z"


def test_report_06() -> None:
    api = FakeApi([])
    report = client_for(api).report_06(date(2021, 1, 1), date(2022, 12, 31), by="field")
    assert report["by"] == "field" and report["rows"] == []
    assert dict(api.requests[0].url.params) == {
        "from": "2021-01-01",
        "to": "2022-12-31",
        "by": "field",
    }
    with pytest.raises(ValueError):
        client_for(api).report_06(date(2021, 1, 1), date(2021, 1, 2), by="year")  # type: ignore[arg-type]


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_page_size_limit() -> None:
    with pytest.raises(ValueError):
        OnestopClient(BASE, TOKEN, page_size=1001)
