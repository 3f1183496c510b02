"""Find the table inside a report-shaped sheet: header row, data rows, total row, signature block.

Vietnamese report exports put an issuing body, the national motto, a title and a period above the
header, and a total row ("Tổng số: N hồ sơ") plus a signature block ("Người lập biểu", a name)
below the data. The header is found by its labels, not its position; footer rows are recognised
by their text *and* by having only a few filled cells, so a data row whose procedure name happens
to contain "ngày … tháng … năm" is never taken for the signature date line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from sources.xlsx import ROW

Repair = Callable[[str], str]

_SPACES = re.compile(r"\s+")
_TOTAL = re.compile(r"^(?:tổng số|tổng cộng)\b\D*(\d[\d.,]*)?")
_SIGNATURE = re.compile(
    r"^(?:người lập(?: biểu)?|người duyệt|thủ trưởng|lãnh đạo|kế toán|xác nhận|"
    r"\(ký|ký tên|.{0,60}\bngày\s*\S{0,12}\s*tháng\s*\S{0,12}\s*năm\b)"
)
FOOTER_MAX_CELLS = 4  # a footer row (total, signature) fills at most this many cells


def label_key(text: str) -> str:
    """Comparable form of a label: NFC, case-folded, trimmed, inner whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().casefold()


@dataclass(frozen=True)
class Header:
    """The header row: where it is and which grid column holds which field."""

    index: int  # position in the grid frame
    row: int  # Excel row number
    fields: dict[str, str]  # grid column -> field key (first column wins on duplicates)
    labels: dict[str, str]  # grid column -> label as written, for every labelled column
    unknown: list[str] = field(default_factory=list)  # grid columns whose label is not known
    duplicates: list[str] = field(default_factory=list)  # grid columns repeating a field
    repaired: bool = False  # labels matched only after legacy-encoding repair


def match_header(
    cells: Mapping[str, str | None],
    table: Mapping[str, str | None],
    repair: Repair | None = None,
) -> tuple[dict[str, str], list[str], list[str], int]:
    """(fields, unknown, duplicates, matches) for one candidate row; ``table`` maps label keys to
    field keys, or to None for labels that are known but dropped (``STT``)."""
    fields: dict[str, str] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    matches = 0
    for col, text in cells.items():
        if text is None or not text.strip():
            continue
        key = label_key(repair(text) if repair else text)
        if key not in table:
            unknown.append(col)
            continue
        matches += 1
        target = table[key]
        if target is None:
            continue
        if target in fields.values():
            duplicates.append(col)
        else:
            fields[col] = target
    return fields, unknown, duplicates, matches


def find_header(
    frame: pl.DataFrame,
    table: Mapping[str, str | None],
    min_matches: int = 3,
    search_rows: int = 100,
    repair: Repair | None = None,
) -> Header | None:
    """The row among the first ``search_rows`` with the most known labels (at least
    ``min_matches``); None if there is none."""
    best: Header | None = None
    best_matches = min_matches - 1
    columns = [c for c in frame.columns if c != ROW]
    for index, row in enumerate(frame.head(search_rows).iter_rows(named=True)):
        cells = {c: row[c] for c in columns}
        fields, unknown, duplicates, matches = match_header(cells, table, repair)
        if matches > best_matches:
            labels = {c: v for c, v in cells.items() if v is not None and v.strip()}
            best = Header(index, row[ROW], fields, labels, unknown, duplicates, repair is not None)
            best_matches = matches
    return best


def non_blank(columns: Sequence[str]) -> pl.Expr:
    """Number of cells in the row that hold more than whitespace."""
    return pl.sum_horizontal(
        pl.col(c).str.strip_chars().str.len_bytes().fill_null(0).gt(0) for c in columns
    )


def filled(columns: Sequence[str]) -> pl.Expr:
    """Number of non-null cells in the row: cheap (validity bitmaps only)."""
    return pl.sum_horizontal(pl.col(c).is_not_null() for c in columns)


def sparse_rows(frame: pl.DataFrame, start: int = 0) -> pl.DataFrame:
    """Rows (from position ``start``) with at most FOOTER_MAX_CELLS non-blank cells, with their
    position ``_pos`` and ``_filled`` count. Footers and blank rows are among these; data rows
    almost never are, so the exact whitespace test runs on few rows."""
    columns = [c for c in frame.columns if c != ROW]
    rows = frame.with_row_index("_pos").slice(start)
    if not columns:
        return rows.with_columns(_filled=pl.lit(0))
    few = rows.filter(filled(columns) <= FOOTER_MAX_CELLS)
    return few.with_columns(_filled=non_blank(columns))


def blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows holding nothing but nulls and whitespace (``_pos``, ``_row``)."""
    return sparse_rows(frame).filter(pl.col("_filled") == 0).select("_pos", ROW)


@dataclass(frozen=True)
class Footer:
    """Where the data ends: the first total or signature row after the header."""

    index: int  # position in the grid frame of the first footer row
    row: int  # its Excel row number
    text: str  # its text, cells joined
    declared_total: int | None  # N of "Tổng số: N hồ sơ", if it is a total row


def find_footer(frame: pl.DataFrame, start: int, repair: Repair | None = None) -> Footer | None:
    """First total row or signature row at or after position ``start``."""
    columns = [c for c in frame.columns if c != ROW]
    if not columns:
        return None
    candidates = (
        sparse_rows(frame, start)
        .filter(pl.col("_filled") > 0)
        .select(
            "_pos",
            ROW,
            pl.concat_str([pl.col(c) for c in columns], separator=" ", ignore_nulls=True),
        )
    )
    for pos, row, text in candidates.iter_rows():
        key = label_key(repair(text) if repair else text)
        total = _TOTAL.match(key)
        if total:
            digits = re.sub(r"\D", "", total.group(1) or "")
            return Footer(pos, row, text, int(digits) if digits else None)
        if _SIGNATURE.match(key):
            return Footer(pos, row, text, None)
    return None


def is_column_number_row(values: Sequence[str | None]) -> bool:
    """True for the "1, 2, 3, …" row some report headers carry under their labels."""
    filled = [v.strip() for v in values if v is not None and v.strip()]
    return len(filled) >= 3 and filled == [str(i) for i in range(1, len(filled) + 1)]
