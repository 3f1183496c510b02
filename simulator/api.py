"""The one-stop system's pull API (docs/source-systems.md §1) and the e-document system's
(``/eoffice/api/v1/documents``), served by one Starlette app.

Items are pre-sorted once by (NgayCapNhat, MaHoSo); a window is two bisections and a page is a
slice, so every page costs O(page_size) whatever the size of the system. Faults (429, 5xx, slow,
dropped connections, truncated JSON) are injected by ``simulator.faults``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import date
from typing import Any

import polars as pl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from simulator.dataset import API_FIELDS, INSTANT_FIELDS, Dataset, get_dataset, utc_seconds
from simulator.faults import FaultInjector
from simulator.options import SimOptions

MAX_PAGE_SIZE = 1000
DOSSIERS_PATH = "/onestop/api/v1/dossiers"
REPORT_PATH = "/onestop/api/v1/reports/06"
DOCUMENTS_PATH = "/eoffice/api/v1/documents"
_DROP_MESSAGE = "ASGI callable returned without completing response."


def _formatted(chunk: pl.DataFrame) -> pl.DataFrame:
    return chunk.with_columns(
        [pl.from_epoch(c, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(c) for c in INSTANT_FIELDS])


def api_items(chunk: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as API dossier objects: ISO UTC instants, a text status where the dirt put one."""
    rows = _formatted(chunk).select(*API_FIELDS, "_status_text").to_dicts()
    for row in rows:
        text = row.pop("_status_text")
        if text is not None:
            row["TrangThaiHoSo"] = text
    return rows


def api_items_json(chunk: pl.DataFrame) -> str:
    """The items array as JSON text; polars writes it (7x faster than json.dumps) unless a text
    status needs the mixed-type Python path."""
    if chunk["_status_text"].null_count() < chunk.height:
        return json.dumps(api_items(chunk), ensure_ascii=False)
    return _formatted(chunk).select(API_FIELDS).write_json()


class _DroppedResponse(Response):
    """Announces the full length, sends half of the body, then gives up: the server closes the
    connection mid-body, as a failing proxy or a reset would."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


class _QuietDrops(logging.Filter):
    """Keep uvicorn from logging every deliberate drop as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _DROP_MESSAGE


def quiet_drop_logs() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def create_app(options: SimOptions, dataset: Dataset | None = None) -> Starlette:
    """The API for one simulated system (its dataset is built now, if not given; the
    e-document dataset on the first documents request, unless already cached)."""
    from simulator.doc_dataset import api_json as documents_json
    from simulator.doc_dataset import get_documents

    ds = dataset or get_dataset(options)
    faults = FaultInjector(options.faults, options.seed)
    reports: dict[tuple[str, str, str], bytes] = {}

    def now_s() -> int:
        return int(options.now.timestamp()) if options.now is not None else int(time.time())

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {options.token}"

    async def faulty(request: Request, body: bytes) -> Response:
        """Answer ``body`` (JSON), or the fault this attempt draws."""
        key = f"{request.url.path}?{'&'.join(sorted(f'{k}={v}' for k, v in request.query_params.items()))}"
        kind = faults.decide(key)
        o = options.faults
        if kind == "429":
            return _error(429, "too many requests", {"Retry-After": str(o.retry_after)})
        if kind == "5xx":
            status = faults.status_5xx(key)
            return _error(status, {500: "internal error", 502: "bad gateway", 503: "service unavailable"}[status])
        if kind == "slow":
            await asyncio.sleep(o.slow_seconds)
        if kind == "drop":
            return _DroppedResponse(body)
        if kind == "truncated":
            return Response(body[: max(1, len(body) * 2 // 3)], media_type="application/json")
        return Response(body, media_type="application/json")

    def paging(request: Request) -> tuple[int, int, int, int] | Response:
        """(since, until, page, size) of a pull request, or the 400 to answer."""
        q = request.query_params
        try:
            since = utc_seconds(q.get("updated_since", "1970-01-01T00:00:00Z"))
            until = utc_seconds(q["updated_until"]) if "updated_until" in q else now_s()
            page, size = int(q.get("page", "1")), int(q.get("page_size", str(MAX_PAGE_SIZE)))
        except (ValueError, KeyError) as exc:
            return _error(400, f"bad query parameter: {exc}")
        if page < 1 or size < 1:
            return _error(400, "page and page_size must be >= 1")
        if size > MAX_PAGE_SIZE:
            return _error(400, f"page_size must be <= {MAX_PAGE_SIZE}")
        return since, min(until, now_s()), page, size

    async def dossiers(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"})
        parsed = paging(request)
        if isinstance(parsed, Response):
            return parsed
        since, until, page, size = parsed
        lo, hi = ds.window(since, until)
        start = min(hi, lo + (page - 1) * size)
        chunk = ds.items.slice(start, min(size, hi - start))
        head = json.dumps({"page": page, "page_size": size, "total": hi - lo})
        body = f'{head[:-1]}, "items": {api_items_json(chunk)}}}'.encode()
        return await faulty(request, body)

    async def documents(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"})
        parsed = paging(request)
        if isinstance(parsed, Response):
            return parsed
        since, until, page, size = parsed
        direction = request.query_params.get("direction") or None
        if direction not in (None, "DEN", "DI"):
            return _error(400, "direction must be DEN or DI")
        frame, lo, hi = get_documents(options).window(since, until, direction)
        start = min(hi, lo + (page - 1) * size)
        chunk = frame.slice(start, min(size, hi - start))
        head = json.dumps({"page": page, "page_size": size, "total": hi - lo})
        body = f'{head[:-1]}, "items": {documents_json(chunk)}}}'.encode()
        return await faulty(request, body)

    async def report(request: Request) -> Response:
        if not authorised(request):
            return _error(401, "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"})
        q = request.query_params
        by = q.get("by", "unit")
        try:
            d_from, d_to = date.fromisoformat(q["from"]), date.fromisoformat(q["to"])
        except (KeyError, ValueError):
            return _error(400, "from and to are required, as YYYY-MM-DD")
        if by not in ("unit", "field") or d_from > d_to:
            return _error(400, "by must be unit or field, and from <= to")
        key = (d_from.isoformat(), d_to.isoformat(), by)
        if key not in reports:
            reports[key] = json.dumps(ds.expected_report06(d_from, d_to, by), ensure_ascii=False).encode()
        return await faulty(request, reports[key])

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "scenario": options.scenario, "seed": options.seed,
                             "items": ds.items.height, "faults_served": dict(faults.served)})

    app = Starlette(routes=[Route(DOSSIERS_PATH, dossiers), Route(REPORT_PATH, report),
                            Route(DOCUMENTS_PATH, documents), Route("/health", health)])
    app.state.dataset = ds
    app.state.faults = faults
    return app
