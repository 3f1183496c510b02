"""Small dossier-list files written the way the provincial exports look (docs/source-systems.md §5).

Used by the file-reader tests and by bench_onestop_files.py; independent of the simulator.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter

from sources.onestop.fields import DOSSIER_FIELDS

LABELS = [label for _, label in DOSSIER_FIELDS]
KEYS = [key for key, _ in DOSSIER_FIELDS]
HEADER = ["STT", *LABELS]
UNITS = ["UBND xã Uar", "UBND xã Ia Rsươm", "UBND huyện Krông Pa", "UBND xã Chư Gu"]
STATUSES = ["Đã trả kết quả", "Đang xử lý", "Đã xử lý xong", "Yêu cầu bổ sung giấy tờ"]
PROCEDURES = ["1.001230", "2.000635.000.00.00.H21", "1.012784.H21", "1.000894"]


def dossier_row(i: int, dates_as_cells: bool = False) -> list[Any]:
    """One export row (without STT) in DOSSIER_FIELDS order; dates as text or as datetimes."""
    received = datetime(2021, 1, 1, 7, 30) + timedelta(minutes=37 * i)

    def when(dt: datetime) -> Any:
        return dt if dates_as_cells else dt.strftime("%d/%m/%Y %H:%M")

    return [
        f"000.00.12.H21-{received:%y%m%d}-{i % 10000:04d}",
        PROCEDURES[i % len(PROCEDURES)],
        "Đăng ký khai sinh",
        "Hộ tịch",
        "Toàn trình" if i % 3 else "Một phần",
        UNITS[i % len(UNITS)],
        "24109" if i % 5 else "",
        "Trực tuyến" if i % 7 == 0 else "Trực tiếp",
        "Công dân",
        f"Nguyễn Văn {i}",
        f"{64000000000 + i:012d}",
        f"09{i % 100000000:08d}",
        when(received - timedelta(hours=1)),
        when(received),
        when(received + timedelta(days=3)),
        when(received + timedelta(days=2)),
        when(received + timedelta(days=2, hours=2)),
        STATUSES[i % len(STATUSES)],
        "Đã số hóa",
        "Có",
        "Không",
        "Hài lòng" if i % 2 else "",
        when(received + timedelta(days=2, hours=3)),
    ]


def write_xlsx(
    path: Path,
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = HEADER,
    title: bool = True,
    total: int | None = None,
    signature: bool = True,
    number_formats: dict[int, str] | None = None,
    constant_memory: bool = False,
) -> dict[str, int]:
    """Write a dossier list like the report screen does; returns the Excel rows of landmarks.

    ``rows`` are data rows without STT (a row of None writes a blank row); datetimes become date
    cells, floats/ints number cells (with ``number_formats[column index]`` if given).
    """
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    ws = wb.add_worksheet("Danh sách hồ sơ")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    formats = {c: wb.add_format({"num_format": f}) for c, f in (number_formats or {}).items()}
    r = 0
    marks: dict[str, int] = {}
    if title:
        ws.write_string(0, 0, "UBND HUYỆN KRÔNG PA")
        ws.write_string(0, 8, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        ws.write_string(1, 8, "Độc lập - Tự do - Hạnh phúc")
        ws.merge_range(3, 0, 3, 10, "DANH SÁCH HỒ SƠ TIẾP NHẬN VÀ GIẢI QUYẾT")
        ws.write_string(4, 0, "Từ ngày 01/01/2021 đến ngày 31/12/2022")
        r = 6
    marks["header"] = r + 1
    for c, label in enumerate(header):
        ws.write_string(r, c, label)
    r += 1
    marks["first_data"] = r + 1
    n = 0
    for row in rows:
        if all(v is None for v in row):
            r += 1
            continue
        n += 1
        ws.write_number(r, 0, n)
        for c, value in enumerate(row, start=1):
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                ws.write_datetime(r, c, value, date_fmt)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value, formats.get(c))
            else:
                ws.write_string(r, c, str(value))
        r += 1
    marks["last_data"] = r
    if total is not None:
        ws.merge_range(r, 0, r, 5, f"Tổng số: {total} hồ sơ")
        marks["total"] = r + 1
        r += 1
    if signature:
        ws.write_string(r + 1, 15, "Krông Pa, ngày 05 tháng 01 năm 2023")
        ws.write_string(r + 2, 2, "Người lập biểu")
        ws.write_string(r + 2, 15, "Thủ trưởng đơn vị")
        ws.write_string(r + 5, 2, "Nguyễn Thị Lập")
        ws.write_string(r + 5, 15, "Trần Văn Ký")
    wb.close()
    return marks


def csv_text(rows: Iterable[Sequence[Any]], header: Sequence[str] = HEADER) -> str:
    """A CSV export (text): header + rows with STT, comma-separated, quoted where needed."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([n, *row])
    return out.getvalue()
