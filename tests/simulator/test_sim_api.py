"""The pull API: auth, paging, ordering, window semantics, faults, the vendor report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from simulator.faults import FaultInjector
from simulator.options import FaultOptions
from simulator.testing import running_simulator, simulated_dataset

OPTS = {"scenario": "scale", "dossiers": 4000, "units": 5, "years": 1, "seed": 21}
AUTH = {"Authorization": "Bearer demo-token"}
PATH = "/onestop/api/v1/dossiers"


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def server():
    with running_simulator(**OPTS) as base_url, httpx.Client(base_url=base_url, headers=AUTH) as client:
        yield client


def pull(client: httpx.Client, since: str, until: str, size: int) -> tuple[list[dict], int]:
    items, page, total = [], 1, None
    while True:
        body = client.get(PATH, params={"updated_since": since, "updated_until": until, "page": page,
                                        "page_size": size}).json()
        total = body["total"] if total is None else total
        assert body["total"] == total and body["page"] == page and body["page_size"] == size
        items += body["items"]
        if len(body["items"]) < size:
            return items, total
        page += 1


def test_health_needs_no_token(server) -> None:
    r = httpx.get(f"{server.base_url}/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_bad_or_missing_token_is_401(server) -> None:
    base = str(server.base_url)
    assert httpx.get(base + PATH).status_code == 401
    r = httpx.get(base + PATH, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "token" in r.json()["error"]
    assert httpx.get(base + "/onestop/api/v1/reports/06?from=2021-01-01&to=2021-12-31").status_code == 401


def test_page_size_over_1000_is_400(server) -> None:
    assert server.get(PATH, params={"page_size": 1001}).status_code == 400
    assert server.get(PATH, params={"page": 0}).status_code == 400
    assert server.get(PATH, params={"updated_since": "yesterday"}).status_code == 400


def test_full_pull_returns_every_item_in_order(server) -> None:
    ds = simulated_dataset(**OPTS)
    items, total = pull(server, "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 1000)
    assert total == len(items) == ds.items.height
    keys = [(i["NgayCapNhat"], i["MaHoSo"]) for i in items]
    assert keys == sorted(keys)
    first = items[0]
    assert list(first)[:3] == ["MaHoSo", "MaTTHC", "TenTTHC"] and first["NgayCapNhat"].endswith("Z")
    assert isinstance(first["KetQuaDienTu"], bool) and isinstance(first["TrangThaiSoHoa"], int)
    assert {type(i["TrangThaiHoSo"]) for i in items} == {int, str}  # text statuses are dirt


def test_window_is_since_inclusive_until_exclusive_and_pages_tile_it(server) -> None:
    ds = simulated_dataset(**OPTS)
    stamps = ds.updated
    since, until = int(stamps[500]), int(stamps[1700])
    items, total = pull(server, iso(since), iso(until), 137)
    expected = int(((stamps >= since) & (stamps < until)).sum())
    assert total == len(items) == expected
    assert items[0]["NgayCapNhat"] == iso(since) and all(i["NgayCapNhat"] < iso(until) for i in items)
    # Adjacent windows neither lose nor repeat an item.
    before, _ = pull(server, "2000-01-01T00:00:00Z", iso(since), 1000)
    after, _ = pull(server, iso(until), "2030-01-01T00:00:00Z", 1000)
    assert len(before) + len(items) + len(after) == ds.items.height
    # An offset form of the same instant selects the same window.
    same = server.get(PATH, params={"updated_since": datetime.fromtimestamp(since, UTC).astimezone().isoformat(),
                                    "updated_until": iso(until)}).json()
    assert same["total"] == expected


def test_page_past_the_end_is_empty(server) -> None:
    body = server.get(PATH, params={"page": 10_000, "page_size": 1000}).json()
    assert body["items"] == [] and body["total"] == simulated_dataset(**OPTS).items.height


def test_report_06_is_the_vendor_report(server) -> None:
    ds = simulated_dataset(**OPTS)
    body = server.get("/onestop/api/v1/reports/06", params={"from": "2021-01-01", "to": "2021-12-31",
                                                           "by": "unit"}).json()
    assert body == json.loads(json.dumps(ds.expected_report06(datetime(2021, 1, 1).date(),
                                                              datetime(2021, 12, 31).date())))
    assert server.get("/onestop/api/v1/reports/06", params={"from": "2021-01-01"}).status_code == 400
    by_field = server.get("/onestop/api/v1/reports/06", params={"from": "2021-01-01", "to": "2021-12-31",
                                                               "by": "field"}).json()
    assert by_field["total"] == body["total"] and by_field["by"] == "field"


def test_krongpa_report_through_the_api() -> None:
    with running_simulator() as base:
        body = httpx.get(f"{base}/onestop/api/v1/reports/06", headers=AUTH,
                         params={"from": "2021-01-01", "to": "2022-12-31"}).json()
    t = body["total"]
    assert (t["c3"], t["c4"], t["c5"], t["c6"], t["c7"], t["c8"] + t["c9"], t["c10"], t["c11"]) == (
        87_221, 1_019, 86_088, 114, 87_221, 85_928, 1_293, 0)


def test_429_with_retry_after_then_success() -> None:
    with running_simulator(**OPTS, rate_429=1.0, retry_after=1, max_consecutive=2) as base:
        url, params = f"{base}{PATH}", {"page": 1, "page_size": 10}
        first = httpx.get(url, params=params, headers=AUTH)
        assert first.status_code == 429 and first.headers["Retry-After"] == "1"
        assert httpx.get(url, params=params, headers=AUTH).status_code == 429
        third = httpx.get(url, params=params, headers=AUTH)
        assert third.status_code == 200 and len(third.json()["items"]) == 10
        assert httpx.get(url, params=params, headers=AUTH).status_code == 429  # the cycle restarts
        assert httpx.get(f"{base}{PATH}", params=params).status_code == 401  # auth before faults
        assert httpx.get(f"{base}/health").json()["faults_served"]["429"] == 3


def test_dropped_and_truncated_bodies() -> None:
    with running_simulator(**OPTS, rate_drop=1.0, max_consecutive=1) as base:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{base}{PATH}", params={"page_size": 50}, headers=AUTH)
        assert httpx.get(f"{base}{PATH}", params={"page_size": 50}, headers=AUTH).status_code == 200
    with running_simulator(**OPTS, rate_truncated=1.0, max_consecutive=1) as base:
        r = httpx.get(f"{base}{PATH}", params={"page_size": 50}, headers=AUTH)
        assert r.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)


def test_faults_are_seeded_and_never_endless() -> None:
    opts = FaultOptions(rate_429=0.3, rate_5xx=0.3, rate_slow=0.1, rate_drop=0.1, rate_truncated=0.1,
                        max_consecutive=3)
    a, b = FaultInjector(opts, seed=1), FaultInjector(opts, seed=1)
    seq_a = [a.decide(f"k{i % 7}") for i in range(300)]
    assert seq_a == [b.decide(f"k{i % 7}") for i in range(300)]
    c = FaultInjector(opts, seed=2)
    assert seq_a != [c.decide(f"k{i % 7}") for i in range(300)]
    assert {"429", "5xx", "slow", "drop", "truncated"} <= set(seq_a)
    for key in ("x", "y", "z"):
        streak = 0
        for _ in range(200):
            streak = streak + 1 if a.decide(key) else 0
            assert streak <= 3
    assert all(FaultInjector(opts, seed=s).decide("q") in (None, "429", "5xx", "slow", "drop", "truncated")
               for s in range(20))
