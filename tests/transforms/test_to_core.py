"""RAW FRAME → CORE FRAME: the same dossier from the API and from a file gives the same row."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from transforms_samples import nfd

from sources.onestop.fields import API_ONLY_FIELDS, RAW_FIELDS
from transforms.hashing import row_hash
from transforms.legacy_text import encode_tcvn3, encode_vni
from transforms.onestop_dossiers import CoreBatch, core_schema, to_core
from warehouse.seeds import load_admin_units

AS_OF = date(2021, 3, 20)
PROVENANCE = ("source", "source_row", "row_hash")
# Derived only from fields the file export does not have (docs/source-systems.md §4–5).
API_ONLY = ("field_code", "receiving_unit_id")

# Two dossiers as the pull API sends them (codes, UTC instants).
API = [
    {
        "MaHoSo": "000.00.12.H21-210315-0007",
        "MaTTHC": "1.001230.000.00.00.H21",
        "TenTTHC": "Chứng thực bản sao từ bản chính",
        "MaLinhVuc": "CT",
        "TenLinhVuc": "Chứng thực",
        "MucDo": "3",
        "MaDonVi": "000.00.12.H21",
        "TenDonVi": "UBND xã Ia Rsươm",
        "MaDVHC": "24082",
        "KenhThucHien": "2",
        "LoaiDoiTuong": "CongDan",
        "ChuHoSo": "Nguyễn Thị Ánh",
        "SoGiayTo": "064123456789",
        "SoDienThoai": "0905123456",
        "NgayNopHoSo": "2021-03-14T23:10:00Z",
        "NgayTiepNhan": "2021-03-14T23:30:00Z",  # 06:30 on the 15th, local
        "NgayHenTra": "2021-03-17T10:00:00Z",
        "NgayKetThucXuLy": "2021-03-17T02:00:00Z",
        "NgayTra": "2021-03-17T03:00:00Z",
        "TrangThaiHoSo": "10",
        "TrangThaiSoHoa": "1",
        "KetQuaDienTu": "true",
        "ThanhToanTrucTuyen": "false",
        "DanhGia": "RatHaiLong",
        "NgayCapNhat": "2021-03-17T03:00:00Z",
    },
    {
        "MaHoSo": "000.00.12.H21-210316-0001",
        "MaTTHC": "2.000635",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT",
        "TenLinhVuc": "Hộ tịch",
        "MucDo": "4",
        "MaDonVi": "000.00.12.H21",
        "TenDonVi": "UBND huyện Krông Pa",
        "MaDVHC": None,
        "KenhThucHien": "1",
        "LoaiDoiTuong": "ToChuc",
        "ChuHoSo": "Hợp tác xã Đất Bằng",
        "SoGiayTo": None,
        "SoDienThoai": None,
        "NgayNopHoSo": "2021-03-16T01:00:00Z",
        "NgayTiepNhan": "2021-03-16T01:00:00Z",
        "NgayHenTra": "2021-03-18T10:00:00Z",
        "NgayKetThucXuLy": None,
        "NgayTra": None,
        "TrangThaiHoSo": "4",
        "TrangThaiSoHoa": "0",
        "KetQuaDienTu": "false",
        "ThanhToanTrucTuyen": "false",
        "DanhGia": None,
        "NgayCapNhat": "2021-03-16T01:00:00Z",
    },
]

# The same dossiers in a file export: labels, local times, Excel serials, numbers read as
# numbers, NFD text, spelling variants.
FILE = [
    dict(
        API[0],
        MaTTHC="1.00123",  # read as a number: lost its trailing zero
        MucDo="Một phần",
        TenDonVi="UBND xã Ia Rsươm",
        MaDVHC="24082",
        KenhThucHien="Trực tuyến",
        LoaiDoiTuong="Công dân",
        ChuHoSo=nfd("Nguyễn  Thị Ánh "),
        SoGiayTo="64123456789",  # read as a number: lost its leading zero
        SoDienThoai="905123456",
        NgayNopHoSo="15/03/2021 06:10",
        NgayTiepNhan="15/03/2021 06:30",
        NgayHenTra="2021-03-17T17:00:00",  # an Excel date cell, as the reader gives it
        NgayKetThucXuLy="44272.375",  # a serial saved as a number: 17/03/2021 09:00
        NgayTra="17/03/2021 10:00",
        TrangThaiHoSo="Đã trả kết quả",
        TrangThaiSoHoa="Đã số hóa",
        KetQuaDienTu="Có",
        ThanhToanTrucTuyen="Không",
        DanhGia="Rất hài lòng",
        NgayCapNhat="17/03/2021 10:00",
        MaLinhVuc=None,
        MaDonVi=None,
    ),
    dict(
        API[1],
        MaTTHC="2.000635.000.00.00.H21",
        MucDo="Toàn trình",
        KenhThucHien="Trực tiếp",
        LoaiDoiTuong="Tổ chức",
        NgayNopHoSo="16/03/2021 08:00",
        NgayTiepNhan="16/03/2021 08:00",
        NgayHenTra="18/03/2021 17:00",
        TrangThaiHoSo="Đang xử lý",
        TrangThaiSoHoa="Chưa số hóa",
        KetQuaDienTu="Không",
        ThanhToanTrucTuyen="Không",
        NgayCapNhat="16/03/2021 08:00",
        MaLinhVuc=None,
        MaDonVi=None,
    ),
]

LEGACY_TEXT = (
    "TenTTHC",
    "TenLinhVuc",
    "TenDonVi",
    "ChuHoSo",
    "MucDo",
    "KenhThucHien",
    "LoaiDoiTuong",
    "TrangThaiHoSo",
    "TrangThaiSoHoa",
    "KetQuaDienTu",
    "ThanhToanTrucTuyen",
    "DanhGia",
)


def _raw(rows: list[dict], source: str, first_row: int = 1) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={f: pl.String for f in RAW_FIELDS})
    return frame.with_columns(
        pl.lit(source).alias("_source"),
        pl.int_range(first_row, first_row + len(rows), dtype=pl.Int64).alias("_source_row"),
    )


def _legacy(rows: list[dict], encode) -> list[dict]:
    return [{k: (encode(v) if k in LEGACY_TEXT and v else v) for k, v in r.items()} for r in rows]


@pytest.fixture(scope="module")
def units() -> pl.DataFrame:
    return load_admin_units()


def _core(raw: pl.DataFrame, units: pl.DataFrame) -> CoreBatch:
    return to_core(raw, units, province_code="64", district_code="637", as_of=AS_OF)


def test_shape_types_order_and_provenance(units: pl.DataFrame) -> None:
    raw = _raw(API, "GET /onestop/api/v1/dossiers page 1", first_row=1001)
    core = _core(raw, units).frame
    assert core.schema == core_schema()
    assert "load_id" not in core.columns and "dq_warnings" not in core.columns
    assert core["dossier_code"].to_list() == [r["MaHoSo"] for r in API]
    assert core["source_row"].to_list() == [1001, 1002]
    assert core["source"].unique().to_list() == ["GET /onestop/api/v1/dossiers page 1"]
    assert core["row_hash"].to_list() == row_hash(raw).to_list()


def test_api_row_values(units: pl.DataFrame) -> None:
    row = _core(_raw(API, "api"), units).frame.row(0, named=True)
    assert row["procedure_code_raw"] == "1.001230.000.00.00.H21"
    assert row["procedure_code"] == "1.001230"
    assert row["received_date"] == date(2021, 3, 15)  # 23:30Z on the 14th is the 15th locally
    assert (row["status"], row["channel"], row["service_level"], row["digitisation"]) == (
        10,
        2,
        3,
        1,
    )
    assert (row["electronic_result"], row["paid_online"], row["rating"]) == (
        True,
        False,
        "RatHaiLong",
    )
    assert (row["unit_code"], row["unit_code_source"]) == ("24082", "code")
    assert row["timeliness"] == "on_due"
    second = _core(_raw(API, "api"), units).frame.row(1, named=True)
    assert (second["unit_code"], second["unit_code_source"]) == ("637", "name")
    assert second["due_date"] == date(2021, 3, 18)
    assert second["timeliness"] == "open_overdue"  # still processing two days after the due day


def _comparable(core: pl.DataFrame) -> pl.DataFrame:
    """Everything but provenance, the raw code, and what only the API sends or how the unit
    was found (the file names it, the API gives its code)."""
    return core.drop(*PROVENANCE, *API_ONLY, "procedure_code_raw", "unit_code_source")


@pytest.mark.parametrize(
    "encode", [None, encode_tcvn3, encode_vni], ids=["unicode", "tcvn3", "vni"]
)
def test_api_and_file_give_the_same_core_rows(units: pl.DataFrame, encode) -> None:
    api = _core(_raw(API, "api"), units)
    rows = FILE if encode is None else _legacy(FILE, encode)
    file = _core(_raw(rows, "inbox/krongpa.xlsx", first_row=6), units)
    a, f = _comparable(api.frame), _comparable(file.frame)
    for name in a.columns:
        assert a[name].to_list() == f[name].to_list(), name
    assert file.frame["source_row"].to_list() == [6, 7]
    assert file.frame["row_hash"].to_list() != api.frame["row_hash"].to_list()
    if encode is None:
        assert file.notes == []
    else:
        assert file.notes and all(
            ("TCVN3" if encode is encode_tcvn3 else "VNI") in n for n in file.notes
        )


def test_unreadable_values_become_null_and_rows_are_kept(units: pl.DataFrame) -> None:
    bad = dict(
        API[1],
        MaTTHC="TTHC-01",
        NgayTiepNhan="31/02/2021",
        TrangThaiHoSo="Đang chờ",
        KenhThucHien="9",
        TenDonVi="UBND xã Ea Tóh",
        MaDVHC="24349",
        NgayCapNhat=None,
    )
    core = _core(_raw([API[0], bad, API[0]], "api"), units).frame
    assert core.height == 3
    row = core.row(1, named=True)
    for name in (
        "procedure_code",
        "received_at",
        "received_date",
        "status",
        "channel",
        "unit_code",
        "updated_at",
        "timeliness",
    ):
        assert row[name] is None, name
    assert row["procedure_code_raw"] == "TTHC-01"
    assert core["row_hash"][0] == core["row_hash"][2]  # exact duplicates share the hash


def test_missing_columns_are_treated_as_null(units: pl.DataFrame) -> None:
    raw = _raw(FILE, "f.csv").drop(*API_ONLY_FIELDS)
    core = _core(raw, units).frame
    assert core["field_code"].to_list() == [None, None]
    assert core.schema == core_schema()
