"""Read a dossier-list export (sources.md §1.3) into a RAW FRAME.

XLSX exports carry title rows above the header and a total row plus a signature block below the
data; CSV exports usually do not, but one saved from the XLSX does, so both go through the same
layout detection (``sources.layout``). Headers map to API keys through ``DOSSIER_FIELDS``; values
stay as text exactly as the file holds them (no repair here: transforms do that), and every row
keeps the number a spreadsheet shows for it, so an error can say "row 17".
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.csvtext import read_csv_grid
from sources.errors import SourceFileError
from sources.layout import (
    FOOTER_MAX_CELLS,
    Footer,
    Header,
    Repair,
    blank_rows,
    find_footer,
    find_header,
    is_column_number_row,
    label_key,
    non_blank,
)
from sources.onestop.fields import (
    DOSSIER_FIELDS,
    DROPPED_HEADERS,
    HEADER_ALIASES,
    RAW_FIELDS,
    REQUIRED_FIELDS,
)
from sources.onestop.raw import assemble_raw_frame
from sources.xlsx import ROW, Grid, read_grid, sheet_names

__all__ = ["RawFile", "SourceFileError", "file_sha256", "read_dossier_file"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv",)
_LABELS = dict(DOSSIER_FIELDS)  # API key -> the export's own label


def _header_table() -> dict[str, str | None]:
    """Label key -> API key (None: known and dropped). Export labels win over aliases."""
    table: dict[str, str | None] = {label_key(h): None for h in DROPPED_HEADERS}
    for key in RAW_FIELDS:
        table.setdefault(label_key(key), key)
    for key, aliases in HEADER_ALIASES.items():
        for alias in aliases:
            table[label_key(alias)] = key
    for key, label in DOSSIER_FIELDS:
        table[label_key(label)] = key
    return table


HEADER_TABLE = _header_table()


@dataclass
class RawFile:
    """A dossier file read as a raw frame, with what the layout said about it."""

    frame: pl.DataFrame  # RAW FRAME (docs/architecture.md)
    header_row: int  # Excel row number of the header
    data_rows: int  # rows in ``frame``
    declared_total: int | None  # N of "Tổng số: N hồ sơ", when the file has a total row
    notes: list[str] = field(default_factory=list)  # what was odd but did not stop the read
    title_lines: list[str] = field(default_factory=list)  # text of the rows above the header
    sheet: str | None = None  # worksheet read (XLSX)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, streamed: identifies an export whatever it is called."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def legacy_repair() -> Repair | None:
    """Text repair for legacy (TCVN3/VNI) labels, from ``transforms.legacy_text`` if it exists.

    ``repair`` converts only text it can judge legacy on its own; a short label such as
    "Mã ĐVHC" (an acronym is no Vietnamese syllable) may stay ambiguous. So each explicit
    decoding is tried as well, and one that yields a known header label wins: matching a
    label is the strongest evidence there is. Otherwise ``repair``'s answer is used.
    """
    try:
        if importlib.util.find_spec("transforms.legacy_text") is None:
            return None
    except (ImportError, ValueError):  # no transforms package, or a stub without a spec
        return None
    module = importlib.import_module("transforms.legacy_text")
    repair = getattr(module, "repair", None)
    if repair is None:
        return None
    decode = getattr(module, "decode", None)
    tries: list[Callable[[str], str | None]] = [repair]
    if decode is not None:
        tries += [lambda t: decode(t, "tcvn3"), lambda t: decode(t, "vni")]

    def label_repair(text: str) -> str:
        first: str | None = None
        for attempt in tries:
            try:
                out = attempt(text)
            except Exception:  # a text it cannot repair is just a text that does not match
                continue
            if out is None:
                continue
            if label_key(out) in HEADER_TABLE:
                return out
            first = out if first is None else first
        return text if first is None else first

    return label_repair


def _locate_header(grid: Grid) -> Header | None:
    header = find_header(grid.frame, HEADER_TABLE)
    if header is None and (repair := legacy_repair()) is not None:
        header = find_header(grid.frame, HEADER_TABLE, repair=repair)
    return header


def _read_layout(path: Path) -> tuple[Grid, Header, list[str]]:
    """The grid and its header, trying every sheet of a workbook in order."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        grid, notes = read_csv_grid(path)
        grids = [grid]
    elif suffix in EXCEL_SUFFIXES:
        names, notes = sheet_names(path), []
        if not names:
            raise SourceFileError(path, None, None, "workbook has no sheets")
        grids = (read_grid(path, i) for i in range(len(names)))
    else:
        raise SourceFileError(path, None, None, f"unsupported file type '{path.suffix}'")
    empty = True
    for grid in grids:
        header = _locate_header(grid)
        if header is not None:
            return grid, header, notes
        empty = empty and not blank_rows(grid.frame).height < grid.frame.height
    if empty:
        raise SourceFileError(path, None, None, "empty file: no cell holds any text")
    wanted = ", ".join(f"'{_LABELS[k]}'" for k in REQUIRED_FIELDS[:4])
    raise SourceFileError(
        path,
        None,
        None,
        f"no header row found: no row in the first 100 has the dossier-list labels ({wanted}, …)"
        + ("" if legacy_repair() else "; legacy TCVN3/VNI labels cannot be repaired yet"),
    )


