"""Inputs that used to count wrong, for both systems (dossiers and e-documents).

1. Phantom entities: a code that differs only by invisible characters, dash look-alikes,
   Unicode spaces, fullwidth forms or letter case is the *same* dossier / document.
2. Dates: unreadable is not missing, and a date outside the plausible range is flagged
   (the ``*_date_fault`` columns, checked CRITICAL in the tables).
3. Formula-looking text is data: kept verbatim.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from sources.eoffice.fields import RAW_FIELDS as DOC_FIELDS
from sources.onestop.fields import RAW_FIELDS as DOSSIER_FIELDS
from transforms import eoffice_documents, onestop_dossiers
from transforms.context import TransformContext
from warehouse.seeds import load_admin_units

AS_OF = date(2024, 3, 25)
CODE = "000.00.12.H21-240315-0007"
DOC_ID = "VB-24082-2024-DEN-000012"

DOSSIER = {
    "MaHoSo": CODE,
    "MaTTHC": "1.001230",
    "TenTTHC": "Chứng thực bản sao từ bản chính",
    "MucDo": "3",
    "MaDonVi": "000.00.12.H21",
    "TenDonVi": "UBND xã Ia Rsươm",
    "MaDVHC": "24082",
    "KenhThucHien": "2",
    "LoaiDoiTuong": "CongDan",
    "ChuHoSo": "Nguyễn Thị Ánh",
    "NgayNopHoSo": "2024-03-14T23:10:00Z",
    "NgayTiepNhan": "2024-03-14T23:30:00Z",
    "NgayHenTra": "2024-03-17T10:00:00Z",
    "NgayKetThucXuLy": "2024-03-17T02:00:00Z",
    "NgayTra": "2024-03-17T03:00:00Z",
    "TrangThaiHoSo": "10",
    "NgayCapNhat": "2024-03-17T03:00:00Z",
}

DOCUMENT = {
    "MaVanBan": DOC_ID,
    "LoaiVanBan": "DEN",
    "MaDonVi": "000.00.12.H21",
    "TenDonVi": "UBND xã Ia Rsươm",
    "MaDVHC": "24082",
    "SoDen": "12",
    "SoKyHieu": "125/UBND-VP",
    "TenLoaiVanBan": "Công văn",
    "NgayBanHanh": "2024-03-10",
    "NgayDen": "2024-03-14",
    "CoQuanBanHanh": "Ủy ban nhân dân huyện Krông Pa",
    "TrichYeu": "Về việc triển khai kế hoạch chuyển đổi số",
    "NguoiKy": "Trần Văn Bình",
    "DoMat": "Thuong",
    "DoKhan": "Khan",
    "DonViXuLy": "Văn phòng",
    "HanXuLy": "2024-03-21",
    "NgayHoanThanh": "2024-03-20",
    "TrangThai": "DaXuLy",
    "HinhThuc": "DienTu",
    "KySo": "true",
    "MaHoSoLienKet": CODE,
    "NgayCapNhat": "2024-03-20T09:30:00Z",
}


@pytest.fixture(scope="module")
def ctx() -> TransformContext:
    return TransformContext(
        units=load_admin_units(),
        province_code="64",
        district_code="637",
        as_of=AS_OF,
        observed_at=datetime(2024, 3, 25, 1, 0, tzinfo=UTC),
    )


def _raw(rows: list[dict], fields: tuple[str, ...]) -> pl.DataFrame:
    frame = pl.DataFrame(
        [{f: r.get(f) for f in fields} for r in rows], schema={f: pl.String for f in fields}
    )
    return frame.with_columns(
        pl.lit("test").alias("_source"),
        pl.int_range(1, len(rows) + 1, dtype=pl.Int64).alias("_source_row"),
    )


def dossiers(rows: list[dict], ctx: TransformContext):
    raw = _raw([dict(DOSSIER, **r) for r in rows], DOSSIER_FIELDS)
    return raw, onestop_dossiers.transform(raw, ctx)


def documents(rows: list[dict], ctx: TransformContext):
    raw = _raw([dict(DOCUMENT, **r) for r in rows], DOC_FIELDS)
    return raw, eoffice_documents.to_core(raw, ctx)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


INVISIBLES = ("\x00", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\x1f")
DASHES = ("\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d")
SPACES = ("\u00a0", "\u2009", "\u202f", "\u3000", " ", "\t")


def spellings(code: str) -> list[str]:
    """The ways one code reaches us that used to become a second entity."""
    out = [code.lower(), _fullwidth(code)]
    out += [code[:5] + c + code[5:] for c in INVISIBLES]
    out += [c + code + c for c in INVISIBLES]
    out += [code.replace("-", d) for d in DASHES]
    out += [code.replace("-", f"{s}-{s}") for s in SPACES]
    out += [_fullwidth(code.lower()).replace("\uff0d", "\u2013") + "\u200b"]
    return out


# ----------------------------------------------------------------------- 1. phantom entities


def test_canonical_codes_unit() -> None:
    from transforms.identifiers import canonical_codes

    variants = spellings(CODE)
    s = pl.Series("c", [CODE, f" {CODE}\u00a0", *variants, None, "\u200b \u00a0", ""])
    out, changed = canonical_codes(s, upper=True)
    assert out.to_list() == [CODE] * (len(variants) + 2) + [None, None, None]
    # A trim was always made and is not counted; an invisible-only value that becomes null is.
    assert changed == len(variants) + 1
    kept, _ = canonical_codes(pl.Series(["125/QĐ-ubnd"]), upper=False)
    assert kept.to_list() == ["125/QĐ-ubnd"]  # case kept unless asked; Vietnamese letters kept


def test_dossier_code_spellings_are_one_dossier(ctx) -> None:
    variants = spellings(CODE)
    raw, batch = dossiers([{"MaHoSo": v} for v in [CODE, *variants]], ctx)
    core = batch.frame
    assert core["dossier_code"].unique().to_list() == [CODE]
    # The raw layer keeps what came, and row_hash is still the hash of the raw text.
    assert raw["MaHoSo"].to_list() == [CODE, *variants]
    assert core["row_hash"].n_unique() == len(variants) + 1
    note = [n for n in batch.notes if n.startswith("MaHoSo:")]
    assert note == [f"MaHoSo: {len(variants)} code(s) canonicalised (invisible characters, "
                    "compatibility forms, dash look-alikes, spaces or letter case)"]


def test_document_id_and_linked_dossier_spellings_are_one(ctx) -> None:
    variants = spellings(DOC_ID)
    links = spellings(CODE)[: len(variants)]
    rows = [{"MaVanBan": v, "MaHoSoLienKet": c} for v, c in zip(variants, links, strict=True)]
    raw, batch = documents([{}, *rows], ctx)
    core = batch.frame
    assert core["document_id"].unique().to_list() == [DOC_ID]
    assert core["linked_dossier_code"].unique().to_list() == [CODE]
    assert core["row_hash"].n_unique() == len(rows) + 1
    assert raw["MaVanBan"].to_list()[1:] == variants
    assert any(n.startswith(f"MaVanBan: {len(rows)} code(s) canonicalised") for n in batch.notes)
    # Versions of one document are not a repeated register number.
    assert not core["register_number_repeated"].any()


def test_unit_identifiers_and_numbers(ctx) -> None:
    _, batch = dossiers(
        [{"MaDonVi": "000.00.12.h21\u200b", "MaDVHC": _fullwidth("24082"), "TenDonVi": None,
          "SoDienThoai": "0905\u00a0123\u00a0456"}],
        ctx,
    )
    row = batch.frame.row(0, named=True)
    assert row["receiving_unit_id"] == "000.00.12.H21"
    assert row["unit_code"] == "24082"
    assert row["applicant_phone"] == "0905123456"
    _, batch = documents(
        [{"MaDonVi": "000.00.12.h21", "MaDVHC": "２４０８２\ufeff", "TenDonVi": None,
          "SoDen": "１２", "SoKyHieu": "125/UBND\u2011VP"}],
        ctx,
    )
    row = batch.frame.row(0, named=True)
    assert (row["body_unit_id"], row["unit_code"]) == ("000.00.12.H21", "24082")
    assert (row["incoming_number"], row["notation"]) == (12, "125/UBND-VP")


def test_clean_codes_make_no_note(ctx) -> None:
    _, batch = dossiers([{"MaHoSo": f" {CODE} "}], ctx)  # a trim is not a canonicalisation
    assert batch.notes == []
    _, batch = documents([{}], ctx)
    assert batch.notes == []


# ---------------------------------------------------------------------------------- 2. dates


DOSSIER_FAULTS = {
    "NgayNopHoSo": "submitted_date_fault",
    "NgayTiepNhan": "received_date_fault",
    "NgayHenTra": "due_date_fault",
    "NgayKetThucXuLy": "finished_date_fault",
    "NgayTra": "returned_date_fault",
}
DOCUMENT_FAULTS = {
    "NgayBanHanh": "issued_date_fault",
    "NgayDen": "received_date_fault",
    "HanXuLy": "deadline_date_fault",
    "NgayHoanThanh": "completed_date_fault",
}
UNREADABLE = ("30/02/2021", "17/03/2024 25:61", "2024-13-01", "hôm qua", "15/03/24", "\u200b")
IMPLAUSIBLE = ("01/01/1970", "1970-01-01T00:00:00Z", "31/12/1999", "26/03/2025 08:00", "2099-01-01")
PLAUSIBLE = (None, "", "  ", "01/01/2000", "2000-01-01", "25/03/2025", "2025-03-25T16:59:00Z")


def _faults(make, field: str, column: str, values, ctx) -> list:
    _, batch = make([{field: v} for v in values], ctx)
    return batch.frame[column].to_list()


@pytest.mark.parametrize("field,column", DOSSIER_FAULTS.items())
def test_dossier_date_faults(field: str, column: str, ctx) -> None:
    assert _faults(dossiers, field, column, UNREADABLE, ctx) == ["unreadable"] * len(UNREADABLE)
    assert _faults(dossiers, field, column, IMPLAUSIBLE, ctx) == ["implausible"] * len(IMPLAUSIBLE)
    assert _faults(dossiers, field, column, PLAUSIBLE, ctx) == [None] * len(PLAUSIBLE)


@pytest.mark.parametrize("field,column", DOCUMENT_FAULTS.items())
def test_document_date_faults(field: str, column: str, ctx) -> None:
    assert _faults(documents, field, column, UNREADABLE, ctx) == ["unreadable"] * len(UNREADABLE)
    assert _faults(documents, field, column, IMPLAUSIBLE, ctx) == ["implausible"] * len(IMPLAUSIBLE)
    assert _faults(documents, field, column, PLAUSIBLE, ctx) == [None] * len(PLAUSIBLE)


def test_range_follows_the_load_date(ctx) -> None:
    from transforms.dates import PLAUSIBLE_FROM

    later = TransformContext(ctx.units, ctx.province_code, ctx.district_code,
                             date(2099, 6, 1), ctx.observed_at)
    assert _faults(dossiers, "NgayHenTra", "due_date_fault", ["2099-01-01"], later) == [None]
    assert _faults(documents, "HanXuLy", "deadline_date_fault", ["2099-01-01"], later) == [None]
    assert date(2000, 1, 1) == PLAUSIBLE_FROM


def test_impossible_due_date_is_not_a_missing_one(ctx) -> None:
    """The value is still null (nothing is invented), but the row says why."""
    _, batch = dossiers([{"NgayHenTra": "30/02/2021"}, {"NgayHenTra": None}], ctx)
    core = batch.frame
    assert core["due_date"].to_list() == [None, None]
    assert core["due_date_fault"].to_list() == ["unreadable", None]


# ------------------------------------------------------------------ 3. formula-looking text

FORMULAS = ("=cmd|' /C calc'!A0", "+84 905 123 456", "-1 đơn", "@SUM(A1:A9)", "=1+1")


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_looking_text_is_kept_verbatim(text: str, ctx) -> None:
    _, batch = dossiers([{"TenTTHC": text, "ChuHoSo": text, "TenDonVi": text}], ctx)
    row = batch.frame.row(0, named=True)
    assert (row["procedure_name"], row["applicant_name"], row["receiving_unit_name"]) == (
        text, text, text)
    _, batch = documents(
        [{"TrichYeu": text, "NguoiKy": text, "CoQuanBanHanh": text, "DonViXuLy": text,
          "TenLoaiVanBan": text}],
        ctx,
    )
    row = batch.frame.row(0, named=True)
    assert [row[c] for c in ("summary", "signer", "issuing_body", "assigned_unit",
                             "document_type")] == [text] * 5
