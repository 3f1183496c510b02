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


def _sections(frame: pl.DataFrame, by: By) -> list[tuple[str | None, list[dict]]]:
    rows = frame.filter(frame["c2"] != TOTAL_LABEL).to_dicts()
    if by == "field":
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


def write_form06_xlsx(
    frame: pl.DataFrame, path: Path, date_from: date, date_to: date, by: By, issuer: str = ""
) -> Path:
    """Write ``form06(...)``'s frame as the official spreadsheet; returns ``path``."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Biểu 06")
    base = {"font_name": "Times New Roman", "font_size": 12}
    bold_c = wb.add_format({**base, "bold": True, "align": "center", "valign": "vcenter"})
    motto = wb.add_format({**base, "bold": True, "align": "center", "underline": True})
    italic_c = wb.add_format({**base, "italic": True, "align": "center"})
    title = wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"})
    head = wb.add_format({**base, "bold": True, "border": 1, "align": "center",
                          "valign": "vcenter", "text_wrap": True})  # fmt: skip
    num_row = wb.add_format({**base, "italic": True, "border": 1, "align": "center"})
    cell = wb.add_format({**base, "border": 1, "num_format": "#,##0"})
    text = wb.add_format({**base, "border": 1, "text_wrap": True})
    section = wb.add_format({**base, "border": 1, "bold": True, "italic": True})
    total = wb.add_format({**base, "border": 1, "bold": True, "num_format": "#,##0"})
    note = wb.add_format({**base, "italic": True, "text_wrap": True, "valign": "top"})

    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 12, 12)
    ws.merge_range(0, 0, 0, 4, issuer, bold_c)
    ws.merge_range(0, 6, 0, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold_c)
    ws.merge_range(1, 6, 1, 12, "Độc lập - Tự do - Hạnh phúc", motto)
    ws.merge_range(2, 9, 2, 12, FORM_NUMBER, italic_c)
    ws.merge_range(3, 0, 3, 12, TITLE, title)
    ws.merge_range(4, 0, 4, 12, f"Kỳ báo cáo: {period_label(date_from, date_to)}", bold_c)
    ws.merge_range(5, 0, 5, 12, f"(Từ ngày {_d(date_from)} đến ngày {_d(date_to)})", italic_c)

    top = 7
    ws.merge_range(top, 0, top + 2, 0, "STT", head)
    subject = "Đơn vị" if by == "unit" else "Lĩnh vực, công việc giải quyết theo cấp"
    ws.merge_range(top, 1, top + 2, 1, subject, head)
    for first, last, label in HEADER_TOP:
        ws.merge_range(top, first, top, last, label, head)
        ws.merge_range(top + 1, first, top + 2, first, "Tổng số", head)
        ws.merge_range(top + 1, first + 1, top + 1, last, "Trong đó", head)
    for col, label in HEADER_SUB.items():
        ws.write(top + 2, col, label, head)
    ws.set_row(top + 2, 75)
    for col in range(13):
        ws.write(top + 3, col, f"({col + 1})", num_row)

    r = top + 4
    for label, rows in _sections(frame, by):
        if label is not None:
            ws.write(r, 0, "", section)
            ws.merge_range(r, 1, r, 12, label, section)
            r += 1
        for row in rows:
            ws.write(r, 0, row["c1"], cell)
            ws.write(r, 1, row["c2"], text)
            for i, col in enumerate(COUNT_COLUMNS, start=2):
                ws.write_number(r, i, row[col], cell)
            r += 1
    totals = frame.row(-1, named=True)
    ws.write(r, 0, "", total)
    ws.write(r, 1, TOTAL_LABEL, total)
    for i, col in enumerate(COUNT_COLUMNS, start=2):
        ws.write_number(r, i, totals[col], total)

    r += 2
    ws.merge_range(
        r, 0, r + 1, 12,
        f"Ghi chú: cột (9) gồm {totals['no_due_date']:,} hồ sơ không có ngày hẹn trả (phần mềm "
        f"một cửa tính là đúng hạn) và {totals['withdrawn']:,} hồ sơ công dân rút; cột (12) gồm "
        f"{totals['open_no_due_date']:,} hồ sơ đang giải quyết không có ngày hẹn trả.",
        note,
    )  # fmt: skip
    r += 3
    ws.merge_range(r, 0, r, 4, "NGƯỜI LẬP BIỂU", bold_c)
    ws.merge_range(r, 8, r, 12, "THỦ TRƯỞNG ĐƠN VỊ", bold_c)
    ws.merge_range(r + 1, 0, r + 1, 4, "(Ký, ghi rõ họ tên)", italic_c)
    ws.merge_range(r + 1, 8, r + 1, 12, "(Ký tên, đóng dấu)", italic_c)
    ws.freeze_panes(top + 4, 2)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
    return path
