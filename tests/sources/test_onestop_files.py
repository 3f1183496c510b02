"""Dossier-list readers: layout detection, text fidelity of codes and dates, clear errors."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from onestop_fixtures import HEADER, KEYS, LABELS, csv_text, dossier_row, write_xlsx

from sources.csvtext import decode_legacy
from sources.errors import SourceFileError
from sources.onestop.fields import RAW_FIELDS as _DOSSIER_FIELDS
from sources.onestop.files import file_sha256, read_dossier_file
from sources.raw import raw_schema

RAW_SCHEMA = raw_schema(_DOSSIER_FIELDS)

COL = {key: i for i, key in enumerate(KEYS)}  # column index within a data row (no STT)


def rows(n: int, **kw: bool) -> list[list]:
    return [dossier_row(i, **kw) for i in range(n)]


# ------------------------------------------------------------------------------------- XLSX


def test_xlsx_layout_title_total_signature_and_row_numbers(tmp_path: Path) -> None:
    data = rows(6)
    data.insert(2, [None] * len(KEYS))  # a blank row inside the data
    path = tmp_path / "ds.xlsx"
    marks = write_xlsx(path, data, total=6)
    raw = read_dossier_file(path)
    assert raw.header_row == marks["header"] == 7
    assert (raw.data_rows, raw.declared_total, raw.notes) == (6, 6, [])
    assert raw.frame.schema == RAW_SCHEMA
    assert raw.frame["_source_row"].to_list() == [8, 9, 11, 12, 13, 14]
    assert raw.frame["_source"].unique().to_list() == [str(path)]
    assert raw.frame["MaHoSo"].to_list() == [r[0] for r in data if r[0] is not None]
    assert raw.frame["TrangThaiHoSo"][0] == "Đã trả kết quả"
    assert raw.frame["MaLinhVuc"].null_count() == 6 and raw.frame["MaDonVi"].null_count() == 6
    assert raw.frame["MaDVHC"][0] is None  # blank cell stays null
    assert raw.title_lines[2:] == [
        "DANH SÁCH HỒ SƠ TIẾP NHẬN VÀ GIẢI QUYẾT",
        "Từ ngày 01/01/2021 đến ngày 31/12/2022",
    ]
    assert raw.sheet == "Danh sách hồ sơ"


def test_xlsx_without_total_stops_at_the_signature_block(tmp_path: Path) -> None:
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, rows(3), total=None)
    raw = read_dossier_file(path)
    assert (raw.data_rows, raw.declared_total) == (3, None)


def test_declared_total_mismatch_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, rows(3), total=4)
    raw = read_dossier_file(path)
    assert raw.declared_total == 4
    assert raw.notes == ["total row says 4 dossiers, the file has 3 data rows"]


def test_total_row_with_thousands_separator(tmp_path: Path) -> None:
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, rows(2), total=None, signature=False)
    wb_rows = [["Tổng số: 87.221 hồ sơ"]]
    _append_rows(path, HEADER, rows(2), wb_rows)
    assert read_dossier_file(path).declared_total == 87221


def _append_rows(path: Path, header: list[str], data: list[list], tail: list[list]) -> None:
    """A plain sheet: header on row 1, data, then ``tail`` rows (for footer variants)."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, header)
    for r, row in enumerate(data, start=1):
        ws.write_row(r, 0, [r, *row])
    for r, row in enumerate(tail, start=len(data) + 1):
        ws.write_row(r, 0, row)
    wb.close()


def test_date_cells_become_naive_iso_and_text_dates_stay(tmp_path: Path) -> None:
    data = [dossier_row(0, dates_as_cells=True), dossier_row(1)]
    data[0][COL["NgayTiepNhan"]] = datetime(2021, 3, 15, 9, 31)
    data[0][COL["NgayHenTra"]] = datetime(2021, 3, 18, 23, 59, 59, 999_000)  # float noise
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, data)
    frame = read_dossier_file(path).frame
    assert frame["NgayTiepNhan"].to_list() == ["2021-03-15T09:31:00", "01/01/2021 08:07"]
    assert frame["NgayHenTra"][0] == "2021-03-19T00:00:00"


