"""Form 06 as the spreadsheet a People's Committee files (biểu số II.06a).

Title block with the issuing body and the national motto, the period, the three-row merged
header, the row of column numbers 1…13, section rows (district, communes) without numbers, the
"Tổng cộng" row, a note on what column 9 includes, and the signature block.
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse.form06 import COUNT_COLUMNS, TOTAL_LABEL, By

if TYPE_CHECKING:
    import polars as pl

FORM_NUMBER = "Biểu số II.06a/VPCP/KSTT"
TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
SECTIONS = (
    ("Huyện, thị xã, thành phố", {"province", "district"}),
    ("Xã, phường, thị trấn", {"commune", "ward", "town"}),
)
OTHER_SECTION = "Đơn vị khác (chưa có trong danh mục)"
HEADER_TOP = ((2, 5, "Số hồ sơ nhận giải quyết"), (6, 9, "Kết quả giải quyết"),
              (10, 12, "Số hồ sơ đang giải quyết"))  # fmt: skip
HEADER_SUB = {
    3: "Số mới tiếp nhận trực tuyến",
    4: "Số mới tiếp nhận trực tiếp hoặc qua dịch vụ bưu chính công ích",
    5: "Số kỳ trước chuyển qua",
    7: "Trả trước hạn",
    8: "Trả đúng hạn",
    9: "Trả quá hạn",
    11: "Trong hạn",
    12: "Quá hạn",
}


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def period_label(date_from: date, date_to: date) -> str:
    """ "Năm 2021", "Quý 2/2022", "Tháng 3/2021", or the two days."""
    month_end = calendar.monthrange(date_to.year, date_to.month)[1]
    whole_months = date_from.day == 1 and date_to.day == month_end
    if whole_months and date_from.month == 1 and date_to.month == 12:
        years = f"{date_from.year}" if date_from.year == date_to.year else (
            f"{date_from.year} - {date_to.year}")  # fmt: skip
        return f"Năm {years}"
    if whole_months and date_from.year == date_to.year:
        if date_from.month == date_to.month:
            return f"Tháng {date_from.month}/{date_from.year}"
        if date_from.month % 3 == 1 and date_to.month == date_from.month + 2:
            return f"Quý {date_to.month // 3}/{date_from.year}"
    return f"{_d(date_from)} - {_d(date_to)}"


def issuer_from(frame: pl.DataFrame) -> str:
    """ "UBND HUYỆN KRÔNG PA" from the district row of a by-unit form, else ""."""
    districts = frame.filter(frame["level"] == "district")["c2"]
    return f"UBND {districts[0].upper()}" if districts.len() else ""


def sections(frame: pl.DataFrame, by: str) -> list[tuple[str | None, list[dict]]]:
    """The rows above the total, grouped in sections by unit level (one unnamed section for
    any other ``by``)."""
    rows = frame.filter(frame["c2"] != TOTAL_LABEL).to_dicts()
    if by != "unit":
        return [(None, rows)]
    out: list[tuple[str | None, list[dict]]] = []
    known: set[str] = set()
    for label, levels in SECTIONS:
        known |= levels
        members = [r for r in rows if r["level"] in levels]
        if members:
            out.append((label, members))
    rest = [r for r in rows if r["level"] not in known]
    if rest:
        out.append((OTHER_SECTION, rest))
    return out


def new_workbook(path: Path):
    """An xlsxwriter workbook that never turns text into a formula or a link: a cell value
    ``=cmd|' /C calc'!A0`` from the data stays text (docs/security.md)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    return xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False}
    )


def write_cell(ws, row: int, col: int, value, fmt=None) -> None:
    """One data cell by its type: numbers as numbers, None as blank, anything else as text
    (``write_string``, never ``write``, on text that came from the data)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def add_formats(wb) -> dict:
    """The cell formats of the project's report spreadsheets (Times New Roman 12, bordered)."""
    base = {"font_name": "Times New Roman", "font_size": 12}
    specs = {
        "bold_c": {"bold": True, "align": "center", "valign": "vcenter"},
        "motto": {"bold": True, "align": "center", "underline": True},
        "italic_c": {"italic": True, "align": "center"},
        "title": {"bold": True, "font_size": 14, "align": "center"},
        "head": {"bold": True, "border": 1, "align": "center", "valign": "vcenter",
                 "text_wrap": True},
        "num_row": {"italic": True, "border": 1, "align": "center"},
        "cell": {"border": 1, "num_format": "#,##0"},
        "text": {"border": 1, "text_wrap": True},
        "section": {"border": 1, "bold": True, "italic": True},
        "total": {"border": 1, "bold": True, "num_format": "#,##0"},
        "total_text": {"border": 1, "bold": True},
        "percent": {"border": 1, "num_format": "0.00%"},
        "total_percent": {"border": 1, "bold": True, "num_format": "0.00%"},
        "note": {"italic": True, "text_wrap": True, "valign": "top"},
    }  # fmt: skip
    return {name: wb.add_format({**base, **spec}) for name, spec in specs.items()}


