"""E-document RAW FRAME → CORE FRAME: the API and the register exports give the same rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from transforms_samples import nfd

from sources.eoffice.fields import RAW_FIELDS, SECRET_WITHHELD_FIELDS
from sources.eoffice.secrecy import withhold_secret_fields
from sources.eoffice.vocabulary import (
    DIRECTION_LABELS,
    DOCUMENT_TYPES,
    SECRECY_LABELS,
    STATUS_LABELS,
    TRANSPORT_LABELS,
    URGENCY_LABELS,
)
from transforms.context import CoreBatch, TransformContext
from transforms.dates import parse_local_date_expr, parse_local_dates
from transforms.eoffice_documents import core_schema, register_numbers, to_core
from transforms.hashing import row_hash
from transforms.legacy_text import encode_tcvn3, encode_vni
from warehouse.seeds import load_admin_units

OBSERVED = datetime(2024, 3, 25, 1, 30, tzinfo=UTC)
# Differ between an API item and a register row by nature (provenance, what only the API has).
NOT_COMPARED = ("source", "source_row", "row_hash", "updated_at", "body_unit_id")

# Three documents as the pull API sends them (docs/source-systems.md §3).
API = [
    {  # incoming, ordinary, completed on time
        "MaVanBan": "VB-24109-2024-DEN-000012",
        "LoaiVanBan": "DEN",
        "MaDonVi": "000.00.31.H21",
        "TenDonVi": "UBND xã Uar",
        "MaDVHC": "24109",
        "SoDen": "12",
        "SoVanBan": None,
        "SoKyHieu": "123/UBND-VP",
        "TenLoaiVanBan": "Công văn",
        "NgayBanHanh": "2024-03-10",
        "NgayDen": "2024-03-14",
        "CoQuanBanHanh": "Ủy ban nhân dân huyện Krông Pa",
        "TrichYeu": "Về việc triển khai kế hoạch chuyển đổi số năm 2024",
        "NguoiKy": None,
        "DoMat": "Thuong",
        "DoKhan": "Khan",
        "DonViXuLy": "Văn phòng Đảng ủy",
        "HanXuLy": "2024-03-21",
        "NgayHoanThanh": "2024-03-20",
        "TrangThai": "DaXuLy",
        "HinhThuc": "DienTu",
        "KySo": "true",
        "MaHoSoLienKet": None,
        "NgayCapNhat": "2024-03-20T09:00:00Z",
    },
    {  # outgoing, ordinary, the result of a dossier
        "MaVanBan": "VB-24076-2024-DI-000045",
        "LoaiVanBan": "DI",
        "MaDonVi": "000.00.28.H21",
        "TenDonVi": "Thị trấn Phú Túc",
        "MaDVHC": None,
        "SoDen": None,
        "SoVanBan": "45",
        "SoKyHieu": "45/QĐ-UBND",
        "TenLoaiVanBan": "Quyết định",
        "NgayBanHanh": "2024-03-15",
        "NgayDen": None,
        "CoQuanBanHanh": "Ủy ban nhân dân thị trấn Phú Túc",
        "TrichYeu": "Về việc thành lập tổ công tác chuyển đổi số",
        "NguoiKy": "Nguyễn Văn Hùng",
        "DoMat": "Thuong",
        "DoKhan": "Thuong",
        "DonViXuLy": None,
        "HanXuLy": None,
        "NgayHoanThanh": None,
        "TrangThai": "DaXuLy",
        "HinhThuc": "CaHai",
        "KySo": "false",
        "MaHoSoLienKet": "000.00.28.H21-240315-0001",
        "NgayCapNhat": "2024-03-15T03:00:00Z",
    },
    {  # incoming, secret: the source withholds the summary, issuing body, signer, dossier
        "MaVanBan": "VB-24109-2024-DEN-000013",
        "LoaiVanBan": "DEN",
        "MaDonVi": "000.00.31.H21",
        "TenDonVi": "UBND xã Uar",
        "MaDVHC": "24109",
        "SoDen": "13",
        "SoVanBan": None,
        "SoKyHieu": "07/CĐ-UBND",
        "TenLoaiVanBan": "Công điện",
        "NgayBanHanh": "2024-03-15",
        "NgayDen": "2024-03-15",
        "CoQuanBanHanh": "",
        "TrichYeu": "",
        "NguoiKy": None,
        "DoMat": "Mat",
        "DoKhan": "HoaToc",
        "DonViXuLy": "Công an xã",
        "HanXuLy": "2024-03-18",
        "NgayHoanThanh": None,
        "TrangThai": "DangXuLy",
        "HinhThuc": "Giay",
        "KySo": "false",
        "MaHoSoLienKet": None,
        "NgayCapNhat": "2024-03-16T02:00:00Z",
    },
]

# The same documents in the registers "Sổ đăng ký văn bản đến/đi": labels, dd/mm/yyyy text,
# Excel date cells (naive ISO), numbers read as numbers, NFD text, TCVN3 and VNI spellings,
# no MaDonVi and no NgayCapNhat.
REGISTER = [
    dict(
        API[0],
        LoaiVanBan="Văn bản đến",
        MaDonVi=None,
        TenDonVi=nfd("UBND xã Uar"),
        MaDVHC="24109.0",
        SoDen="12.0",
        TenLoaiVanBan=encode_tcvn3("Công văn"),
        NgayBanHanh="10/03/2024",
        NgayDen="2024-03-14T00:00:00",
        CoQuanBanHanh=nfd("Ủy ban  nhân dân huyện Krông Pa "),
        TrichYeu=encode_tcvn3("Về việc triển khai kế hoạch chuyển đổi số năm 2024"),
        DoMat=nfd("Thường"),
        DoKhan=encode_tcvn3("Khẩn"),
        DonViXuLy=nfd("Văn phòng Đảng ủy"),
        HanXuLy="21/03/2024",
        NgayHoanThanh="20/03/2024 16:30",
        TrangThai="Hoàn thành",
        HinhThuc="Điện tử",
        KySo="Có",
        NgayCapNhat=None,
    ),
    dict(
        API[1],
        LoaiVanBan=encode_vni("Văn bản đi"),
        MaDonVi=None,
        SoVanBan="45.0",
        TenLoaiVanBan="QUYẾT ĐỊNH",
        NgayBanHanh="2024-03-15T00:00:00",
        DoMat="Không mật",
        DoKhan="Bình thường",
        TrangThai=encode_tcvn3("Đã xử lý"),
        HinhThuc="Điện tử và giấy",
        KySo="Không",
        NgayCapNhat=None,
    ),
    dict(
        API[2],
        LoaiVanBan="Đến",
        MaDonVi=None,
        TenDonVi="Xã Uar",
        MaDVHC=None,
        SoDen=" 13 ",
        TenLoaiVanBan=encode_tcvn3("Công điện"),
        NgayBanHanh="15/03/2024",
        NgayDen="15/03/2024",
        CoQuanBanHanh=None,
        TrichYeu=None,
        DoMat=encode_tcvn3("Mật"),
        DoKhan="Hoả tốc",
        HanXuLy="18/03/2024 00:00",
        TrangThai=nfd("Đang xử lý"),
        HinhThuc="Giấy",
        KySo="Không",
        NgayCapNhat=None,
    ),
]


def _raw(rows: list[dict], source: str = "test", *, withheld: list | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={f: pl.String for f in RAW_FIELDS})
    frame = frame.with_columns(
        pl.lit(source).alias("_source"),
        pl.int_range(1, len(rows) + 1, dtype=pl.Int64).alias("_source_row"),
    )
    if withheld is not None:
        frame = frame.with_columns(pl.Series("_withheld", withheld, dtype=pl.String))
    return frame


def _row(**fields: str | None) -> dict:
    """An ordinary incoming document with ``fields`` changed."""
    return dict(API[0], **fields)


@pytest.fixture(scope="module")
def ctx() -> TransformContext:
    return TransformContext(
        units=load_admin_units(),
        province_code="64",
        district_code="637",
        as_of=date(2024, 3, 25),
        observed_at=OBSERVED,
    )


def _core(rows: list[dict] | pl.DataFrame, ctx: TransformContext) -> pl.DataFrame:
    raw = rows if isinstance(rows, pl.DataFrame) else _raw(rows)
    batch = to_core(raw, ctx)
    assert isinstance(batch, CoreBatch)
    assert batch.frame.schema == core_schema()
    assert batch.frame.height == raw.height
    return batch.frame


def _column(rows: list[dict], column: str, ctx: TransformContext) -> list:
    return _core(rows, ctx)[column].to_list()


# ------------------------------------------------------------------------ shape, provenance


def test_shape_types_order_and_provenance(ctx: TransformContext) -> None:
    raw = _raw(API, "GET /eoffice/api/v1/documents page 1")
    core = _core(raw, ctx)
    assert core.schema == core_schema()
    assert "load_id" not in core.columns and "dq_warnings" not in core.columns
    assert core["document_id"].to_list() == [r["MaVanBan"] for r in API]
    assert core["source_row"].to_list() == [1, 2, 3]
    assert core["source"].unique().to_list() == ["GET /eoffice/api/v1/documents page 1"]
    assert core["row_hash"].to_list() == row_hash(raw, RAW_FIELDS).to_list()
    # The hash is of the raw values: the register's spelling of the same document differs.
    assert core["row_hash"].to_list() != _core(_raw(REGISTER), ctx)["row_hash"].to_list()


def test_absent_fields_and_empty_frame(ctx: TransformContext) -> None:
    raw = pl.DataFrame({"MaVanBan": ["VB-1"], "LoaiVanBan": ["DEN"]})
    core = _core(raw, ctx)
    assert core["source_row"].to_list() == [1]
    assert core["updated_at"].to_list() == [OBSERVED]
    assert core["register_number_repeated"].to_list() == [False]
    assert core["secret_leak_dropped"].to_list() == [False]
    assert _core(_raw([]), ctx).is_empty()


def test_api_row_values(ctx: TransformContext) -> None:
    first, second, secret = _core(API, ctx).iter_rows(named=True)
    assert first["direction"] == "DEN" and first["incoming_number"] == 12
    assert (first["unit_code"], first["unit_code_source"]) == ("24109", "code")
    assert first["body_name"] == "UBND xã Uar" and first["body_unit_id"] == "000.00.31.H21"
    assert (first["issued_date"], first["received_date"]) == (date(2024, 3, 10), date(2024, 3, 14))
    assert (first["deadline_date"], first["completed_date"]) == (
        date(2024, 3, 21),
        date(2024, 3, 20),
    )
    assert first["register_year"] == 2024 and first["register_number_repeated"] is False
    assert (first["secrecy"], first["urgency"], first["status"], first["transport"]) == (
        "Thuong",
        "Khan",
        "DaXuLy",
        "DienTu",
    )
    assert first["digitally_signed"] is True
    assert first["summary"] == API[0]["TrichYeu"]
    assert first["document_type"] == "Công văn"
    assert first["updated_at"] == datetime(2024, 3, 20, 9, tzinfo=UTC)

    assert second["direction"] == "DI" and second["outgoing_number"] == 45
    assert second["incoming_number"] is None
    assert (second["unit_code"], second["unit_code_source"]) == ("24076", "name")
    assert second["signer"] == "Nguyễn Văn Hùng"
    assert second["linked_dossier_code"] == "000.00.28.H21-240315-0001"
    assert (second["transport"], second["digitally_signed"]) == ("CaHai", False)

    assert secret["secrecy"] == "Mat"
    assert [secret[c] for c in ("summary", "issuing_body", "signer", "linked_dossier_code")] == [
        None
    ] * 4  # the API's empty strings are null
    assert secret["secret_leak_dropped"] is False  # nothing leaked: nothing dropped
    assert secret["assigned_unit"] == "Công an xã"


def test_register_export_gives_the_same_rows(ctx: TransformContext) -> None:
    api = _core(API, ctx)
    register = to_core(_raw(REGISTER, "So dang ky van ban.xlsx"), ctx)
    # The third register row names its body "Xã Uar" without a code (checked below).
    same = NOT_COMPARED + ("body_name", "unit_code_source")
    assert register.frame.drop(*same).to_dicts() == api.drop(*same).to_dicts()
    # The unit of the secret document was found by name in the register (no Mã ĐVHC there).
    assert register.frame["unit_code_source"].to_list() == ["code", "name", "name"]
    assert api["unit_code_source"].to_list() == ["code", "name", "code"]
    # Legacy text was repaired, and the repair is reported for the audit.
    assert any(n.column == "TrichYeu" and n.encoding == "tcvn3" for n in register.repairs)
    assert register.notes


def test_register_body_name_is_nfc(ctx: TransformContext) -> None:
    core = _core(_raw(REGISTER), ctx)
    assert core["body_name"].to_list() == ["UBND xã Uar", "Thị trấn Phú Túc", "Xã Uar"]
    assert core["issuing_body"].to_list()[0] == "Ủy ban nhân dân huyện Krông Pa"


# --------------------------------------------------------------------------- updated_at


def test_updated_at_falls_back_to_observed_only_when_absent(ctx: TransformContext) -> None:
    rows = [
        _row(NgayCapNhat="2024-03-20T09:00:00Z"),
        _row(NgayCapNhat=None),  # a register export: no update time
        _row(NgayCapNhat="  "),
        _row(NgayCapNhat="not a date"),  # sent but unreadable: null, validation says why
        _row(NgayCapNhat="20/03/2024 16:00"),  # naive = local time
    ]
    assert _column(rows, "updated_at", ctx) == [
        datetime(2024, 3, 20, 9, tzinfo=UTC),
        OBSERVED,
        OBSERVED,
        None,
        datetime(2024, 3, 20, 9, tzinfo=UTC),
    ]


def test_naive_observed_at_is_utc(ctx: TransformContext) -> None:
    naive = TransformContext(
        ctx.units, ctx.province_code, ctx.district_code, ctx.as_of, datetime(2024, 3, 25, 1, 30)
    )
    assert _column([_row(NgayCapNhat=None)], "updated_at", naive) == [OBSERVED]


# --------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-03-14", date(2024, 3, 14)),
        ("14/03/2024", date(2024, 3, 14)),
        ("14/03/2024 23:59", date(2024, 3, 14)),
        ("14/03/2024 00:00", date(2024, 3, 14)),
        ("2024-03-14T00:00:00", date(2024, 3, 14)),  # an Excel date cell
        ("2024-03-14T23:59:59", date(2024, 3, 14)),
        ("2024-03-13T17:00:00Z", date(2024, 3, 14)),  # midnight local is 17:00Z the day before
        ("2024-03-13T16:59:59Z", date(2024, 3, 13)),
        ("2024-03-14T06:30:00+07:00", date(2024, 3, 14)),
        (" 14/03/2024 ", date(2024, 3, 14)),
        ("30/02/2021", None),  # impossible
        ("2021-02-30", None),
        ("31/04/2021", None),
        ("14/03/24", None),  # two-digit year
        ("", None),
        ("hôm qua", None),
        (None, None),
    ],
)
def test_local_dates(text: str | None, day: date | None) -> None:
    s = pl.Series("d", [text], dtype=pl.String)
    assert parse_local_dates(s).to_list() == [day]
    assert pl.select(parse_local_date_expr(pl.lit(text, dtype=pl.String))).item() == day


def test_every_date_column_reads_local_days(ctx: TransformContext) -> None:
    row = _row(
        NgayBanHanh="2024-03-09T17:30:00Z",  # 00:30 on the 10th in Vietnam
        NgayDen="14/03/2024 07:15",
        HanXuLy="2024-03-21T00:00:00",
        NgayHoanThanh="30/02/2024",
    )
    got = _core([row], ctx).select(
        "issued_date", "received_date", "deadline_date", "completed_date"
    )
    assert got.row(0) == (date(2024, 3, 10), date(2024, 3, 14), date(2024, 3, 21), None)


# ------------------------------------------------------------------------ coded fields


CODED = [
    ("LoaiVanBan", "direction", DIRECTION_LABELS),
    ("DoMat", "secrecy", SECRECY_LABELS),
    ("DoKhan", "urgency", URGENCY_LABELS),
    ("TrangThai", "status", STATUS_LABELS),
    ("HinhThuc", "transport", TRANSPORT_LABELS),
]


@pytest.mark.parametrize(("field", "column", "table"), CODED, ids=[c[1] for c in CODED])
def test_every_code_and_label_maps(field: str, column: str, table: dict, ctx) -> None:
    values, expected = [], []
    for code, names in table.items():
        for spelling in (code, *names):
            variants = {spelling, spelling.upper(), nfd(spelling), f"  {spelling} "}
            if spelling != code:
                variants |= {encode_tcvn3(spelling), encode_vni(spelling)}
            for v in sorted(variants):
                values.append(v)
                expected.append(code)
    assert _column([_row(**{field: v}) for v in values], column, ctx) == expected


@pytest.mark.parametrize(("field", "column", "table"), CODED, ids=[c[1] for c in CODED])
def test_unknown_coded_value_is_null(field: str, column: str, table: dict, ctx) -> None:
    unknown = ["Không rõ", "??", "9", "", None]
    assert _column([_row(**{field: v}) for v in unknown], column, ctx) == [None] * len(unknown)


def test_digital_signature_flag(ctx: TransformContext) -> None:
    values = ["true", "false", "Có", "Không", "1", "0", "1.0", encode_tcvn3("Có"), "Chưa rõ", None]
    assert _column([_row(KySo=v) for v in values], "digitally_signed", ctx) == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        True,
        None,
        None,
    ]


# ------------------------------------------------------------------------- document type


def _variants(name: str) -> list[str]:
    return [name, name.upper(), name.lower(), nfd(name), f" {name}  ", name.replace(" ", "  ")]


def test_every_document_type_is_canonicalised(ctx: TransformContext) -> None:
    spellings = [(s, name) for name in DOCUMENT_TYPES for s in _variants(name)]
    assert _column([_row(TenLoaiVanBan=s) for s, _ in spellings], "document_type", ctx) == [
        name for _, name in spellings
    ]


@pytest.mark.parametrize("encode", [encode_tcvn3, encode_vni], ids=["tcvn3", "vni"])
def test_every_document_type_in_a_legacy_register(encode, ctx: TransformContext) -> None:
    """A legacy register is in one encoding throughout (short cells are read in the column's).

    Some VNI spellings are also well-formed TCVN3 ("Chæ thò": VNI "Chỉ thị", TCVN3 "Chổ
    thũ"); the type is still recognised from the text before repair.
    """
    spellings = [
        (encode(v), name) for name in DOCUMENT_TYPES for v in (name, name.upper(), name.lower())
    ]
    assert _column([_row(TenLoaiVanBan=s) for s, _ in spellings], "document_type", ctx) == [
        name for _, name in spellings
    ]


def test_document_type_tone_placement_and_unknown(ctx: TransformContext) -> None:
    rows = [
        _row(TenLoaiVanBan="Bản thoả thuận"),  # old tone placement
        _row(TenLoaiVanBan="BẢN THOẢ THUẬN"),
        _row(TenLoaiVanBan="Giấy uỷ quyền"),
        _row(TenLoaiVanBan=" Thư  mời "),  # not a type of Decree 30: kept, cleaned, for the warning
        _row(TenLoaiVanBan=nfd("Thư mời")),
        _row(TenLoaiVanBan=""),
        _row(TenLoaiVanBan=None),
    ]
    assert _column(rows, "document_type", ctx) == [
        "Bản thỏa thuận",
        "Bản thỏa thuận",
        "Giấy ủy quyền",
        "Thư mời",
        "Thư mời",
        None,
        None,
    ]


# ------------------------------------------------------------------- numbers and register


def test_register_numbers_from_text() -> None:
    values = ["12", "12.0", " 7 ", "007", "12.00", "12.5", "12a", "-3", "", None, "99999999999"]
    s = pl.Series("n", values, dtype=pl.String)
    assert register_numbers(s).dtype == pl.Int32
    assert register_numbers(s).to_list() == [12, 12, 7, 7, 12, None, None, None, None, None, None]


def test_register_year_by_direction(ctx: TransformContext) -> None:
    rows = [
        # issued in December, received in January: the incoming number belongs to January's year
        _row(LoaiVanBan="DEN", NgayBanHanh="2023-12-29", NgayDen="2024-01-02"),
        _row(LoaiVanBan="DI", NgayBanHanh="2023-12-29", NgayDen="2024-01-02"),
        _row(LoaiVanBan="DEN", NgayDen=None),
        _row(LoaiVanBan="??"),
    ]
    assert _column(rows, "register_year", ctx) == [2024, 2023, None, None]


def test_register_number_repeated(ctx: TransformContext) -> None:
    def doc(doc_id: str, **fields: str | None) -> dict:
        return _row(MaVanBan=doc_id, **fields)

    rows = [
        doc("A", SoDen="12"),
        doc("A", SoDen="12", TrangThai="DangXuLy"),  # a later version of A: not a repeat
        doc("B", SoDen="12.0"),  # another document under A's number: both repeat
        doc("C", SoDen="12", NgayDen="2023-03-14"),  # another year
        doc("D", LoaiVanBan="DI", SoDen=None, SoVanBan="12", NgayBanHanh="2024-03-14"),
        doc("E", SoDen="12", MaDVHC="24082", TenDonVi="UBND xã Ia Rsươm"),  # another body
        doc("F", SoDen="13"),
        doc("G", SoDen="13", TenDonVi="Cơ quan lạ", MaDVHC=None),  # body unknown: no key
        doc("H", SoDen="13", NgayDen=None),  # no year: no key
        doc("I", SoDen=None),
        doc("J", SoDen=None),  # both without a number: not a repeat
        doc("K", SoDen="14", LoaiVanBan="??"),
        doc("L", SoDen="14", LoaiVanBan="??"),  # no direction: no key
        doc("M", SoDen="15"),
        doc("M", SoDen="15"),  # the same document twice (an exact duplicate)
    ]
    assert _column(rows, "register_number_repeated", ctx) == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
    ]


def test_outgoing_numbers_repeat_by_issue_year(ctx: TransformContext) -> None:
    rows = [
        _row(MaVanBan="X", LoaiVanBan="DI", SoDen=None, SoVanBan="5", NgayBanHanh="2024-01-05"),
        _row(MaVanBan="Y", LoaiVanBan="DI", SoDen=None, SoVanBan="5", NgayBanHanh="05/02/2024"),
        _row(MaVanBan="Z", LoaiVanBan="DEN", SoDen="5", SoVanBan=None),  # incoming no. 5
    ]
    assert _column(rows, "register_number_repeated", ctx) == [True, True, False]


# ---------------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UBND xã Uar", "24109"),
        ("Xã Uar", "24109"),
        ("xã Uar", "24109"),
        ("XÃ UAR", "24109"),
        ("Ủy ban nhân dân xã Uar", "24109"),
        ("Uỷ ban nhân dân xã Uar", "24109"),
        ("UBND  xã   Uar ", "24109"),
        ("UBND huyện Krông Pa", "637"),
        ("Huyện Krông Pa", "637"),
        ("Thị trấn Phú Túc", "24076"),
        ("UBND thị trấn Phú Túc", "24076"),
        ("TT Phú Túc", "24076"),
        ("UBND xã Ia Rsươm", "24082"),
        ("UBND xã Ia RSươm", "24082"),
        ("Xã Ia Hdreh", "24100"),
        ("xã Ia Dreh", "24100"),
        ("thị trấn Krông Năng", None),  # Đắk Lắk's town, outside the scope
        ("UBND xã Không Có", None),
        (None, None),
    ],
)
def test_unit_from_every_name_form(name: str | None, code: str | None, ctx) -> None:
    forms = [name] if name is None else [name, nfd(name)]
    rows = [_row(MaDVHC=None, TenDonVi=f) for f in forms]
    core = _core(rows, ctx)
    source = None if code is None else "name"
    assert core.select("unit_code", "unit_code_source").rows() == [(code, source)] * len(forms)


def test_unit_from_a_legacy_register(ctx: TransformContext) -> None:
    names = ["UBND xã Ia Rsươm", "UBND huyện Krông Pa", "Thị trấn Phú Túc", "UBND xã Đất Bằng"]
    rows = [_row(MaDVHC=None, TenDonVi=encode_tcvn3(n)) for n in names]
    core = _core(rows, ctx)
    assert core["body_name"].to_list() == names
    assert core["unit_code"].to_list() == ["24082", "637", "24076", "24088"]


def test_unit_code_wins_and_is_repaired(ctx: TransformContext) -> None:
    rows = [
        _row(MaDVHC="24109", TenDonVi="UBND xã Ia Rsươm"),
        _row(MaDVHC="24109.0", TenDonVi=None),
        _row(MaDVHC="99999", TenDonVi="Xã Uar"),  # unknown code: the name decides
        _row(MaDVHC="99999", TenDonVi=None),
    ]
    assert _core(rows, ctx).select("unit_code", "unit_code_source").rows() == [
        ("24109", "code"),
        ("24109", "code"),
        ("24109", "name"),
        (None, None),
    ]


# -------------------------------------------------------------------------------- secrecy


SECRET_CORE = ("summary", "issuing_body", "signer", "linked_dossier_code")
LEAKED = {
    "TrichYeu": "Về việc bảo vệ bí mật nhà nước",
    "CoQuanBanHanh": "Công an tỉnh Gia Lai",
    "NguoiKy": "Trần Văn Út",
    "MaHoSoLienKet": "000.00.31.H21-240315-0009",
}


@pytest.mark.parametrize("secrecy", ["Mat", "ToiMat", "TuyetMat", "Tối mật", "??", "", None])
def test_secret_or_unknown_secrecy_keeps_no_secret_fields(secrecy: str | None, ctx) -> None:
    core = _core([_row(DoMat=secrecy, **LEAKED)], ctx)
    assert core.select(SECRET_CORE).row(0) == (None,) * 4
    assert core["secret_leak_dropped"].to_list() == [False]  # no _withheld: not flagged here
    assert core["document_type"].to_list() == ["Công văn"]  # the rest of the row stays


def test_ordinary_document_keeps_its_fields(ctx: TransformContext) -> None:
    core = _core([_row(DoMat="Thường", **LEAKED)], ctx)
    assert core.select(SECRET_CORE).row(0) == tuple(LEAKED.values())


def test_secret_leak_dropped_follows_withheld(ctx: TransformContext) -> None:
    raw = _raw([_row(DoMat="Mat")] * 4, withheld=["TrichYeu", "TrichYeu,NguoiKy", "", None])
    assert _core(raw, ctx)["secret_leak_dropped"].to_list() == [True, True, False, False]


def test_withholding_then_transform(ctx: TransformContext) -> None:
    """The source's withholding and the transform together: a leak is dropped and flagged."""
    rows = [_row(DoMat="Mat", **LEAKED), _row(DoMat="Thuong", **LEAKED), _row(DoMat=None)]
    raw = withhold_secret_fields(_raw(rows))
    assert raw["_withheld"].to_list() == [
        ",".join(SECRET_WITHHELD_FIELDS),
        None,
        "TrichYeu,CoQuanBanHanh",  # the ordinary row's fields, but secrecy unknown
    ]
    core = _core(raw, ctx)
    assert core["secret_leak_dropped"].to_list() == [True, False, True]
    assert core.select(SECRET_CORE).rows() == [
        (None,) * 4,
        tuple(LEAKED.values()),
        (None,) * 4,
    ]
    # The row hash is of what cchc keeps: the leaked values are not in it.
    assert (
        core["row_hash"][0]
        == row_hash(_raw([_row(DoMat="Mat", **dict.fromkeys(LEAKED))]), RAW_FIELDS)[0]
    )
