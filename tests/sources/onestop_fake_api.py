"""An in-process fake of the one-stop pull API for httpx.MockTransport, with scripted faults.

Deliberately tiny and independent of the simulator: it pages a list of items like the real API
(docs/source-systems.md §1) and replays a fault script, one entry per request, so each test states exactly
which request fails and how.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

TOKEN = "t0ken"
BASE = "http://onestop.test"


def api_item(i: int) -> dict[str, Any]:
    """A dossier object with the API's types (ints, booleans, nulls, code strings)."""
    return {
        "MaHoSo": f"000.00.12.H21-210315-{i:04d}",
        "MaTTHC": "1.001230" if i % 2 else "2.000635.000.00.00.H21",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT",
        "TenLinhVuc": "Hộ tịch",
        "MucDo": "4",
        "MaDonVi": "000.00.12.H21",
        "TenDonVi": "UBND xã Uar",
        "MaDVHC": None if i % 5 == 0 else "24109",
        "KenhThucHien": "2",
        "LoaiDoiTuong": "CongDan",
        "ChuHoSo": f"Nguyễn Văn {i}",
        "SoGiayTo": "064123456789",
        "SoDienThoai": None,
        "NgayNopHoSo": "2021-03-15T01:00:00Z",
        "NgayTiepNhan": "2021-03-15T02:31:00Z",
        "NgayHenTra": "2021-03-18T10:00:00Z",
        "NgayKetThucXuLy": None,
        "NgayTra": None,
        "TrangThaiHoSo": 4 + i % 7,
        "TrangThaiSoHoa": 1,
        "KetQuaDienTu": i % 2 == 0,
        "ThanhToanTrucTuyen": False,
        "DanhGia": None,
        "NgayCapNhat": f"2021-03-15T03:{i % 60:02d}:00Z",
    }


class _BrokenStream(httpx.SyncByteStream):
    """A body that sends some bytes and then the connection drops."""

    def __init__(self, head: bytes, error: type[httpx.TransportError]) -> None:
        self.head, self.error = head, error

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        raise self.error("connection reset by peer")


Fault = str | tuple[str, Any] | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeApi:
    """Pages ``items``; ``faults[n]`` (0-based request number) replaces the n-th answer."""

    items: list[dict[str, Any]]
    faults: dict[int, Fault] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    total_override: dict[int, int] = field(default_factory=dict)  # request number -> total

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def page_body(self, request: httpx.Request, n: int) -> dict[str, Any]:
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        chunk = self.items[(page - 1) * size : page * size]
        total = self.total_override.get(n, len(self.items))
        return {"page": page, "page_size": size, "total": total, "items": chunk}

    def handle(self, request: httpx.Request) -> httpx.Response:
        n = len(self.requests)
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "bad token"})
        fault = self.faults.get(n)
        if callable(fault):
            return fault(request)
        if request.url.path.endswith("/reports/06"):
            p = request.url.params
            return httpx.Response(
                200,
                json={
                    "from": p["from"],
                    "to": p["to"],
                    "by": p["by"],
                    "rows": [],
                    "total": {"c3": 0},
                },
            )
        body = json.dumps(self.page_body(request, n)).encode()
        match fault:
            case None:
                return httpx.Response(
                    200, content=body, headers={"Content-Type": "application/json"}
                )
            case ("status", int(code)):
                return httpx.Response(code, text="nope")
            case ("429", retry_after):
                return httpx.Response(429, headers={"Retry-After": str(retry_after)})
            case "truncated":
                return httpx.Response(200, content=body[: len(body) // 2])
            case "reset_mid_body":
                return httpx.Response(200, stream=_BrokenStream(body[:100], httpx.ReadError))
            case "protocol_mid_body":
                return httpx.Response(
                    200, stream=_BrokenStream(body[:100], httpx.RemoteProtocolError)
                )
            case "timeout":
                raise httpx.ReadTimeout("timed out", request=request)
            case "connect":
                raise httpx.ConnectError("connection refused", request=request)
        raise AssertionError(f"unknown fault {fault!r}")
