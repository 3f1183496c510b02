"""Read a worksheet as a grid of text cells numbered as Excel numbers its rows.

Every cell comes back as text (calamine through fastexcel, asked for strings), so codes typed as
text never become floats. Three cell kinds need a translation, decided here once:
- date cells: calamine gives ``2021-03-15 09:31:00`` (sometimes with milliseconds from float
  noise); they become naive ISO local time ``2021-03-15T09:31:00``, rounded to the second. A text
  cell that already reads exactly like that gets the same ``T`` (harmless: same meaning);
- numbers in a digit-padding format (``0.000000``): their displayed text (``sources.xlsx_numfmt``);
- other numbers: calamine's shortest text of the stored value (``1.00123``, ``64123456789``),
  which is what Excel's General format shows for codes; booleans: ``true``/``false``.
Empty-string cells become null; rows keep their place, so ``_row`` is the row Excel shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from sources.errors import SourceFileError
from sources.xlsx_numfmt import displayed_numbers

ROW = "_row"
_CALAMINE_DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?$"


@dataclass(frozen=True)
class Grid:
    """One sheet as text: ``_row`` (Excel's 1-based row number) and one column per sheet column,
    named by its Excel letters (``A``, ``B``, …)."""

    frame: pl.DataFrame
    sheet: str
    visible: bool = True

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW]


def column_letters(index: int) -> str:
    """Excel letters of a 0-based column index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _normalise_dates(col: pl.Expr) -> pl.Expr:
    """calamine's datetime text -> ``YYYY-MM-DDTHH:MM:SS``, rounded to the second."""
    parsed = col.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="ms")
    iso = parsed.dt.round("1s").dt.strftime("%Y-%m-%dT%H:%M:%S")
    return pl.when(col.str.contains(_CALAMINE_DATETIME)).then(iso).otherwise(col)


def _columns_with_dates(frame: pl.DataFrame) -> set[str]:
    """Columns holding at least one date cell: the only ones worth the datetime round trip."""
    if not frame.width:
        return set()
    found = frame.select(pl.all().str.contains(_CALAMINE_DATETIME).any()).row(0)
    return {c for c, hit in zip(frame.columns, found, strict=True) if hit}


def sheet_names(path: Path) -> list[str]:
    """Sheet names in workbook order; SourceFileError if the workbook cannot be opened."""
    try:
        return fastexcel.read_excel(path).sheet_names
    except (fastexcel.FastExcelError, OSError) as exc:
        raise SourceFileError(
            path, None, None, f"cannot open workbook: {_first_line(exc)}"
        ) from exc


def read_grid(
    path: Path, sheet_index: int = 0, blank: Iterable[tuple[int, int]] = ()
) -> Grid:
    """The ``sheet_index``-th sheet of an XLSX/XLS workbook as a text grid.

    ``blank``: (row, 1-based column) of cells to read as empty (formulas without a computed
    value). Callers bound the sheet first (``sources.filecheck``): calamine allocates its whole
    rectangle. The grid's ``visible`` says whether the sheet is shown."""
    try:
        reader = fastexcel.read_excel(path)
        name = reader.sheet_names[sheet_index]
        sheet = reader.load_sheet(sheet_index, header_row=None, skip_rows=0, dtypes="string")
        frame = sheet.to_polars()
        letters = [column_letters(c.absolute_index) for c in sheet.available_columns()]
        visible = sheet.visible == "visible"
    except (fastexcel.FastExcelError, OSError, IndexError) as exc:
        raise SourceFileError(
            path, None, None, f"cannot read workbook: {_first_line(exc)}"
        ) from exc
    frame = frame.rename(dict(zip(frame.columns, letters, strict=True)))
    by_col: dict[str, list[int]] = {}
    for row, col in blank:
        by_col.setdefault(column_letters(col - 1), []).append(row)
    dated = _columns_with_dates(frame)
    frame = (
        frame.with_columns(
            (_normalise_dates(pl.col(c)) if c in dated else pl.col(c)).replace("", None)
            for c in frame.columns
        )
        .with_row_index(ROW, offset=1)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = _apply_displayed(frame, displayed_numbers(str(path), sheet_index))
    if by_col:
        frame = frame.with_columns(
            pl.when(pl.col(ROW).is_in(rows)).then(None).otherwise(pl.col(c)).alias(c)
            for c, rows in by_col.items()
            if c in frame.columns
        )
    return Grid(frame, name, visible)


def _apply_displayed(frame: pl.DataFrame, shown: dict[str, dict[int, str]]) -> pl.DataFrame:
    """Replace stored numbers by their displayed text where a padding format applies."""
    for col, by_row in shown.items():
        if col not in frame.columns:
            continue
        patch = pl.DataFrame(
            {ROW: list(by_row), "_shown": list(by_row.values())},
            schema={ROW: pl.Int64, "_shown": pl.String},
        )
        frame = (
            frame.join(patch, on=ROW, how="left", maintain_order="left")
            .with_columns(pl.coalesce("_shown", col).alias(col))
            .drop("_shown")
        )
    return frame


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
