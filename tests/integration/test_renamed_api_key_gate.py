"""The column gate on a pull whose items carry a renamed key: rejected, the field named, nothing
written. Pipeline steps called directly (no Prefect) against an in-process fake API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from cchc import pipeline
from cchc.config import load_settings
from simulator.testing import simulated_documents
from sources.registry import source

pytestmark = pytest.mark.integration

SINCE = datetime(2020, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
BASE = "http://fake-source.test"


def _eoffice_items() -> list[dict[str, Any]]:
    """Sixty documents as the simulated e-document API serves them."""
    return simulated_documents(scenario="scale", dossiers=600, seed=3).api_items()[:60]


def _onestop_items() -> list[dict[str, Any]]:
    """Forty dossiers with the one-stop API's types."""
    return [
        {
            "MaHoSo": f"000.00.12.H21-210315-{i:04d}", "MaTTHC": "1.001230", "TenTTHC": "Đăng ký khai sinh",
            "MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "MucDo": "4", "MaDonVi": "000.00.12.H21",
            "TenDonVi": "UBND xã Uar", "MaDVHC": "24109", "KenhThucHien": "2", "LoaiDoiTuong": "CongDan",
            "ChuHoSo": f"Nguyễn Văn {i}", "SoGiayTo": "064123456789", "SoDienThoai": None,
            "NgayNopHoSo": "2021-03-15T01:00:00Z", "NgayTiepNhan": "2021-03-15T02:31:00Z",
            "NgayHenTra": "2021-03-18T10:00:00Z", "NgayKetThucXuLy": None, "NgayTra": None,
            "TrangThaiHoSo": 4, "TrangThaiSoHoa": 1, "KetQuaDienTu": True, "ThanhToanTrucTuyen": False,
            "DanhGia": None, "NgayCapNhat": f"2021-03-15T03:{i:02d}:00Z",
        }
        for i in range(40)
    ]


def _rename(items: list[dict[str, Any]], old: str | None, new: str | None) -> list[dict[str, Any]]:
    if old is None:
        return items
    return [{(new if k == old else k): v for k, v in item.items()} for item in items]


def _fake_api(items: list[dict[str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["page_size"])
        body = {"page": page, "page_size": size, "total": len(items),
                "items": items[(page - 1) * size: page * size]}
        return httpx.Response(200, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handle)


def _counts(settings, system: str, entity: str) -> dict[str, int]:
    path = settings.warehouse_path
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in (f"raw_{system}__{entity}_versions", f"quarantine_{system}__{entity}s",
                          f"core_{system}__{entity}s")}
    finally:
        con.close()


@pytest.mark.parametrize(
    "system,old,new,label",
    [
        ("eoffice", "DoMat", "DoMatX", "Độ mật"),
        ("eoffice", "TrangThai", "TrangThaiHS", "Trạng thái"),
        ("onestop", "NgayTiepNhan", "NgayTiepNhanHS", "Ngày tiếp nhận"),
        ("eoffice", None, None, None),  # control: the same fake, nothing renamed, loads
        ("onestop", None, None, None),
    ],
)
def test_a_renamed_api_key_rejects_the_pull_naming_the_field(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, system: str, old: str | None, new: str | None,
    label: str | None,
) -> None:
    from sources.api import PagedClient

    items = _rename(_eoffice_items() if system == "eoffice" else _onestop_items(), old, new)
    transport = _fake_api(items)
    original = PagedClient.__init__

    def with_fake_transport(self, *args: Any, **kwargs: Any) -> None:
        kwargs["transport"] = transport
        original(self, *args, **kwargs)

    monkeypatch.setattr(PagedClient, "__init__", with_fake_transport)
    monkeypatch.setenv(f"CCHC_{system.upper()}_URL", BASE)
    settings = load_settings()
    spec = source(system)

    batch = pipeline.stage_pull(settings, spec, SINCE, UNTIL)
    assert batch.rows == len(items) and batch.system == system
    summary = pipeline.load_batch(settings, batch)
    counts = _counts(settings, system, spec.entity)
    if old is None:
        assert summary.status == "succeeded", summary.message
        assert summary.rows_in == len(items) and summary.balanced
        assert counts[f"core_{system}__{spec.entity}s"] > 0
        return

    assert summary.status == "rejected", summary
    assert label in summary.message and old in summary.message, summary.message
    assert new in summary.message, "the reason should point at the renamed key"
    assert counts == dict.fromkeys(counts, 0), counts
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        loads = con.execute("SELECT source_system, status, message FROM etl_loads").fetchall()
        alerts = con.execute("SELECT kind, message FROM dq_alerts").fetchall()
        marks = con.execute("SELECT count(*) FROM etl_watermarks").fetchone()[0]
    finally:
        con.close()
    assert loads == [(system, "rejected", summary.message)]
    assert [a[0] for a in alerts] == ["gate_failed"] and label in alerts[0][1]
    assert marks == 0, "a rejected pull must not move the watermark"
