"""Read a form 06 (biểu II.06a) as an office files it, or as the source system's report returns it.

The spreadsheet (the one ``cchc report form06 --format xlsx`` writes, or any office's): title
rows, a merged header, then the row of column numbers 1…13 — "(1)" … "(13)" or plain numbers,
in 13 adjacent columns — which fixes where every column is, whatever the title block looks
like. Below it: section rows (a label, no numbers) are skipped, each unit or field row gives
its name (column 2) and counts (columns 3–13), and the "Tổng cộng" row ends the table (notes
and signatures below it are not read). Anything unreadable is a ``SourceFileError`` naming the
file, the row as Excel numbers it and the form's column.

Both readers return the same frame: ``source_row``, ``label`` (NFC), ``code`` (null for a
spreadsheet: the name is matched later), ``is_total`` and ``c3``…``c13`` (Int64).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from sources.errors import SourceFileError, SourceProtocolError
from sources.filecheck import head_bytes, inspect_workbook, scan_sheet, sniff_kind
from sources.xlsx import ROW, Grid, read_grid
from transforms.reconcile import COUNT_COLUMNS
from transforms.text import fold_key

TOTAL_FOLDED = "tongcong"
SCHEMA = {"source_row": pl.Int64, "label": pl.String, "code": pl.String, "is_total": pl.Boolean,
          **{c: pl.Int64 for c in COUNT_COLUMNS}}  # fmt: skip
_NUMBER_CELL = re.compile(r"^\(?\s*(\d{1,2})(?:\.0+)?\s*\)?$")
_PERIOD = re.compile(r"từ ngày\s*(\d{1,2}/\d{1,2}/\d{4})\s*đến ngày\s*(\d{1,2}/\d{1,2}/\d{4})",
                     re.IGNORECASE)
_THOUSANDS = re.compile(r"^\d{1,3}([., \u00a0]\d{3})+$")


def read_form06_xlsx(path: Path, period: tuple[date, date] | None = None) -> pl.DataFrame:
    """The unit or field rows and the total row of the first sheet holding a form 06. With
    ``period``, a form whose title states another period ("Từ ngày … đến ngày …") is refused:
    its figures cannot be compared with that period's."""
    path = Path(path)
    if sniff_kind(head_bytes(path, 8)) != "xlsx":
        raise SourceFileError(path, None, None, "not an XLSX workbook: save the form as .xlsx")
    book = inspect_workbook(path)
    for i, sheet in enumerate(book.sheets):
        if sheet.state != "visible":
            continue
        scan = scan_sheet(path, sheet)
        blank = [(r, c) for r, c, has in scan.formulas if not has or book.full_calc_on_load]
        grid = read_grid(path, i, blank=blank)
        located = _number_row(grid)
        if located is not None:
            if period is not None:
                _check_period(path, grid, located[0], period)
            return _rows(path, grid, *located)
    raise SourceFileError(path, None, None, "no row of column numbers (1) … (13) found: is this "
                          "a form 06 (biểu II.06a)?")  # fmt: skip


def _check_period(path: Path, grid: Grid, header: int, period: tuple[date, date]) -> None:
    """The period the title block states, if any, must be ``period``."""
    for r in grid.frame.slice(0, header).iter_rows(named=True):
        for value in r.values():
            m = _PERIOD.search(unicodedata.normalize("NFC", str(value))) if value else None
            if not m:
                continue
            stated = tuple(datetime.strptime(d, "%d/%m/%Y").date() for d in m.groups())
            if stated != period:
                raise SourceFileError(path, r[ROW], None, f"the form is for {stated[0]:%d/%m/%Y}"
                                      f" - {stated[1]:%d/%m/%Y}, not {period[0]:%d/%m/%Y} - "
                                      f"{period[1]:%d/%m/%Y}: reconcile it with --from "
                                      f"{stated[0]} --to {stated[1]}")  # fmt: skip
            return


def _number(cell: Any) -> int | None:
    m = _NUMBER_CELL.match(str(cell).strip()) if cell is not None else None
    return int(m.group(1)) if m else None


def _number_row(grid: Grid) -> tuple[int, list[str]] | None:
    """(index in the frame, the 13 column names in form order) of the column-number row."""
    cols = grid.columns
    for idx, row in enumerate(grid.frame.select(cols).iter_rows()):
        numbers = [_number(v) for v in row]
        for start in range(len(cols) - 12):
            if numbers[start:start + 13] == list(range(1, 14)):
                return idx, cols[start:start + 13]
    return None


def _count(path: Path, row: int, column: int, text: str | None) -> int:
    if text is None:
        raise SourceFileError(path, row, f"({column})", "the cell is empty; write 0 for none")
    s = text.strip()
    if _THOUSANDS.match(s):
        s = re.sub(r"[., \u00a0]", "", s)
    s = re.sub(r"\.0+$", "", s)
    if not s.isdigit():
        raise SourceFileError(path, row, f"({column})", f"{text!r} is not a whole number of "
                              "dossiers")  # fmt: skip
    return int(s)


def _rows(path: Path, grid: Grid, header: int, cols: list[str]) -> pl.DataFrame:
    name_col, count_cols = cols[1], cols[2:]
    out: list[dict] = []
    body = grid.frame.slice(header + 1)
    for r in body.iter_rows(named=True):
        row, label = r[ROW], r[name_col]
        cells = [r[c] for c in count_cols]
        folded = fold_key(label or "")
        is_total = folded.startswith(TOTAL_FOLDED)
        if all(c is None for c in cells):
            if is_total:
                raise SourceFileError(path, row, "(3)", "the Tổng cộng row has no figures")
            continue  # a section row ("Xã, phường, thị trấn") or a blank line
        if not label or not label.strip():
            raise SourceFileError(path, row, "(2)", "a row with figures has no unit or field name")
        counts = {c: _count(path, row, i, v)
                  for i, (c, v) in enumerate(zip(COUNT_COLUMNS, cells, strict=True), start=3)}
        out.append({"source_row": row, "label": unicodedata.normalize("NFC", " ".join(
            label.split())), "code": None, "is_total": is_total, **counts})
        if is_total:
            return pl.DataFrame(out, schema=SCHEMA, orient="row")
    raise SourceFileError(path, None, "(2)", "no Tổng cộng row below the table")


def report_06_frame(body: dict[str, Any], source: str) -> pl.DataFrame:
    """The source system's ``/reports/06`` answer (rows by code and name, and ``total``) as the
    same frame; ``SourceProtocolError`` naming the row and field when a count is missing or not
    a whole number."""
    out = []
    rows = list(body.get("rows") or [])
    total = body.get("total")
    if not isinstance(total, dict):
        raise SourceProtocolError(source, "report 06 response has no 'total' object")
    for i, r in enumerate([*rows, total], start=1):
        is_total = i == len(rows) + 1
        where = "total" if is_total else f"rows[{i - 1}]"
        if not isinstance(r, dict):
            raise SourceProtocolError(source, f"{where} is not an object")
        counts = {}
        for c in COUNT_COLUMNS:
            v = r.get(c)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise SourceProtocolError(source, f"{where}.{c} is {v!r}, not a count")
            counts[c] = v
        label = "Tổng cộng" if is_total else str(r.get("name") or r.get("code") or "")
        code = None if is_total or r.get("code") is None else str(r["code"]).strip()
        out.append({"source_row": None if is_total else i, "is_total": is_total, "code": code,
                    "label": unicodedata.normalize("NFC", label), **counts})
    return pl.DataFrame(out, schema=SCHEMA, orient="row")
