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
import unicodedata
from pathlib import Path

import polars as pl

from sources.errors import SourceFileError
from sources.filecheck import open_regular, sniff_kind
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
    """The polars read; None when the rows are ragged (the csv-module path takes over).

    A path is read as that one file (``glob=False``): ``exp[12].csv`` is a file name, not a
    pattern matching exp1.csv and exp2.csv."""
    try:
        frame = pl.read_csv(
            source, has_header=False, infer_schema=False, raise_if_empty=False, separator=sep,
            glob=False,
        )
    except pl.exceptions.ComputeError as exc:
        if "more fields" in str(exc):
            return None
        raise
    return _to_grid(frame, name)


def _records_grid(text: str, name: str, sep: str) -> Grid:
    """Record-by-record read with Python's csv module; short rows are padded with nulls."""
    csv.field_size_limit(1 << 30)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    width = max((len(r) for r in records), default=0)
    columns = [
        pl.Series([r[i] if i < len(r) and r[i] != "" else None for r in records], dtype=pl.String)
        for i in range(width)
    ]
    return _to_grid(pl.DataFrame({str(i): c for i, c in enumerate(columns)}), name)


_TOKENS = re.compile(r'"|\r\n|\n|\r|[,;\t]')


def unterminated_quote(text: str, sep: str) -> tuple[int, str] | None:
    """(record number, column letters) of a quoted field that never ends, as a spreadsheet
    numbers them; None when every quote closes. Never returns the field's text."""
    record, column, quoted, opened = 1, 0, False, (1, 0)
    field_start, closed_at = 0, -1
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok == '"':
            if quoted:
                quoted, closed_at = False, m.end()
            elif m.start() in (field_start, closed_at):  # opens a field, or a doubled ""
                quoted, opened = True, (record, column)
            continue
        if quoted:
            continue
        if tok == sep:
            column, field_start = column + 1, m.end()
        elif tok in ("\r\n", "\n", "\r"):
            record, column, field_start = record + 1, 0, m.end()
    if quoted:
        return opened[0], column_letters(opened[1])
    return None


def _utf16(head: bytes) -> str | None:
    """The UTF-16 codec of a file by its BOM or by NUL bytes every other byte; None otherwise."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 8 and sample.count(0) * 3 >= len(sample):
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        if odd > 2 * even:
            return "utf-16-le"
        if even > 2 * odd:
            return "utf-16-be"
    return None


def read_csv_grid(path: Path, encoding: str | None = None) -> tuple[Grid, list[str]]:
    """The CSV as a spreadsheet would show it (row n = record n) and notes on its decoding.

    ``encoding``: force a legacy codec (``"cp1258"``: Windows Vietnamese) instead of detecting."""
    try:
        with open_regular(path) as fh:
            head = fh.read(64 << 10)
    except OSError as exc:
        raise SourceFileError(path, None, None, f"cannot read file ({exc.strerror})") from exc
    if not head or head == _BOM:
        raise SourceFileError(path, None, None, "empty file")
    kind = sniff_kind(head)
    if kind:
        raise SourceFileError(
            path, None, None,
            f"this is an {kind.upper()} workbook named .csv: rename it to .{kind} and ingest it again",
        )
    source: Path | io.BytesIO = path
    notes: list[str] = []
    text: str | None = None
    codec = _utf16(head)
    if codec:
        try:
            text = _read_all(path).decode(codec)
        except UnicodeDecodeError:
            raise SourceFileError(
                path, None, None, "file looks like UTF-16 but is not valid UTF-16: save it again "
                "as CSV UTF-8",
            ) from None
        text = text.removeprefix("\ufeff")
        notes.append("file is UTF-16: decoded")
    elif b"\x00" in head:
        raise SourceFileError(
            path, None, None, "binary data (NUL bytes), not a CSV text export: export the file "
            "again as CSV UTF-8 or XLSX",
        )
    elif encoding is not None:
        text = unicodedata.normalize("NFC", _read_all(path).decode(encoding, errors="replace"))
        notes.append(f"file is not valid UTF-8: decoded as {encoding}")
    if text is None and b"\r" in head and b"\n" not in head:
        text = _read_all(path).removeprefix(_BOM).decode("utf-8", errors="surrogateescape")
    if text is not None:
        if "\n" not in text[: 64 << 10] and "\r" in text:
            text = text.replace("\r", "\n")
            notes.append("line ends are CR only (old Mac format): read as line breaks")
        source = io.BytesIO(text.encode("utf-8", errors="surrogateescape"))
    sep = sniff_separator(head if codec is None else text[: 64 << 10].encode())
    if sep != ",":
        notes.append(f"separator {sep!r} detected instead of ','")
    try:
        try:
            grid = _polars_grid(source, path.name, sep)
            if grid is not None:
                return grid, notes
            data = source.getvalue() if isinstance(source, io.BytesIO) else _read_all(path)
            decoded = data.removeprefix(_BOM).decode("utf-8")
            _refuse_open_quote(path, decoded, sep)
            return _records_grid(decoded, path.name, sep), notes
        except (pl.exceptions.ComputeError, UnicodeDecodeError) as exc:
            if isinstance(exc, pl.exceptions.ComputeError) and "utf-8" not in str(exc).lower():
                raise
        text = decode_legacy(_read_all(path))
        grid = _polars_grid(io.BytesIO(text.encode()), path.name, sep)
        if grid is None:
            _refuse_open_quote(path, text, sep)
            grid = _records_grid(text, path.name, sep)
        return grid, [LEGACY_NOTE, *notes]
    except (pl.exceptions.PolarsError, csv.Error):
        # Never the parser's own message: it quotes the raw row (names, identity numbers).
        data = source.getvalue() if isinstance(source, io.BytesIO) else _read_all(path)
        text = data.removeprefix(_BOM).decode("utf-8", errors="replace")
        _refuse_open_quote(path, text, sep)
        raise SourceFileError(
            path, None, None, "cannot parse as CSV (fields do not split consistently): export the "
            "file again as CSV UTF-8 or XLSX",
        ) from None


def _refuse_open_quote(path: Path, text: str, sep: str) -> None:
    where = unterminated_quote(text, sep)
    if where is not None:
        raise SourceFileError(
            path, where[0], where[1], "a quoted field opens here and never closes (unterminated "
            '\'"\'): fix the quote or export the file again',
        )


def _read_all(path: Path) -> bytes:
    with open_regular(path) as fh:
        return fh.read()