def _header_notes(header: Header, body: pl.DataFrame) -> list[str]:
    """Odd columns that do not stop the read: unknown, repeated, unnamed with data, missing."""
    notes: list[str] = []
    if header.repaired:
        notes.append("header labels matched after legacy-encoding (TCVN3/VNI) repair")
    for col in header.unknown:
        notes.append(f"unknown column '{header.labels[col]}' (column {col}) ignored")
    for col in header.duplicates:
        notes.append(f"repeated column '{header.labels[col]}' (column {col}) ignored")
    unnamed = [c for c in body.columns if c != ROW and c not in header.labels]
    if unnamed:
        counts = body.select(pl.col(unnamed).is_not_null().sum()).row(0)
        notes += [
            f"column {c} has no header but {n} values: ignored"
            for c, n in zip(unnamed, counts, strict=True)
            if n
        ]
    present = set(header.fields.values())
    missing = [
        _LABELS[k] for k, _ in DOSSIER_FIELDS if k not in present and k not in REQUIRED_FIELDS
    ]
    if missing:
        notes.append("columns absent (left null): " + ", ".join(f"'{m}'" for m in missing))
    return notes


def _check_required(path: Path, header: Header) -> None:
    present = set(header.fields.values())
    missing = [_LABELS[k] for k in REQUIRED_FIELDS if k not in present]
    if missing:
        labels = ", ".join(f"'{m}'" for m in missing)
        raise SourceFileError(
            path, header.row, missing[0], f"missing required column(s) {labels} in the header row"
        )


def _body(
    grid: Grid, header: Header, repair: Repair | None
) -> tuple[pl.DataFrame, Footer | None, list[str]]:
    """Data rows between the header and the footer, blank rows dropped."""
    frame, notes = grid.frame, []
    start = header.index + 1
    columns = [c for c in frame.columns if c != ROW]
    if start < frame.height and is_column_number_row(
        frame.row(start, named=True)[c] for c in columns
    ):
        notes.append(f"row {frame[ROW][start]}: column-number row under the header skipped")
        start += 1
    footer = find_footer(frame, start, repair)
    body = frame.slice(start, (footer.index - start) if footer else None)
    if footer is not None:
        after = frame.slice(footer.index + 1).filter(non_blank(columns) > FOOTER_MAX_CELLS).height
        if after:
            notes.append(
                f"{after} rows below row {footer.row} ('{footer.text[:40]}') look like data: ignored"
            )
    blank = blank_rows(body)
    if blank.height:
        body = body.filter(~pl.col(ROW).is_in(blank[ROW].implode()))
    return body, footer, notes


def read_dossier_file(path: Path) -> RawFile:
    """Read an XLSX or CSV dossier list; SourceFileError if it cannot be read as one."""
    path = Path(path)
    if not path.is_file():
        raise SourceFileError(path, None, None, "no such file")
    grid, header, notes = _read_layout(path)
    _check_required(path, header)
    repair = legacy_repair() if header.repaired else None
    body, footer, body_notes = _body(grid, header, repair)
    notes += _header_notes(header, body) + body_notes
    frame = assemble_raw_frame(body, {f: c for c, f in header.fields.items()}, str(path), ROW)
    declared = footer.declared_total if footer else None
    if declared is not None and declared != frame.height:
        notes.append(f"total row says {declared} dossiers, the file has {frame.height} data rows")
    titles = [
        " ".join(v.strip() for v in row if v is not None and v.strip())
        for row in grid.frame.head(header.index).drop(ROW).iter_rows()
    ]
    return RawFile(
        frame=frame,
        header_row=header.row,
        data_rows=frame.height,
        declared_total=declared,
        notes=notes,
        title_lines=[t for t in titles if t],
        sheet=grid.sheet if path.suffix.lower() in EXCEL_SUFFIXES else None,
    )