def test_codes_are_kept_as_text(tmp_path: Path) -> None:
    data = rows(4)
    data[0][COL["MaTTHC"]] = "1.001230"  # text cell
    data[1][COL["MaTTHC"]] = "2.000635.000.00.00.H21"
    data[2][COL["MaTTHC"]] = 1.00123  # typed as a number, column formatted 0.000000
    data[3][COL["MaTTHC"]] = 1.012784
    data[2][COL["SoGiayTo"]] = 64123456789  # identity number typed as a number, format 0…0
    data[3][COL["SoGiayTo"]] = 123456789012
    formats = {1 + COL["MaTTHC"]: "0.000000", 1 + COL["SoGiayTo"]: "000000000000"}
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, data, number_formats=formats)
    frame = read_dossier_file(path).frame
    assert frame["MaTTHC"].to_list() == [
        "1.001230",
        "2.000635.000.00.00.H21",
        "1.001230",
        "1.012784",
    ]
    assert frame["SoGiayTo"][2:].to_list() == ["064123456789", "123456789012"]


def test_general_format_number_gives_the_stored_value(tmp_path: Path) -> None:
    data = rows(1)
    data[0][COL["MaTTHC"]] = 1.00123  # General format shows 1.00123: transforms restore the zero
    data[0][COL["SoDienThoai"]] = 912345678
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, data)
    frame = read_dossier_file(path).frame
    assert (frame["MaTTHC"][0], frame["SoDienThoai"][0]) == ("1.00123", "912345678")


def test_header_labels_match_after_nfc_casefold_and_spaces(tmp_path: Path) -> None:
    header = ["stt"] + [f"  {unicodedata.normalize('NFD', label).upper()}  " for label in LABELS]
    header[2] = "Mã   TTHC"
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, rows(2), header=header, title=False, signature=False)
    raw = read_dossier_file(path)
    assert raw.header_row == 1 and raw.data_rows == 2 and raw.notes == []
    assert raw.frame["MaTTHC"][0] == "1.001230"


def test_unknown_and_unnamed_columns_are_noted(tmp_path: Path) -> None:
    header = [*HEADER, "Ghi chú"]
    data = [[*r, "ghi chú"] for r in rows(2)]
    path = tmp_path / "ds.xlsx"
    _append_rows(path, header, data, [])
    raw = read_dossier_file(path)
    assert raw.data_rows == 2
    assert raw.notes == ["unknown column 'Ghi chú' (column Y) ignored"]


def test_missing_required_column_names_the_label_and_row(tmp_path: Path) -> None:
    drop = HEADER.index("Trạng thái")
    header = HEADER[:drop] + HEADER[drop + 1 :]
    data = [r[: drop - 1] + r[drop:] for r in rows(2)]
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, data, header=header)
    with pytest.raises(SourceFileError) as err:
        read_dossier_file(path)
    assert err.value.field == "Trạng thái" and err.value.row == 7
    assert str(err.value) == (
        f"{path}, row 7, column 'Trạng thái': missing required column(s) 'Trạng thái' in the header row"
    )


def test_missing_optional_column_is_null_and_noted(tmp_path: Path) -> None:
    drop = HEADER.index("Số điện thoại")
    path = tmp_path / "ds.xlsx"
    write_xlsx(
        path, [r[: drop - 1] + r[drop:] for r in rows(2)], header=HEADER[:drop] + HEADER[drop + 1 :]
    )
    raw = read_dossier_file(path)
    assert raw.frame["SoDienThoai"].null_count() == 2
    assert raw.notes == ["columns absent (left null): 'Số điện thoại'"]


def test_no_header_row(tmp_path: Path) -> None:
    path = tmp_path / "ds.xlsx"
    _append_rows(path, ["a", "b", "c"], [["x", "y"]], [])
    with pytest.raises(SourceFileError, match="no header row found"):
        read_dossier_file(path)


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.csv"])
def test_empty_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".xlsx"):
        xlsxwriter.Workbook(str(path)).close()
    else:
        path.write_bytes(b"")
    with pytest.raises(SourceFileError, match="empty file"):
        read_dossier_file(path)


