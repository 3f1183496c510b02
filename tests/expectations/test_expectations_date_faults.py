"""Unreadable and implausible dates are CRITICAL, quoted from the raw text, in both systems."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from expectations.validate import validate
from sources.eoffice.fields import RAW_FIELDS as DOC_FIELDS
from sources.eoffice.tables import CORE_EOFFICE_DOCUMENTS
from sources.onestop.fields import RAW_FIELDS as DOSSIER_FIELDS
from sources.onestop.tables import CORE_ONESTOP_DOSSIERS
from transforms import eoffice_documents, onestop_dossiers
from transforms.context import TransformContext
from warehouse.seeds import load_admin_units

UNREADABLE = "date is unreadable"
RANGE = ("date is outside the plausible range (before 2000-01-01 or more than a year after "
         "the load date)")

DOSSIER = {
    "MaHoSo": "000.00.12.H21-240315-0007", "MaTTHC": "1.001230", "MucDo": "3",
    "TenDonVi": "UBND xã Ia Rsươm", "MaDVHC": "24082", "KenhThucHien": "2",
    "LoaiDoiTuong": "CongDan", "NgayNopHoSo": "15/03/2024 06:10",
    "NgayTiepNhan": "15/03/2024 06:30", "NgayHenTra": "20/03/2024 17:00",
    "NgayKetThucXuLy": "18/03/2024 09:00", "NgayTra": "18/03/2024 10:00",
    "TrangThaiHoSo": "10", "NgayCapNhat": "18/03/2024 10:00",
}
DOCUMENT = {
    "MaVanBan": "VB-24082-2024-DEN-000012", "LoaiVanBan": "DEN", "TenDonVi": "UBND xã Ia Rsươm",
    "MaDVHC": "24082", "SoDen": "12", "TenLoaiVanBan": "Công văn", "NgayBanHanh": "10/03/2024",
    "NgayDen": "14/03/2024", "DoMat": "Thuong", "DoKhan": "Khan", "HanXuLy": "21/03/2024",
    "NgayHoanThanh": "20/03/2024", "TrangThai": "DaXuLy", "HinhThuc": "DienTu",
    "NgayCapNhat": "2024-03-20T09:30:00Z",
}


@pytest.fixture(scope="module")
def ctx() -> TransformContext:
    return TransformContext(load_admin_units(), "64", "637", date(2024, 3, 25),
                            datetime(2024, 3, 25, 1, 0, tzinfo=UTC))


def _raw(base: dict, rows: list[dict], fields: tuple[str, ...]) -> pl.DataFrame:
    frame = pl.DataFrame([{f: dict(base, **r).get(f) for f in fields} for r in rows],
                         schema={f: pl.String for f in fields})
    return frame.with_columns(pl.lit("test.xlsx").alias("_source"),
                              pl.int_range(2, len(rows) + 2, dtype=pl.Int64).alias("_source_row"))


def test_dossier_dates(gx_ready, ctx) -> None:
    rows = [
        {},
        {"NgayHenTra": "30/02/2021"},
        {"NgayHenTra": "20/03/2024 25:61"},
        {"NgayTiepNhan": "01/01/1970 08:00", "NgayNopHoSo": "01/01/1970 07:00"},
        {"NgayHenTra": "20/03/2026 17:00"},
        {"NgayKetThucXuLy": "31/12/1999"},
        {"NgayHenTra": None},  # missing: a warning, loaded (form 06 flags it), not quarantined
    ]
    raw = _raw(DOSSIER, rows, DOSSIER_FIELDS)
    core = onestop_dossiers.transform(raw, ctx).frame
    v = validate(core, raw, CORE_ONESTOP_DOSSIERS)
    crit = v.critical.to_list()
    assert crit[0] == [] and v.warnings[0].to_list() == []
    assert crit[1] == [f"NgayHenTra='30/02/2021': {UNREADABLE}"]
    assert crit[2] == [f"NgayHenTra='20/03/2024 25:61': {UNREADABLE}"]
    assert crit[3] == [f"NgayNopHoSo='01/01/1970 07:00': {RANGE}",
                       f"NgayTiepNhan='01/01/1970 08:00': {RANGE}"]
    assert crit[4] == [f"NgayHenTra='20/03/2026 17:00': {RANGE}"]
    # Finished before it was received *and* implausible: both said.
    assert f"NgayKetThucXuLy='31/12/1999': {RANGE}" in crit[5]
    assert crit[6] == [] and len(v.warnings[6]) == 1


def test_document_dates(gx_ready, ctx) -> None:
    rows = [
        {},
        {"HanXuLy": "30/02/2024"},
        {"NgayBanHanh": "1970-01-01"},
        {"NgayDen": "14/03/2124", "NgayHoanThanh": None},
        {"NgayHoanThanh": "25:61"},
        {"HanXuLy": "20/09/2024"},  # months after the load: a legitimate deadline
    ]
    raw = _raw(DOCUMENT, rows, DOC_FIELDS)
    core = eoffice_documents.to_core(raw, ctx).frame
    crit = validate(core, raw, CORE_EOFFICE_DOCUMENTS).critical.to_list()
    assert crit[0] == [] and crit[5] == []
    assert crit[1] == [f"HanXuLy='30/02/2024': {UNREADABLE}"]
    assert crit[2] == [f"NgayBanHanh='1970-01-01': {RANGE}"]
    assert crit[3] == [f"NgayDen='14/03/2124': {RANGE}"]
    assert crit[4] == [f"NgayHoanThanh='25:61': {UNREADABLE}"]
