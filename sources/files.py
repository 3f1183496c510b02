"""Read a provincial system's export (a dossier list, a document register) into a RAW FRAME.

Which system an export comes from is told by its header: each system's :class:`ExportLayout`
names its labels, and the layout whose labels the header row matches best (and whose required
columns are all there) reads the file. XLSX exports carry title rows above the header and a total row plus a signature block below the
data; CSV exports usually do not, but one saved from the XLSX does, so both go through the same
layout detection (``sources.layout``). Headers map to API keys through the layout's fields; values
stay as text exactly as the file holds them (no repair here: transforms do that), and every row
keeps the number a spreadsheet shows for it, so an error can say "row 17".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sources.csvtext import LEGACY_NOTE, read_csv_grid
from sources.errors import SourceFileError
from sources.fields import FieldSet
from sources.filecheck import (
    MAX_CELL_CHARS,
    MAX_FILE_BYTES,
    check_regular,
    head_bytes,
    inspect_workbook,
    open_regular,
    ref,
    scan_sheet,
    sniff_kind,
)
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
from sources.raw import assemble_raw_frame
from sources.xlsx import ROW, Grid, read_grid, sheet_names
from transforms import legacy_text

__all__ = ["ExportLayout", "RawFile", "SourceFileError", "file_sha256", "read_export"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv",)

# Fields an export supplies from its layout rather than from a column: (header fields, title
# lines) -> {raw field: value for every row}. E.g. a document register's direction.
Constants = Callable[[frozenset[str], Sequence[str]], dict[str, str]]


@dataclass(frozen=True)
class ExportLayout:
    """How one system's exports are laid out: its fields and what its readers call them."""

    system: str  # the source system, e.g. "onestop"
    kind: str  # what the export is, for messages: "dossier list", "document register"
    fields: FieldSet
    entity: str = "row"  # one record, for messages: "dossier", "document"
    constants: Constants | None = None

    @property
    def header_table(self) -> dict[str, str | None]:
        return header_table(self.fields)


_HEADER_TABLES: dict[int, dict[str, str | None]] = {}


def header_table(fields: FieldSet) -> dict[str, str | None]:
    """Label key -> API key (None: known and dropped). Export labels win over aliases.

    Built once per field set (field sets are module constants)."""
    if id(fields) not in _HEADER_TABLES:
        _HEADER_TABLES[id(fields)] = _build_header_table(fields)
    return _HEADER_TABLES[id(fields)]


def _build_header_table(fields: FieldSet) -> dict[str, str | None]:
    table: dict[str, str | None] = {label_key(h): None for h in fields.dropped_headers}
    for key in fields.raw_fields:
        table.setdefault(label_key(key), key)
    for key, aliases in fields.aliases.items():
        for alias in aliases:
            table[label_key(alias)] = key
    for key, label in fields.export_fields:
        table[label_key(label)] = key
    return table


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
    fields_present: list[str] = field(default_factory=list)  # fields with a column or a constant