def write_title_block(
    ws, fmt: dict, last_col: int, issuer: str, form_number: str, title: str,
    date_from: date, date_to: date,
) -> None:  # fmt: skip
    """Rows 0-5: issuing body, national motto, form number, title, period (label and days)."""
    ws.merge_range(0, 0, 0, 4, issuer, fmt["bold_c"])
    ws.merge_range(
        0, last_col - 6, 0, last_col, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", fmt["bold_c"]
    )
    ws.merge_range(1, last_col - 6, 1, last_col, "Độc lập - Tự do - Hạnh phúc", fmt["motto"])
    if form_number:
        ws.merge_range(2, last_col - 3, 2, last_col, form_number, fmt["italic_c"])
    ws.merge_range(3, 0, 3, last_col, title, fmt["title"])
    ws.merge_range(4, 0, 4, last_col, f"Kỳ báo cáo: {period_label(date_from, date_to)}",
                   fmt["bold_c"])  # fmt: skip
    ws.merge_range(5, 0, 5, last_col, f"(Từ ngày {_d(date_from)} đến ngày {_d(date_to)})",
                   fmt["italic_c"])  # fmt: skip


def write_signatures(ws, fmt: dict, row: int, last_col: int) -> None:
    """The signature block: the preparer on the left, the head of the body on the right."""
    ws.merge_range(row, 0, row, 4, "NGƯỜI LẬP BIỂU", fmt["bold_c"])
    ws.merge_range(row, last_col - 4, row, last_col, "THỦ TRƯỞNG ĐƠN VỊ", fmt["bold_c"])
    ws.merge_range(row + 1, 0, row + 1, 4, "(Ký, ghi rõ họ tên)", fmt["italic_c"])
    ws.merge_range(row + 1, last_col - 4, row + 1, last_col, "(Ký tên, đóng dấu)",
                   fmt["italic_c"])  # fmt: skip


def write_form06_xlsx(
    frame: pl.DataFrame, path: Path, date_from: date, date_to: date, by: By, issuer: str = ""
) -> Path:
    """Write ``form06(...)``'s frame as the official spreadsheet; returns ``path``."""
    wb = new_workbook(path)
    ws = wb.add_worksheet("Biểu 06")
    fmt = add_formats(wb)
    head, cell, text, total = fmt["head"], fmt["cell"], fmt["text"], fmt["total"]

    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 12, 12)
    write_title_block(ws, fmt, 12, issuer, FORM_NUMBER, TITLE, date_from, date_to)

    top = 7
    ws.merge_range(top, 0, top + 2, 0, "STT", head)
    subject = "Đơn vị" if by == "unit" else "Lĩnh vực, công việc giải quyết theo cấp"
    ws.merge_range(top, 1, top + 2, 1, subject, head)
    for first, last, label in HEADER_TOP:
        ws.merge_range(top, first, top, last, label, head)
        ws.merge_range(top + 1, first, top + 2, first, "Tổng số", head)
        ws.merge_range(top + 1, first + 1, top + 1, last, "Trong đó", head)
    for col, label in HEADER_SUB.items():
        ws.write_string(top + 2, col, label, head)
    ws.set_row(top + 2, 75)
    for col in range(13):
        ws.write_string(top + 3, col, f"({col + 1})", fmt["num_row"])

    r = top + 4
    for label, rows in sections(frame, by):
        if label is not None:
            ws.write_blank(r, 0, None, fmt["section"])
            ws.merge_range(r, 1, r, 12, label, fmt["section"])
            r += 1
        for row in rows:
            write_cell(ws, r, 0, row["c1"], cell)
            write_cell(ws, r, 1, row["c2"], text)
            for i, col in enumerate(COUNT_COLUMNS, start=2):
                ws.write_number(r, i, row[col], cell)
            r += 1
    totals = frame.row(-1, named=True)
    ws.write_blank(r, 0, None, total)
    ws.write_string(r, 1, TOTAL_LABEL, total)
    for i, col in enumerate(COUNT_COLUMNS, start=2):
        ws.write_number(r, i, totals[col], total)

    r += 2
    ws.merge_range(
        r, 0, r + 1, 12,
        f"Ghi chú: cột (9) gồm {totals['no_due_date']:,} hồ sơ không có ngày hẹn trả (phần mềm "
        f"một cửa tính là đúng hạn) và {totals['withdrawn']:,} hồ sơ công dân rút; cột (12) gồm "
        f"{totals['open_no_due_date']:,} hồ sơ đang giải quyết không có ngày hẹn trả.",
        fmt["note"],
    )  # fmt: skip
    write_signatures(ws, fmt, r + 3, 12)
    ws.freeze_panes(top + 4, 2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
    return path
