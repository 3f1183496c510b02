"""The page in a real browser (Debian's headless Chromium through Playwright), offline: opened as
a file and served by the dashboard app on loopback, every chart draws its SVG, no request
leaves the page's own origin, the console shows no error, and the data's hostile text runs no
script. A screenshot goes to the test's folder and to ``test-output/dashboard.png``.

Without /usr/bin/chromium the test is skipped with the reason, or fails when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cchc.config import Settings
from cchc.dashboard import dashboard_path

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
SCREENSHOT_COPY = Path(__file__).resolve().parents[2] / "test-output" / "dashboard.png"


def _need_chromium() -> None:
    if CHROMIUM.is_file():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium) for the dashboard browser test"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def _served(page: Path) -> Iterator[str]:
    """The dashboard app on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    from cchc.dashboard.routes import dashboard_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(dashboard_app(page), log_level="warning",
                                           lifespan="off", log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _check(browser_page, url: str, allowed: tuple[str, ...]) -> list[str]:
    """Open ``url``; returns the requests made. Fails on console errors, page errors, charts
    without their SVG, or a script from the data having run."""
    requests: list[str] = []
    problems: list[str] = []
    browser_page.on("request", lambda r: requests.append(r.url))
    browser_page.on("console", lambda m: m.type in ("error", "warning") and problems.append(
        f"console {m.type}: {m.text}"))
    browser_page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    browser_page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    browser_page.goto(url, wait_until="load")
    charts = browser_page.locator(".plotly-graph-div")
    assert charts.count() == 4
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=10_000)
    assert browser_page.evaluate("window.__pwned") is None
    assert browser_page.locator("td img, td script, td a[href^='javascript']").count() == 0
    assert problems == []
    strays = [r for r in requests if not r.startswith(allowed)]
    assert strays == [], f"requests left the page's origin: {strays}"
    return requests


def test_the_page_renders_offline_in_chromium(published: Settings, tmp_path: Path) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    page_file = dashboard_path(published)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1366, "height": 900}, service_workers="block")
        try:
            opened = context.new_page()
            requests = _check(opened, page_file.as_uri(), (page_file.as_uri(), "data:", "blob:"))
            assert requests[0] == page_file.as_uri()
            shot = tmp_path / "dashboard.png"
            opened.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
            SCREENSHOT_COPY.parent.mkdir(exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT_COPY)
            with _served(page_file) as base:
                requests = _check(context.new_page(), f"{base}/", (base + "/", "data:", "blob:"))
                assert requests[:2] == [f"{base}/", f"{base}/dashboard"]  # the redirect, the page
        finally:
            context.close()
