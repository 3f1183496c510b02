"""Stage a plain CSV export to parquet parts without holding the file in memory.

The general reader (``sources.files``) reads a whole file as a grid to find title rows,
totals and signature blocks and to decode legacy bytes: right for a clerk's XLSX, but its memory
grows with the file. A system's CSV export (a dossier list, docs/source-systems.md §5) is
plainer: header on line 1, UTF-8, no title or total rows. For that shape this module streams the file
through polars' streaming engine straight into parquet parts of bounded size, producing the same
RAW FRAME rows (same fields, same ``_source_row`` numbers) as the general reader. Anything else
(legacy bytes, title or footer rows, unknown or duplicate headers) returns None, and the caller
uses the general reader, which explains what it finds.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sources.csvtext import sniff_separator
from sources.errors import SourceFileError
from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN
from sources.filecheck import (
    MAX_CELL_CHARS,
    MAX_FILE_BYTES,
    head_bytes,
    open_regular,
    sniff_kind,
)
from sources.files import ExportLayout
from sources.layout import label_key
from sources.pull import Redact

_BOM = b"\xef\xbb\xbf"
STAGING_ROW_GROUP_ROWS = 50_000  # rows a staged part's parquet row group holds
# Staged parts live minutes: lz4 rather than polars' default zstd costs 11 % less CPU to stage
# a 1M-dossier CSV (5.9 → 5.2 s) and 27 % less to read the parts back, for 69 MB instead of 47.
STAGING_COMPRESSION = "lz4"
_FOOTER_STARTS = ("tổng số", "tổng cộng", "người lập")


@dataclass(frozen=True)
class StreamedCsv:
    """Parquet parts of a streamed CSV and how many data rows they hold."""

    parts: list[Path]
    rows: int
    layout: ExportLayout
    fields_seen: list[str]


def _header_labels(head: bytes, sep: str) -> list[str] | None:
    """The first record's labels, or None when the head is not UTF-8."""
    text = head.removeprefix(_BOM)
    cut = text.rfind(b"\n")
    try:
        decoded = (text[: cut + 1] if cut >= 0 else text).decode("utf-8")
    except UnicodeDecodeError:
        return None
    rows = csv.reader(io.StringIO(decoded, newline=""), delimiter=sep)
    return next(rows, None)


def _has_footer(path: Path, max_bytes: int) -> bool:
    """True when the last lines look like a total row or a signature block."""
    with open_regular(path, max_bytes) as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 8192))
        tail = fh.read().decode("utf-8", errors="replace")
    lines = [line.strip().strip('",;').strip().casefold() for line in tail.splitlines()[-12:]]
    return any(line.startswith(_FOOTER_STARTS) for line in lines if line)


def _field_map(labels: list[str], layout: ExportLayout) -> dict[str, str] | None:
    """Raw field -> CSV column, or None when a label is unknown, repeated or required ones miss."""
    table = layout.header_table
    fields: dict[str, str] = {}
    if len(set(labels)) != len(labels):
        return None
    for label in labels:
        key = label_key(label)
        if key not in table:
            return None
        field = table[key]
        if field is not None:
            if field in fields:
                return None
            fields[field] = label
    return fields if all(f in fields for f in layout.fields.required) else None


def _check_cell_lengths(path: Path, parts: list[Path], fields: dict[str, str]) -> None:
    """SourceFileError naming row and column of the first value past MAX_CELL_CHARS."""
    frame = pl.scan_parquet(parts, glob=False)
    names = [f for f in fields if f in frame.collect_schema().names()]
    if not names:
        return
    # A value holds at least as many bytes as characters, and a byte length is read off the
    # offsets while a character count decodes every value (2.0 against 3.3 CPU s at 8M rows):
    # characters are counted only in a column with a value of more bytes than the limit.
    most_bytes = frame.select(pl.col(names).str.len_bytes().max()).collect().row(0)
    names = [n for n, b in zip(names, most_bytes, strict=True) if b is not None and b > MAX_CELL_CHARS]
    if not names:
        return
    longest = frame.select(pl.col(names).str.len_chars().max()).collect().row(0)
    for name, n in zip(names, longest, strict=True):
        if n is not None and n > MAX_CELL_CHARS:
            row = (frame.filter(pl.col(name).str.len_chars() > MAX_CELL_CHARS)
                   .select(SOURCE_ROW_COLUMN).head(1).collect().item())
            for part in parts:
                part.unlink(missing_ok=True)
            raise SourceFileError(
                path, row, fields[name], f"cell holds {n:,} characters, more than the "
                f"{MAX_CELL_CHARS:,} Excel allows (MAX_CELL_CHARS): not a plain export",
            )


