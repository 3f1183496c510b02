"""Read a CSV export as a text grid (like ``sources.xlsx``), whatever its byte encoding.

The fast path is polars, every field as text (``infer_schema=False``, no header: the header line is
just row 1 of the grid, found later like an XLSX header), ~1 s per million rows. Rows wider than
the first line (title rows above the header) make polars refuse the file; Python's csv module then
reads it record by record, the slow but forgiving path.

UTF-8 is read with or without BOM. Other bytes come from legacy Windows tools: they are decoded as
cp1252, with the five bytes cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) passed through as
the Latin-1 code points, as Windows itself does. That keeps TCVN3 text as the same characters an
XLSX cell from the same machine would hold, so ``transforms.legacy_text`` can repair both alike.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import polars as pl

from sources.errors import SourceFileError
from sources.xlsx import ROW, Grid, column_letters

_BOM = codecs.BOM_UTF8
_QUOTED = re.compile(rb'"[^"]*"')
LEGACY_NOTE = "file is not valid UTF-8: decoded as cp1252 (legacy text is repaired later)"


def _c1_passthrough(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: an undefined byte becomes the code point of the same value."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "".join(chr(b) for b in exc.object[exc.start : exc.end]), exc.end


codecs.register_error("cchc_c1_passthrough", _c1_passthrough)


def decode_legacy(data: bytes) -> str:
    """Non-UTF-8 bytes as a Windows (cp1252) machine would show them."""
    return data.decode("cp1252", errors="cchc_c1_passthrough")


def _to_grid(frame: pl.DataFrame, name: str) -> Grid:
    frame = frame.rename({c: column_letters(i) for i, c in enumerate(frame.columns)})
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    return Grid(frame, name)


def sniff_separator(head: bytes) -> str:
    """``,`` unless the first lines clearly use ``;`` (Excel under Vietnamese regional settings,
    whose decimal mark is the comma) or a tab: the candidate with the most fields in a line wins."""
    lines = _QUOTED.sub(b"", head).splitlines()[:30]
    counts = {sep: max((line.count(sep.encode()) for line in lines), default=0) for sep in ",;\t"}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def _polars_grid(source: Path | io.BytesIO, name: str, sep: str) -> Grid | None:
    """The polars read; None when the rows are ragged (the csv-module path takes over)."""
    try:
        frame = pl.read_csv(
            source, has_header=False, infer_schema=False, raise_if_empty=False, separator=sep
        )
    except pl.exceptions.ComputeError as exc:
        if "more fields" in str(exc):
            return None
        raise
    return _to_grid(frame, name)


def _records_grid(text: str, name: str, sep: str) -> Grid:
    """Record-by-record read with Python's csv module; short rows are padded with nulls."""
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    width = max((len(r) for r in records), default=0)
    columns = [
        pl.Series([r[i] if i < len(r) and r[i] != "" else None for r in records], dtype=pl.String)
        for i in range(width)
    ]
    return _to_grid(pl.DataFrame({str(i): c for i, c in enumerate(columns)}), name)


def read_csv_grid(path: Path) -> tuple[Grid, list[str]]:
    """The CSV as a spreadsheet would show it (row n = record n) and notes on its decoding."""
    try:
        with path.open("rb") as fh:
            head = fh.read(64 << 10)
    except OSError as exc:
        raise SourceFileError(path, None, None, f"cannot read file: {exc}") from exc
    if not head or head == _BOM:
        raise SourceFileError(path, None, None, "empty file")
    sep = sniff_separator(head)
    notes = [] if sep == "," else [f"separator {sep!r} detected instead of ','"]
    try:
        try:
            grid = _polars_grid(path, path.name, sep)
            if grid is not None:
                return grid, notes
            data = path.read_bytes().removeprefix(_BOM)
            return _records_grid(data.decode("utf-8"), path.name, sep), notes
        except (pl.exceptions.ComputeError, UnicodeDecodeError) as exc:
            if isinstance(exc, pl.exceptions.ComputeError) and "utf-8" not in str(exc).lower():
                raise
        text = decode_legacy(path.read_bytes())
        grid = _polars_grid(io.BytesIO(text.encode()), path.name, sep)
        return (grid or _records_grid(text, path.name, sep)), [LEGACY_NOTE, *notes]
    except (pl.exceptions.PolarsError, csv.Error) as exc:
        raise SourceFileError(path, None, None, f"cannot parse CSV: {exc}") from exc
