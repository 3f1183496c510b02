"""``cchc serve``'s dashboard routes: 503 before the first publish, the page after, a redirect
from ``/``, loopback clients only, and no request that reads any other file."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from cchc.dashboard.routes import dashboard_app
from cchc.service.hooks import create_app

LOOPBACK = ("127.0.0.1", 50000)
SECRET = "a-real-shared-secret-of-some-length"
PAGE = "<!DOCTYPE html><title>Bảng theo dõi</title><p>Số liệu</p>"
TRICKS = [
    "/dashboard/../cchc.duckdb", "/dashboard/..%2Fcchc.duckdb", "/dashboard%2F..%2Fcchc.duckdb",
    "/..%2Fcchc.duckdb", "/%2e%2e/%2e%2e/etc/passwd", "/dashboard/../../../../etc/passwd",
    "/dashboard.html", "/cchc.duckdb", "/published/cchc.duckdb", "//etc/passwd",
    "/dashboard/x", "/dashboard;/../cchc.duckdb", "/dashboard%00.html", "/static/../cchc.duckdb",
]  # fmt: skip


@pytest.fixture
def published_dir(tmp_path: Path) -> Path:
    """A published folder holding a snapshot file the routes must never hand out."""
    folder = tmp_path / "published"
    folder.mkdir()
    (folder / "cchc.duckdb").write_bytes(b"SECRET-SNAPSHOT-BYTES")
    return folder


class _Client:
    """GET through httpx's ASGI transport, from a chosen client address, no redirects."""

    def __init__(self, app, client: tuple[str, int] = LOOPBACK) -> None:
        self.transport = httpx.ASGITransport(app=app, client=client)

    def get(self, path: str) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://127.0.0.1") as c:
                response = await c.get(path)
                await response.aread()
                return response

        return asyncio.run(go())


def _client(app) -> _Client:
    return _Client(app)


def _apps(page: Path) -> list:
    return [dashboard_app(page), create_app(SECRET, lambda *a: True, dashboard=page)]


def test_503_before_the_first_publish_then_200_with_the_page(published_dir: Path) -> None:
    page = published_dir / "dashboard.html"
    for app in _apps(page):
        client = _client(app)
        before = client.get("/dashboard")
        assert before.status_code == 503
        assert "chưa được công bố" in before.text and "cchc dashboard" in before.text
        page.write_text(PAGE, encoding="utf-8")
        after = client.get("/dashboard")
        assert after.status_code == 200 and after.text == PAGE
        assert after.headers["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in after.headers["content-security-policy"]
        assert after.headers["cache-control"] == "no-store"
        redirect = client.get("/")
        assert redirect.status_code == 307 and redirect.headers["location"] == "/dashboard"
        assert client.get("/health").status_code == 200
        page.unlink()


def test_only_loopback_clients_get_the_page(published_dir: Path) -> None:
    page = published_dir / "dashboard.html"
    page.write_text(PAGE, encoding="utf-8")
    for host in ("192.168.1.20", "10.0.0.5", "testclient"):
        response = _Client(dashboard_app(page), client=(host, 1)).get("/dashboard")
        assert response.status_code == 403 and PAGE not in response.text
    assert _Client(dashboard_app(page), client=("::1", 1)).get("/dashboard").status_code == 200


def _raw_get(app, raw_path: str, query: bytes = b"") -> tuple[int, bytes]:
    """GET as uvicorn hands it over: ``path`` percent-decoded, dot segments left as sent."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": unquote(raw_path), "raw_path": raw_path.encode(),
             "query_string": query, "root_path": "", "headers": [(b"host", b"127.0.0.1")],
             "client": LOOPBACK, "server": ("127.0.0.1", 8766)}  # fmt: skip
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_no_path_or_query_reads_another_file(published_dir: Path) -> None:
    page = published_dir / "dashboard.html"
    page.write_text(PAGE, encoding="utf-8")
    for app in _apps(page):
        for trick in TRICKS:
            status, body = _raw_get(app, trick)
            assert b"SECRET-SNAPSHOT-BYTES" not in body and b"root:" not in body, trick
            assert status in (404, 405, 307), (trick, status)
        status, body = _raw_get(app, "/dashboard", b"file=../cchc.duckdb&path=/etc/passwd")
        assert status == 200 and body == PAGE.encode()


def test_the_receiver_port_serves_the_dashboard_even_without_the_hooks(tmp_path: Path) -> None:
    from cchc.service.runtime import _bind_http

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        assert _bind_http("127.0.0.1", port, hook_off="no secret") is None  # dashboard off only
        with pytest.raises(RuntimeError, match="cannot listen"):
            _bind_http("127.0.0.1", port, hook_off=None)  # the hooks need it: fail
    finally:
        busy.close()
    sock = _bind_http("127.0.0.1", 0, hook_off="no secret")
    assert sock is not None
    sock.close()