def stage_plain_csv(
    path: Path, out_dir: Path, rows_per_part: int, layouts: Sequence[ExportLayout],
    redact: Callable[[ExportLayout], Redact | None] = lambda _: None,
    max_bytes: int = MAX_FILE_BYTES,
) -> StreamedCsv | None:
    """Stream a plain CSV export of one of ``layouts`` into parquet parts under ``out_dir``;
    None if it is not plain (or is none of them). ``redact(layout)`` may drop fields before
    anything is written (it must work on a LazyFrame). ``max_bytes``: the largest file taken
    (streaming keeps memory flat whatever the size, so it may exceed the general reader's
    MAX_FILE_BYTES, which then still refuses a larger file that is not plain)."""
    # SourceFileError for a FIFO, a device, a file past the size limit
    head = head_bytes(path, max_bytes=max_bytes)
    if not head.removeprefix(_BOM) or b"\x00" in head or sniff_kind(head):
        return None  # empty, UTF-16 or binary, a workbook: the general reader explains
    if b"\r" in head and b"\n" not in head:
        return None  # CR-only line ends: polars would see one line
    sep = sniff_separator(head)
    labels = _header_labels(head, sep)
    matched = [(lay, _field_map(labels, lay)) for lay in layouts] if labels else []
    matched = [(lay, f) for lay, f in matched if f is not None]
    if not matched or _has_footer(path, max_bytes):
        return None
    layout, fields = matched[0]
    raw_fields = layout.fields.raw_fields
    blank = pl.all_horizontal(pl.col(f).is_null() for f in fields)
    frame = (
        pl.scan_csv(path, has_header=True, infer_schema=False, separator=sep, encoding="utf8",
                    raise_if_empty=False, glob=False)  # the named file, never a pattern
        .with_row_index("_row", offset=2)  # the header is row 1, as a spreadsheet shows it
        .select(
            *(pl.col(fields[f]).alias(f) if f in fields else pl.lit(None, pl.String).alias(f)
              for f in raw_fields),
            pl.lit(str(path), pl.String).alias(SOURCE_COLUMN),
            pl.col("_row").cast(pl.Int64).alias(SOURCE_ROW_COLUMN),
        )
        .filter(~blank)
    )
    if (dropper := redact(layout)) is not None:
        frame = dropper(frame)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        frame.sink_parquet(
            pl.PartitionBy(out_dir, max_rows_per_file=rows_per_part, approximate_bytes_per_file=None),
            mkdir=True,
            # the sink holds a row group per file in memory: polars' default (≈ 512k rows)
            # raised staging's peak by 460 MiB at 1M dossiers, 50k rows by 190 MiB, as fast
            row_group_size=STAGING_ROW_GROUP_ROWS,
            compression=STAGING_COMPRESSION,
        )
    except pl.exceptions.PolarsError:  # e.g. invalid UTF-8 further down: the general reader decodes it
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        return None
    parts = sorted(out_dir.rglob("*.parquet"))
    rows = pl.scan_parquet(parts, glob=False).select(pl.len()).collect().item() if parts else 0
    if parts:
        _check_cell_lengths(path, parts, fields)
    return StreamedCsv(parts=parts, rows=rows, layout=layout, fields_seen=sorted(fields))
