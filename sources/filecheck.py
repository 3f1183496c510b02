"""What a file may cost before it is read: refuse anything that is not a plain file of bounded size.

An export comes from a clerk's desk or an inbox folder anyone can write to, so a reader must
never trust it to be small, finite or honest:

- a FIFO, a device (``/dev/zero``) or a symbolic link to one would make ``open`` block or a read
  never end: only regular files are read (:func:`check_regular`, :func:`open_regular`);
- an XLSX is a zip: its members may expand a thousandfold (a zip bomb, one 300 MiB cell in a
  316 KB file), and calamine allocates a sheet's full rectangle, so one cell at ``XFD1048576``
  asks for 17 billion cells. :func:`inspect_workbook` bounds the package from its zip directory
  and :func:`scan_sheet` streams the sheet XML once (bounded chunks, numpy over the bytes) for
  the cells' real extent, over-long texts and formulas without a computed value, before
  calamine sees the sheet.

Every limit is a module constant (documented in sources/README.md); a file past one is a
:class:`SourceFileError` whose message names the limit.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import unescape

import numpy as np

from sources.errors import SourceFileError

MAX_FILE_BYTES = 1 << 30  # 1 GiB: any export file, CSV or workbook
MAX_UNCOMPRESSED_BYTES = 2 << 30  # 2 GiB: the zip members of a workbook together, expanded
MAX_COMPRESSION_RATIO = 100  # expanded / compressed size of one zip member ...
RATIO_FLOOR_BYTES = 1 << 20  # ... checked for members expanding past 1 MiB (tiny ones vary a lot)
MAX_SHEET_ROWS = 1_048_576  # Excel's own grid
MAX_SHEET_COLUMNS = 1_024  # exports have ~25 columns; Excel allows 16,384
MAX_SHEET_CELLS = 30_000_000  # rows x columns calamine will allocate (~1 GB of cells)
MAX_CELL_CHARS = 32_767  # Excel's own limit for the text of one cell

_CHUNK = 8 << 20
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RNS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PNS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (BIFF in an OLE2 container)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path: Path, max_bytes: int = MAX_FILE_BYTES) -> os.stat_result:
    """The file's stat; SourceFileError unless it is a regular file (a symbolic link to one is
    fine) of at most ``max_bytes`` (MAX_FILE_BYTES unless the caller streams the file: a plain
    CSV's limit is the ``[ingest] max_csv_mb`` setting). Never opens the file."""
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
        st = os.stat(path)
    except FileNotFoundError:
        raise SourceFileError(path, None, None, "no such file") from None
    except OSError as exc:
        raise SourceFileError(path, None, None, f"cannot access file ({exc.strerror})") from None
    _check_stat(path, st, link, max_bytes)
    return st


def _check_stat(path: Path, st: os.stat_result, link: bool, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        behind = " behind a symbolic link" if link else ""
        raise SourceFileError(
            path, None, None,
            f"{_kind(st.st_mode)}{behind}, not a regular file: only exported XLSX/CSV files can be "
            "ingested",
        )
    if st.st_size > max_bytes:
        limit = "MAX_FILE_BYTES" if max_bytes == MAX_FILE_BYTES else "[ingest] max_csv_mb"
        raise SourceFileError(
            path, None, None,
            f"file is {_mib(st.st_size)}, more than the {_mib(max_bytes)} limit "
            f"({limit}): split the export by period",
        )


def open_regular(path: Path, max_bytes: int = MAX_FILE_BYTES):
    """Open for binary reading without ever blocking on a FIFO, then check what was opened
    (race-free: the check is on the open descriptor)."""
    check_regular(path, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise SourceFileError(path, None, None, f"cannot open file ({exc.strerror})") from None
    try:
        _check_stat(path, os.fstat(fd), False, max_bytes)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def head_bytes(path: Path, n: int = 64 << 10, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    with open_regular(path, max_bytes) as fh:
        return fh.read(n)


# --------------------------------------------------------------------------- workbooks


@dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # "visible", "hidden", "veryHidden"
    member: str | None  # zip member of its XML


@dataclass(frozen=True)
class Workbook:
    sheets: list[SheetInfo]
    full_calc_on_load: bool  # cached formula values are not to be trusted


@dataclass
class SheetScan:
    """What one streamed pass over a sheet's XML found."""

    max_row: int = 0
    max_col: int = 0  # 1-based
    declared: str | None = None  # <dimension ref=...>
    formulas: list[tuple[int, int, bool]] = field(default_factory=list)  # (row, col 1-based, has value)


def inspect_workbook(path: Path) -> Workbook:
    """The sheets of an XLSX and their visibility, after bounding the package from its zip
    directory (no member is expanded but the small workbook part)."""
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip(path, zf)
            return _workbook(zf)
    except zipfile.BadZipFile:
        raise SourceFileError(
            path, None, None,
            "cannot read workbook: not a readable XLSX package (damaged or truncated zip): export "
            "the file again",
        ) from None
    except (KeyError, ET.ParseError):
        raise SourceFileError(
            path, None, None, "cannot read workbook: no valid xl/workbook.xml in the package: export the "
            "file again",
        ) from None


def check_zip(path: Path, zf: zipfile.ZipFile) -> None:
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SourceFileError(
            path, None, None,
            f"workbook expands to {_mib(total)}, more than the {_mib(MAX_UNCOMPRESSED_BYTES)} limit "
            "(MAX_UNCOMPRESSED_BYTES): split the export by period",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise SourceFileError(
                path, None, None,
                f"zip member '{info.filename[:80]}' expands {ratio:,.0f}-fold "
                f"({_mib(info.file_size)}), more than the {MAX_COMPRESSION_RATIO}-fold limit "
                "(MAX_COMPRESSION_RATIO): not a plain export; export the file again",
            )


def _workbook(zf: zipfile.ZipFile) -> Workbook:
    book = ET.fromstring(zf.read("xl/workbook.xml"))
    try:
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PNS}Relationship")}
    except KeyError:
        targets = {}
    sheets = []
    for el in book.iter(f"{_NS}sheet"):
        target = targets.get(el.get(f"{_RNS}id"))
        member = None
        if target:
            member = target.lstrip("/") if target.startswith("/") else "xl/" + target
            member = os.path.normpath(member).replace(os.sep, "/")
        sheets.append(SheetInfo(el.get("name", "?"), el.get("state", "visible"), member))
    calc = book.find(f"{_NS}calcPr")
    full = calc is not None and calc.get("fullCalcOnLoad", "0").lower() in ("1", "true")
    return Workbook(sheets, full)


_DIMENSION = re.compile(rb'<dimension\s+ref\s*=\s*["\']([A-Z]*\d*(?::[A-Z]*\d*)?)["\']')
_REF = re.compile(rb'r\s*=\s*["\']([A-Z]+)(\d+)["\']')


def letters_index(letters: str) -> int:
    """1-based column number of Excel letters: A -> 1, XFD -> 16384."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def ref(row: int, col: int) -> str:
    return f"{_letters(col)}{row}"


def scan_sheet(path: Path, sheet: SheetInfo) -> SheetScan:
    """One streamed pass over the sheet XML: the cells' true extent, texts over MAX_CELL_CHARS,
    formula cells and whether they hold a value. SourceFileError past a limit."""
    scan = SheetScan()
    try:
        with zipfile.ZipFile(path) as zf:
            if sheet.member is None or sheet.member not in zf.NameToInfo:
                return scan
            with zf.open(sheet.member) as fh:
                tail = b""
                first = True
                while chunk := fh.read(_CHUNK):
                    buf = tail + chunk
                    if first:
                        m = _DIMENSION.search(buf[:4096])
                        scan.declared = m[1].decode() if m else None
                        first = False
                    cut = buf.rfind(b"</c>")
                    cut = cut + 4 if cut >= 0 else buf.rfind(b">") + 1
                    if cut <= 0 and len(buf) < 16 * MAX_CELL_CHARS:
                        tail = buf
                        continue
                    if cut <= 0:
                        cut = len(buf)
                    _scan_chunk(path, buf[:cut], scan)
                    tail = buf[cut:]
                    _check_extent(path, sheet, scan)
                if tail:
                    _scan_chunk(path, tail, scan)
            _check_extent(path, sheet, scan)
            if "xl/sharedStrings.xml" in zf.NameToInfo:
                _check_shared_strings(path, zf)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise SourceFileError(
            path, None, None,
            f"sheet '{sheet.name}' cannot be read from the XLSX package (damaged or truncated "
            "zip): export the file again",
        ) from None
    return scan


def _check_extent(path: Path, sheet: SheetInfo, scan: SheetScan) -> None:
    rows, cols = scan.max_row, scan.max_col
    where = f"sheet '{sheet.name}' has a cell at {ref(rows, cols) if cols <= 16384 else '?'}"
    if rows > MAX_SHEET_ROWS:
        raise SourceFileError(path, None, None,
                              f"{where}: row {rows:,} is past the {MAX_SHEET_ROWS:,}-row limit "
                              "(MAX_SHEET_ROWS)")
    if cols > MAX_SHEET_COLUMNS:
        raise SourceFileError(path, None, None,
                              f"{where}: column {cols:,} is past the {MAX_SHEET_COLUMNS:,}-column "
                              "limit (MAX_SHEET_COLUMNS); delete the stray cell or export again")
    if rows * cols > MAX_SHEET_CELLS:
        raise SourceFileError(path, None, None,
                              f"{where}: {rows:,} rows x {cols:,} columns is more than the "
                              f"{MAX_SHEET_CELLS:,}-cell limit (MAX_SHEET_CELLS); delete stray "
                              "cells or split the export")


def _scan_chunk(path: Path, buf: bytes, scan: SheetScan) -> None:
    a = np.frombuffer(buf, np.uint8)
    _refs(a, scan)
    _long_texts(path, buf, a, sheet_xml=True)
    if b"<f" in buf:
        _formulas(buf, scan)


_WIDTH = 12


def _refs(a: np.ndarray, scan: SheetScan) -> None:
    """Max row and column over every ``r="…"`` attribute (rows' and cells'), vectorised."""
    n = a.size - 4
    if n <= 0:
        return
    ws = (a[:n] == 32) | (a[:n] == 9) | (a[:n] == 10) | (a[:n] == 13)
    hit = ws & (a[1:n + 1] == ord("r")) & (a[2:n + 2] == ord("=")) & (
        (a[3:n + 3] == 34) | (a[3:n + 3] == 39))
    pos = np.flatnonzero(hit) + 4
    if not pos.size:
        return
    padded = np.concatenate([a, np.zeros(_WIDTH, np.uint8)])
    win = padded[pos[:, None] + np.arange(_WIDTH)].astype(np.int64)
    upper = (win >= 65) & (win <= 90)
    nlet = np.argmin(np.concatenate([upper, np.zeros((len(pos), 1), bool)], axis=1), axis=1)
    col = np.zeros(len(pos), np.int64)
    for j in range(4):
        col = np.where(j < nlet, col * 26 + (win[:, min(j, _WIDTH - 1)] - 64), col)
    col = np.where(nlet > 3, 1 << 40, col)  # four letters or more: past any limit
    row = np.zeros(len(pos), np.int64)
    active = np.ones(len(pos), bool)
    rows_idx = np.arange(len(pos))
    for j in range(8):
        idx = np.minimum(nlet + j, _WIDTH - 1)
        c = win[rows_idx, idx]
        digit = (c >= 48) & (c <= 57) & active
        row = np.where(digit, row * 10 + (c - 48), row)
        active &= digit
    scan.max_row = max(scan.max_row, int(row.max()))
    scan.max_col = max(scan.max_col, int(col.max()))


def _long_texts(path: Path, buf: bytes, a: np.ndarray, *, sheet_xml: bool) -> None:
    """SourceFileError if some text between two tags holds more than MAX_CELL_CHARS characters."""
    lt = np.flatnonzero(a == 60)
    bounds = np.concatenate([[-1], lt, [a.size]])
    gaps = np.diff(bounds) - 1
    for i in np.flatnonzero(gaps > MAX_CELL_CHARS):
        start, end = int(bounds[i]) + 1, int(bounds[i + 1])
        text = unescape(buf[start:end].decode("utf-8", errors="replace"),
                        {"&quot;": '"', "&apos;": "'"})
        if len(text) <= MAX_CELL_CHARS:
            continue
        where = None
        if sheet_xml:
            refs = list(_REF.finditer(buf, max(0, start - 4096), start))
            where = f"cell {refs[-1][1].decode()}{refs[-1][2].decode()}" if refs else None
        raise SourceFileError(
            path, None, None,
            f"{where or 'a cell'} holds {len(text):,} characters, more than the "
            f"{MAX_CELL_CHARS:,} Excel allows (MAX_CELL_CHARS): not a plain export",
        )


def _check_shared_strings(path: Path, zf: zipfile.ZipFile) -> None:
    with zf.open("xl/sharedStrings.xml") as fh:
        tail = b""
        while chunk := fh.read(_CHUNK):
            buf = tail + chunk
            cut = buf.rfind(b"<")
            if cut <= 0 and len(buf) < 16 * MAX_CELL_CHARS:
                tail = buf
                continue
            cut = cut if cut > 0 else len(buf)
            _long_texts(path, buf[:cut], np.frombuffer(buf[:cut], np.uint8), sheet_xml=False)
            tail = buf[cut:]
        if tail:
            _long_texts(path, tail, np.frombuffer(tail, np.uint8), sheet_xml=False)


_CELL_OPEN = re.compile(rb"<c\b[^>]*>")


def _formulas(buf: bytes, scan: SheetScan) -> None:
    """Formula cells of a chunk (whole cells: chunks end after ``</c>``) and whether each holds
    a cached value."""
    for m in re.finditer(rb"<f[\s>/]", buf):
        start = buf.rfind(b"<c", 0, m.start())
        end = buf.find(b"</c>", m.start())
        if start < 0:
            continue
        opening = _CELL_OPEN.match(buf, start)
        if not opening:
            continue
        r = _REF.search(opening[0])
        if not r:
            continue
        body = buf[m.start(): end if end >= 0 else len(buf)]
        value = re.search(rb"<v>\s*[^<\s][^<]*</v>", body) is not None
        scan.formulas.append((int(r[2]), letters_index(r[1].decode()), value))


def sniff_kind(head: bytes) -> str | None:
    """"xlsx" / "xls" by the file's signature, None for anything else."""
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "xls"
    return None