def test_unreadable_workbook_and_unsupported_type(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(SourceFileError, match="cannot (open|read) workbook"):
        read_dossier_file(bad)
    odd = tmp_path / "list.ods.txt"
    odd.write_text("x")
    with pytest.raises(SourceFileError, match="unsupported file type"):
        read_dossier_file(odd)


def test_footer_like_words_inside_data_are_data(tmp_path: Path) -> None:
    data = rows(3)
    data[1][COL["TenTTHC"]] = "Cấp bản sao ngày 1 tháng 2 năm 2021"
    data[1][COL["ChuHoSo"]] = "Tổng số 3"
    path = tmp_path / "ds.xlsx"
    write_xlsx(path, data, total=3)
    assert read_dossier_file(path).data_rows == 3


def test_column_number_row_under_header_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "ds.xlsx"
    _append_rows(
        path, HEADER, [], [[str(i) for i in range(1, len(HEADER) + 1)], [1, *dossier_row(0)]]
    )
    raw = read_dossier_file(path)
    assert raw.data_rows == 1 and raw.frame["_source_row"][0] == 3
    assert raw.notes == ["row 2: column-number row under the header skipped"]


def test_legacy_header_is_matched_after_repair(tmp_path: Path) -> None:
    from transforms.legacy_text import encode_tcvn3

    path = tmp_path / "legacy.xlsx"
    write_xlsx(path, rows(2), header=["STT", *(encode_tcvn3(label) for label in LABELS)], total=2)
    raw = read_dossier_file(path)
    assert raw.data_rows == 2
    assert raw.notes == ["header labels matched after legacy-encoding (TCVN3/VNI) repair"]
    assert raw.frame["MaHoSo"].null_count() == 0


# -------------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_with_and_without_bom(tmp_path: Path, encoding: str) -> None:
    data = rows(3)
    data[1][COL["TenTTHC"]] = 'Thủ tục "A", có dấu phẩy\nvà xuống dòng'
    path = tmp_path / "ds.csv"
    path.write_text(csv_text(data), encoding=encoding)
    raw = read_dossier_file(path)
    assert (raw.header_row, raw.data_rows, raw.declared_total, raw.notes) == (1, 3, None, [])
    assert raw.frame.schema == RAW_SCHEMA
    assert raw.frame["_source_row"].to_list() == [2, 3, 4]  # a record per row, as Excel shows it
    assert raw.frame["TenTTHC"][1] == data[1][COL["TenTTHC"]]
    assert raw.frame["MaTTHC"].to_list() == ["1.001230", "2.000635.000.00.00.H21", "1.012784.H21"]
    assert raw.frame["MaDVHC"][0] is None


def test_csv_blank_lines_keep_row_numbers(tmp_path: Path) -> None:
    text = csv_text(rows(2)).replace("\r\n", "\r\n\r\n", 2)  # blank line after header and row 2
    path = tmp_path / "ds.csv"
    path.write_text(text, encoding="utf-8")
    assert read_dossier_file(path).frame["_source_row"].to_list() == [3, 5]


def test_csv_in_cp1252_is_decoded_and_noted(tmp_path: Path) -> None:
    header = ",".join(["STT", *KEYS])  # API keys are plain ASCII: valid in any encoding
    row = ["1", "X-210101-0001", "1.001230", "Caf\xe9 \x81\x8d", *[""] * (len(KEYS) - 3)]
    path = tmp_path / "legacy.csv"
    # 0xE9 is not UTF-8 on its own; 0x81 and 0x8D are bytes cp1252 leaves undefined.
    path.write_bytes(f"{header}\r\n{','.join(row)}\r\n".encode("latin-1"))
    raw = read_dossier_file(path)
    assert raw.notes == [
        "file is not valid UTF-8: decoded as cp1252 (legacy text is repaired later)"
    ]
    assert raw.frame["TenTTHC"][0] == "Caf\xe9 \x81\x8d"
    assert raw.frame["MaTTHC"][0] == "1.001230"
    assert decode_legacy(b"\x80\x9c\xe0\x81") == "\u20ac\u0153\xe0\x81"  # cp1252, not latin-1


def test_csv_with_title_and_total_rows(tmp_path: Path) -> None:
    lines = (
        "UBND HUYỆN KRÔNG PA\r\nDANH SÁCH HỒ SƠ\r\n\r\n"
        + csv_text(rows(2))
        + "Tổng số: 2 hồ sơ\r\n"
    )
    path = tmp_path / "ds.csv"
    path.write_text(lines, encoding="utf-8")
    raw = read_dossier_file(path)
    assert (raw.header_row, raw.data_rows, raw.declared_total) == (4, 2, 2)
    assert raw.frame["_source_row"].to_list() == [5, 6]
    assert raw.title_lines == ["UBND HUYỆN KRÔNG PA", "DANH SÁCH HỒ SƠ"]


def test_csv_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "ds.csv"
    path.write_text("STT,Mã hồ sơ,Đơn vị tiếp nhận,Kênh nộp\r\n1,a,b,c\r\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as err:
        read_dossier_file(path)
    assert err.value.row == 1 and err.value.field == "Ngày tiếp nhận"
    assert (
        "'Ngày tiếp nhận', 'Ngày hẹn trả', 'Ngày hoàn thành', 'Trạng thái', 'Ngày cập nhật'"
        in str(err.value)
    )


@settings(max_examples=30, deadline=None)
@given(
    codes=st.lists(st.from_regex(r"\A\d\.\d{6}(\.000\.00\.00\.H\d\d)?\Z"), min_size=1, max_size=5)
)
def test_csv_codes_round_trip(tmp_path_factory: pytest.TempPathFactory, codes: list[str]) -> None:
    data = rows(len(codes))
    for row, code in zip(data, codes, strict=True):
        row[COL["MaTTHC"]] = code
    path = tmp_path_factory.mktemp("csv") / "ds.csv"
    path.write_text(csv_text(data), encoding="utf-8")
    assert read_dossier_file(path).frame["MaTTHC"].to_list() == codes


def test_file_sha256_streams(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    payload = b"x" * (3 << 20) + b"tail"
    path.write_bytes(payload)
    assert file_sha256(path) == hashlib.sha256(payload).hexdigest()
    assert file_sha256(path, chunk_size=7) == hashlib.sha256(payload).hexdigest()


def test_api_keys_work_as_labels(tmp_path: Path) -> None:
    path = tmp_path / "dump.csv"
    frame = pl.DataFrame({k: ["v"] for k in [*KEYS, "MaLinhVuc"]})
    frame.write_csv(path)
    raw = read_dossier_file(path)
    assert raw.frame["MaLinhVuc"][0] == "v" and raw.notes == []


def test_semicolon_csv_from_vietnamese_excel(tmp_path: Path) -> None:
    text = csv_text(rows(2)).replace(",", ";")  # no commas inside the fixture's values
    path = tmp_path / "ds.csv"
    path.write_text(text, encoding="utf-8-sig")
    raw = read_dossier_file(path)
    assert raw.data_rows == 2 and raw.notes == ["separator ';' detected instead of ','"]
    assert raw.frame["MaTTHC"][0] == "1.001230"


@pytest.mark.parametrize(
    ("text", "expected"),
    [('"Tổng số hồ sơ: 1,234"', 1234), ("TỔNG CỘNG", None), ("Tổng số:   12 hồ sơ", 12)],
)
def test_total_row_variants(tmp_path: Path, text: str, expected: int | None) -> None:
    path = tmp_path / "ds.csv"
    path.write_text(csv_text(rows(2)) + text + "\r\n", encoding="utf-8")
    raw = read_dossier_file(path)
    assert (raw.data_rows, raw.declared_total) == (2, expected)


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_real_legacy_exports(tmp_path: Path, encoding: str) -> None:
    from transforms import legacy_text as legacy
    enc = {"tcvn3": legacy.encode_tcvn3, "vni": legacy.encode_vni}[encoding]
    data = [[enc(v) if isinstance(v, str) else v for v in dossier_row(i)] for i in range(3)]
    xlsx = tmp_path / "legacy.xlsx"
    write_xlsx(xlsx, data, header=[enc(h) for h in HEADER], signature=False)
    _append_footer(xlsx, enc("Tổng số: 3 hồ sơ"))
    raw = read_dossier_file(xlsx)
    assert (raw.data_rows, raw.declared_total) == (3, 3)
    assert raw.notes == ["header labels matched after legacy-encoding (TCVN3/VNI) repair"]
    assert raw.frame["TrangThaiHoSo"][0] == enc("Đã trả kết quả")  # values are repaired later
    assert raw.frame["MaDVHC"].to_list() == [None, "24109", "24109"]  # "Mã ĐVHC" matched too
    csv_path = tmp_path / "legacy.csv"
    csv_path.write_bytes(enc(csv_text([dossier_row(i) for i in range(2)])).encode("cp1252"))
    raw = read_dossier_file(csv_path)
    assert raw.data_rows == 2 and raw.notes == [
        "file is not valid UTF-8: decoded as cp1252 (legacy text is repaired later)",
        "header labels matched after legacy-encoding (TCVN3/VNI) repair",
    ]


def _append_footer(path: Path, text: str) -> None:
    """Rewrite the fixture's workbook with ``text`` as the row below the data (legacy footer)."""
    grid = pl.read_excel(
        path,
        engine="calamine",
        has_header=False,
        drop_empty_rows=False,
        read_options={"header_row": None, "skip_rows": 0, "dtypes": "string"},
    )
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    for r, row in enumerate(grid.iter_rows()):
        ws.write_row(r, 0, ["" if v is None else v for v in row])
    ws.write_string(grid.height, 0, text)
    wb.close()
