"""The real pull flow (Prefect) three nights in a row: twice the source renames a required key,
once it is fixed. The gate's alert reaches a real SMTP server once, its resolution once, and
the rejected pull raises no second (pull_failed) alert. A second channel (a JSON webhook) is
down all along: the load still succeeds, and once the webhook is back a later round delivers
both messages. The API is an in-process fake with the one-stop API's paging, as in
tests/integration/test_renamed_api_key_gate.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from alert_fixtures import JsonReceiver, SmtpInbox, free_port

from cchc.config import load_settings, utc_now

pytestmark = pytest.mark.integration

BASE = "http://fake-source.test"


def _dossiers(renamed: bool) -> list[dict[str, Any]]:
    """Forty dossiers as the one-stop API serves them; ``renamed``: NgayTiepNhan is now
    NgayTiepNhanHS (the vendor's upgrade)."""
    received = "NgayTiepNhanHS" if renamed else "NgayTiepNhan"
    return [{
        "MaHoSo": f"000.00.12.H21-210315-{i:04d}", "MaTTHC": "1.001230",
        "TenTTHC": "Đăng ký khai sinh", "MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "MucDo": "4",
        "MaDonVi": "000.00.12.H21", "TenDonVi": "UBND xã Uar", "MaDVHC": "24109",
        "KenhThucHien": "2", "LoaiDoiTuong": "CongDan", "ChuHoSo": f"Nguyễn Văn {i}",
        "SoGiayTo": "064123456789", "SoDienThoai": None, "NgayNopHoSo": "2021-03-15T01:00:00Z",
        received: "2021-03-15T02:31:00Z", "NgayHenTra": "2021-03-18T10:00:00Z",
        "NgayKetThucXuLy": None, "NgayTra": None, "TrangThaiHoSo": 4, "TrangThaiSoHoa": 1,
        "KetQuaDienTu": True, "ThanhToanTrucTuyen": False, "DanhGia": None,
        "NgayCapNhat": f"2021-03-15T03:{i:02d}:00Z",
    } for i in range(40)]


def _serve(monkeypatch: pytest.MonkeyPatch, served: list[list[dict[str, Any]]]) -> None:
    """The API answers with ``served[-1]`` (append to change what it serves)."""
    from sources.api import PagedClient

    def handle(request: httpx.Request) -> httpx.Response:
        items = served[-1]
        page, size = int(request.url.params["page"]), int(request.url.params["page_size"])
        body = {"page": page, "page_size": size, "total": len(items),
                "items": items[(page - 1) * size: page * size]}
        return httpx.Response(200, content=json.dumps(body).encode(),
                              headers={"Content-Type": "application/json"})

    original = PagedClient.__init__

    def with_fake_transport(self, *args: Any, **kwargs: Any) -> None:
        kwargs["transport"] = httpx.MockTransport(handle)
        original(self, *args, **kwargs)

    monkeypatch.setattr(PagedClient, "__init__", with_fake_transport)


def test_two_nights_of_a_renamed_key_then_fixed(data_dir: Path, prefect_harness: None,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from cchc.notify import deliver_pending
    from flows.pull import PullRejected, pull_onestop

    smtp = SmtpInbox().start()
    webhook_port = free_port()  # nothing listens there yet
    try:
        monkeypatch.setenv("CCHC_ONESTOP_URL", BASE)
        monkeypatch.setenv("CCHC_ALERT_URLS",  # channels from the environment
                           f"{smtp.url} json://127.0.0.1:{webhook_port}/cchc")
        window = dict(since="2021-01-01T00:00:00Z", until="2021-04-01T00:00:00Z")
        served = [_dossiers(renamed=True)]
        _serve(monkeypatch, served)
        for _night in range(2):
            with pytest.raises(PullRejected):
                pull_onestop(**window)
        assert len(smtp.messages) == 1, smtp.subjects()
        [subject] = smtp.subjects()
        assert subject.startswith("[cchc] critical gate_failed onestop: ")
        body = smtp.bodies()[0]
        assert "Ngày tiếp nhận" in body and "NgayTiepNhanHS" in body
        assert "rows_received = 40" in body and "rows_reported = 40" in body

        served.append(_dossiers(renamed=False))
        assert pull_onestop(**window)["status"] == "succeeded"
        assert len(smtp.messages) == 2, smtp.subjects()
        assert "đã khắc phục" in smtp.subjects()[1] and "ĐÃ KHẮC PHỤC" in smtp.bodies()[1]

        webhook = JsonReceiver(port=webhook_port).start()  # the webhook is back
        try:
            report = deliver_pending(load_settings(), now=utc_now() + timedelta(minutes=30))
        finally:
            webhook.stop()
        assert report.sent == 2 and [m["type"] for m in webhook.received] == ["failure", "success"]
    finally:
        smtp.stop()
    con = duckdb.connect(str(load_settings().warehouse_path), read_only=True)
    try:
        alerts = con.execute("SELECT kind, status, seen_count FROM dq_alerts "
                             "WHERE severity <> 'info' ORDER BY raised_at").fetchall()
        sent = con.execute("SELECT event, status FROM dq_alert_deliveries "
                           "ORDER BY created_at, channel LIKE 'json%'").fetchall()
    finally:
        con.close()
    assert alerts == [("gate_failed", "resolved", 2)]
    assert sent == [("opened", "sent")] * 2 + [("resolved", "sent")] * 2
