"""The dashboard over HTTP: ``GET /`` redirects to ``GET /dashboard``, which answers the page file.

The route serves exactly one file, fixed when the app is made (``data/published/dashboard.html``):
no part of the request names a file, so no path, query or encoding trick can make it read another
(anything but ``/`` and ``/dashboard`` is 404). Before the first publish there is no page: 503
with a message that says how to make one. The page is answered to loopback clients only (403
otherwise), even when the receiver that carries it listens on another interface for the source
systems' notifications. The file is read whole per request, so a page replaced meanwhile (atomic
rename) is served old or new, never a mix.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from cchc.dashboard.page import CONTENT_SECURITY_POLICY

DASHBOARD_ROUTE = "/dashboard"
NOT_YET = ("Chưa có bảng theo dõi: kho dữ liệu chưa được công bố lần nào. Trang sẽ có sau lần "
           "nạp đầu tiên (cchc run, cchc ingest, cchc demo), hoặc chạy: cchc dashboard\n"
           "No dashboard yet: nothing has been published. It is written after the first load "
           "(or run `cchc dashboard`).\n")
LOOPBACK_ONLY = "The dashboard is served to this machine only (127.0.0.1).\n"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # the page's own policy, plus what only a header can say: no framing
    "Content-Security-Policy": f"{CONTENT_SECURITY_POLICY}; frame-ancestors 'none'",
}


def is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dashboard_routes(page: Path) -> list[Route]:
    """``GET /`` and ``GET /dashboard`` serving the file ``page`` (and nothing else)."""

    async def index(request: Request) -> Response:
        return RedirectResponse(DASHBOARD_ROUTE, status_code=307)

    async def dashboard(request: Request) -> Response:
        if not is_loopback(request):
            return PlainTextResponse(LOOPBACK_ONLY, status_code=403)
        try:
            body = await anyio.to_thread.run_sync(page.read_bytes)
        except FileNotFoundError:
            return PlainTextResponse(NOT_YET, status_code=503, headers={"Retry-After": "300"})
        return Response(body, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    return [Route("/", index, methods=["GET", "HEAD"]),
            Route(DASHBOARD_ROUTE, dashboard, methods=["GET", "HEAD"])]


def dashboard_app(page: Path) -> Starlette:
    """The dashboard alone (and ``/health``): what ``cchc serve`` runs on the receiver's port
    when the change-notification receiver is off (no shared secret set)."""

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(routes=[*dashboard_routes(page), Route("/health", health, methods=["GET"])])