def file_sha256(path: Path, chunk_size: int = 1 << 20, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Hex SHA-256 of a file, streamed: identifies an export whatever it is called.

    SourceFileError for anything but a regular file (a FIFO or ``/dev/zero`` would never end)
    or one past ``max_bytes``."""
    digest = hashlib.sha256()
    with open_regular(Path(path), max_bytes) as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def legacy_repair(tables: Sequence[dict[str, str | None]]) -> Repair:
    """Text repair for legacy (TCVN3/VNI) labels.

    ``repair`` converts only text it can judge legacy on its own; a short label such as
    "Mã ĐVHC" (an acronym is no Vietnamese syllable) may stay ambiguous. So each explicit
    decoding is tried as well, and one that yields a known header label (of any of ``tables``)
    wins: matching a label is the strongest evidence there is. Otherwise ``repair``'s answer
    is used.
    """
    tries: list[Callable[[str], str | None]] = [
        legacy_text.repair,
        lambda t: legacy_text.decode(t, "tcvn3"),
        lambda t: legacy_text.decode(t, "vni"),
    ]

    def label_repair(text: str) -> str:
        first: str | None = None
        for attempt in tries:
            try:
                out = attempt(text)
            except Exception:  # a text it cannot repair is just a text that does not match
                continue
            if out is None:
                continue
            if any(label_key(out) in table for table in tables):
                return out
            first = out if first is None else first
        return text if first is None else first

    return label_repair


def _present(layout: ExportLayout, header: Header, titles: Sequence[str]) -> set[str]:
    """Fields the file supplies: its columns plus the layout's constants."""
    present = set(header.fields.values())
    if layout.constants is not None:
        present |= set(layout.constants(frozenset(present), titles))
    return present


def _titles(grid: Grid, header: Header) -> list[str]:
    """Text of the rows above the header (title block), one string per row."""
    titles = [
        " ".join(v.strip() for v in row if v is not None and v.strip())
        for row in grid.frame.head(header.index).drop(ROW).iter_rows()
    ]
    return [t for t in titles if t]


def _locate_header(grid: Grid, layouts: Sequence[ExportLayout]) -> tuple[ExportLayout, Header] | None:
    """The layout whose labels the grid's header matches: complete ones first, then most labels."""
    found: list[tuple[bool, int, int, ExportLayout, Header]] = []
    for repair in (None, legacy_repair([lay.header_table for lay in layouts])):
        for order, layout in enumerate(layouts):
            header = find_header(grid.frame, layout.header_table, repair=repair)
            if header is None:
                continue
            complete = set(layout.fields.required) <= _present(layout, header, _titles(grid, header))
            found.append((complete, len(header.fields), -order, layout, header))
        if found:
            break
    if not found:
        return None
    best = max(found, key=lambda f: f[:3])
    return best[3], best[4]


def _read_layout(path: Path, layouts: Sequence[ExportLayout]) -> tuple[Grid, ExportLayout, Header, list[str]]:
    """The grid, its layout and its header: the CSV, or the first visible sheet of a workbook
    that has a header (hidden sheets are skipped with a note; a later sheet holding another
    export is noted, not loaded: one export per file)."""
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix in CSV_SUFFIXES:
        grids: Iterator[Grid] = _csv_grids(path, notes)
    elif suffix in EXCEL_SUFFIXES:
        grids = _excel_grids(path, notes)
    else:
        raise SourceFileError(path, None, None, f"unsupported file type '{path.suffix}': "
                              "export the list as XLSX or CSV")
    empty = True
    partial: tuple[Grid, ExportLayout, Header] | None = None  # a header lacking required columns
    for grid in grids:
        _check_cell_lengths(path, grid)
        located = _locate_header(grid, layouts)
        if located is not None and _complete(grid, *located):
            if suffix in EXCEL_SUFFIXES:  # later sheets (a CSV's next grid is another decoding)
                notes += [n for g in grids if (n := _other_export(path, g, layouts))]
            return grid, located[0], located[1], notes
        if located is not None and partial is None:
            partial = (grid, *located)
        empty = empty and not blank_rows(grid.frame).height < grid.frame.height
    if partial is not None:  # _check_required names what it lacks
        return *partial, notes
    if empty:
        raise SourceFileError(path, None, None, "empty file: no cell holds any text")
    # Required fields a file can show (API-only ones, such as a register's direction, are no
    # column of the export: naming them would send a clerk looking for a header that never exists).
    wanted = "; ".join(
        f"a {lay.kind} ({', '.join(repr(lay.fields.labels[k]) for k in _header_required(lay)[:4])}, …)"
        for lay in layouts
    )
    raise SourceFileError(
        path, None, None,
        f"no header row found: no row in the first 100 has the labels of {wanted}",
    )


def _complete(grid: Grid, layout: ExportLayout, header: Header) -> bool:
    return set(layout.fields.required) <= _present(layout, header, _titles(grid, header))


def _csv_grids(path: Path, notes: list[str]) -> Iterator[Grid]:
    """The CSV as detected; if that was a cp1252 guess, then as cp1258 (Windows Vietnamese,
    whose tone marks are combining characters) when the first reading has no header."""
    grid, first = read_csv_grid(path)
    notes += first
    yield grid
    if LEGACY_NOTE in first:
        grid, second = read_csv_grid(path, encoding="cp1258")
        notes[:] = [n for n in notes if n not in first] + second
        yield grid


def _excel_grids(path: Path, notes: list[str]) -> Iterator[Grid]:
    """The workbook's visible sheets in order, each bounded (``sources.filecheck``) before
    calamine reads it; formula cells without a computed value read as empty, with a note."""
    kind = sniff_kind(head_bytes(path, 8))
    suffix = path.suffix.lower()
    if suffix == ".xls" and kind != "xls":
        if kind == "xlsx":
            raise SourceFileError(path, None, None, "this is an XLSX workbook named .xls: rename "
                                  "it to .xlsx and ingest it again")
        raise SourceFileError(path, None, None, "not an Excel workbook (no .xls signature): "
                              "export the list again as XLSX or CSV")
    if suffix == ".xls":
        for i, name in enumerate(sheet_names(path)):
            grid = read_grid(path, i)
            if not grid.visible:
                notes.append(f"hidden sheet '{name}' skipped")
                continue
            yield grid
        return
    if kind != "xlsx":
        hint = ("this is an old .xls workbook named .xlsx: rename it to .xls" if kind == "xls"
                else "not an XLSX workbook (not a zip package): export the list again as XLSX")
        raise SourceFileError(path, None, None, hint)
    book = inspect_workbook(path)
    if not book.sheets:
        raise SourceFileError(path, None, None, "workbook has no sheets")
    for i, sheet in enumerate(book.sheets):
        if sheet.state != "visible":
            notes.append(f"{'very ' if sheet.state == 'veryHidden' else ''}hidden sheet "
                         f"'{sheet.name}' skipped")
            continue
        scan = scan_sheet(path, sheet)
        unknown = [(r, c) for r, c, has in scan.formulas if not has or book.full_calc_on_load]
        grid = read_grid(path, i, blank=unknown)
        if unknown:
            cells = ", ".join(ref(r, c) for r, c in unknown[:5]) + (" …" if len(unknown) > 5 else "")
            why = ("the program that saved it did not calculate them" if book.full_calc_on_load
                   else "they hold no computed value")
            notes.append(f"sheet '{sheet.name}': {len(unknown)} formula cell(s) read as empty, "
                         f"{why} ({cells}); open and save the file in Excel to keep their values")
        yield grid


def _other_export(path: Path, grid: Grid, layouts: Sequence[ExportLayout]) -> str | None:
    """A note if a later sheet holds another export (not loaded: one export per file)."""
    located = _locate_header(grid, layouts)
    if located is None:
        return None
    rows = grid.frame.height - located[1].index - 1
    return (f"sheet '{grid.sheet}' also holds a {located[0].kind} (header at row "
            f"{located[1].row}, up to {rows} rows below): NOT loaded; export each sheet as its "
            "own file")


def _check_cell_lengths(path: Path, grid: Grid) -> None:
    """SourceFileError naming row and column of the first cell past MAX_CELL_CHARS."""
    cols = grid.columns
    if not cols or not grid.frame.height:
        return
    longest = grid.frame.select(pl.col(cols).str.len_chars().max()).row(0)
    for col, n in zip(cols, longest, strict=True):
        if n is not None and n > MAX_CELL_CHARS:
            row = grid.frame.filter(pl.col(col).str.len_chars() > MAX_CELL_CHARS)[ROW][0]
            raise SourceFileError(
                path, row, col, f"cell holds {n:,} characters, more than the {MAX_CELL_CHARS:,} "
                "Excel allows (MAX_CELL_CHARS): not a plain export",
            )


def _header_required(layout: ExportLayout) -> list[str]:
    """The required fields that have a header in the export (in declared order)."""
    labelled = dict(layout.fields.export_fields)
    return [k for k in layout.fields.required if k in labelled]


def _header_notes(layout: ExportLayout, header: Header, body: pl.DataFrame) -> list[str]:
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
    fields = layout.fields
    missing = [
        label for k, label in fields.export_fields if k not in present and k not in fields.required
    ]
    if missing:
        notes.append("columns absent (left null): " + ", ".join(f"'{m}'" for m in missing))
    return notes


def _check_required(path: Path, layout: ExportLayout, header: Header, titles: Sequence[str]) -> None:
    present = _present(layout, header, titles)
    missing = [layout.fields.labels[k] for k in layout.fields.required if k not in present]
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


def read_export(path: Path, layouts: Sequence[ExportLayout]) -> tuple[ExportLayout, RawFile]:
    """Read an XLSX or CSV export of any of ``layouts``; SourceFileError if it is none of them."""
    path = Path(path)
    check_regular(path)
    try:
        return _read_export(path, layouts)
    except SourceFileError:
        raise
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except BaseException as exc:  # noqa: BLE001 — a reader's panic (pyo3) is a BaseException
        # Never the exception's text: parsers quote the raw row (names, identity numbers).
        raise SourceFileError(
            path, None, None, f"cannot read the file ({type(exc).__name__}): export it again as "
            "XLSX or CSV UTF-8",
        ) from exc


def _read_export(path: Path, layouts: Sequence[ExportLayout]) -> tuple[ExportLayout, RawFile]:
    grid, layout, header, notes = _read_layout(path, layouts)
    titles = _titles(grid, header)
    _check_required(path, layout, header, titles)
    repair = legacy_repair([layout.header_table]) if header.repaired else None
    body, footer, body_notes = _body(grid, header, repair)
    notes += _header_notes(layout, header, body) + body_notes
    frame = assemble_raw_frame(body, {f: c for c, f in header.fields.items()}, str(path), ROW,
                               layout.fields.raw_fields)
    constants = layout.constants(frozenset(header.fields.values()), titles) if layout.constants else {}
    if constants:
        frame = frame.with_columns(pl.lit(v, pl.String).alias(k) for k, v in constants.items())
    declared = footer.declared_total if footer else None
    if declared is not None and declared != frame.height:
        notes.append(f"total row says {declared} {layout.entity}s, the file has {frame.height} data rows")
    return layout, RawFile(
        frame=frame,
        header_row=header.row,
        data_rows=frame.height,
        declared_total=declared,
        notes=notes,
        title_lines=titles,
        sheet=grid.sheet if path.suffix.lower() in EXCEL_SUFFIXES else None,
        fields_present=sorted(_present(layout, header, titles)),
    )
