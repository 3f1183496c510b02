"""The displayed text of numeric cells whose number format pads digits (``0.000000``, ``000000000000``).

A clerk who types the procedure code 1.001230 into Excel gets the number 1.00123; if the column is
formatted ``0.000000`` Excel still *shows* 1.001230, and an identity number typed as a number and
formatted ``000000000000`` shows its leading zero. calamine returns the stored number only, so
this module reads the styles and recovers the displayed text of those cells. It costs one scan
of the sheet XML, and only when the workbook has such a format at all (dates and General cells
never trigger it). A format is applied only when it is lossless (the text parses back to the
same number): ``0`` on 1.00123 would show "1", and the stored value is more useful than that.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree as ET

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_BUILTIN = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00"}
_FIXED = re.compile(r"^([#0,]*0[#0,]*|)(?:\.(0+))?$")
_CHUNK = 16 << 20


@dataclass(frozen=True)
class FixedFormat:
    """A digits-only number format: minimum integer digits, decimals, thousands separator."""

    min_int: int
    decimals: int
    thousands: bool

    def render(self, value: float) -> str | None:
        """The text Excel shows, or None when it would not parse back to ``value``."""
        text = format(abs(value), f"{',' if self.thousands else ''}.{self.decimals}f")
        whole = text.split(".")[0].replace(",", "")
        if len(whole) < self.min_int:
            text = "0" * (self.min_int - len(whole)) + text
        if value < 0:
            text = "-" + text
        return text if float(text.replace(",", "")) == value else None


def parse_fixed_format(code: str) -> FixedFormat | None:
    """FixedFormat for codes like ``0.000``, ``#,##0.00``, ``000000``; None for anything else."""
    m = _FIXED.match(code.split(";")[0].strip())
    if not m or "0" not in code.split(";")[0]:
        return None
    int_part, decimals = m.group(1), len(m.group(2) or "")
    fmt = FixedFormat(int_part.count("0"), decimals, "," in int_part)
    # Formats that show an integer exactly as General does are not worth a scan.
    return fmt if fmt.decimals or fmt.min_int > 1 or fmt.thousands else None


def _styles(zf: zipfile.ZipFile) -> dict[int, FixedFormat]:
    """Cell style index (the ``s`` attribute) -> its fixed format, for the styles that have one."""
    try:
        root = ET.fromstring(zf.read("xl/styles.xml"))
    except KeyError:
        return {}
    codes = dict(_BUILTIN)
    for nf in root.iterfind("m:numFmts/m:numFmt", _NS):
        codes[int(nf.get("numFmtId", "-1"))] = nf.get("formatCode", "")
    out: dict[int, FixedFormat] = {}
    for index, xf in enumerate(root.iterfind("m:cellXfs/m:xf", _NS)):
        code = codes.get(int(xf.get("numFmtId", "0")))
        fmt = parse_fixed_format(code) if code else None
        if fmt:
            out[index] = fmt
    return out


def _sheet_path(zf: zipfile.ZipFile, index: int) -> str | None:
    """Zip member of the ``index``-th sheet in workbook order (the order calamine uses)."""
    book = ET.fromstring(zf.read("xl/workbook.xml"))
    sheets = book.findall("m:sheets/m:sheet", _NS)
    if index >= len(sheets):
        return None
    rid = sheets[index].get(f"{{{_NS['r']}}}id")
    rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iterfind("p:Relationship", _NS):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    return None


def _cells(zf: zipfile.ZipFile, member: str, styles: str) -> Iterator[tuple[str, int, str, str]]:
    """(column letters, row, style, stored value) of numeric cells in the given styles, streamed."""
    pattern = re.compile(
        rb'<c r="([A-Z]+)([0-9]+)" s="(' + styles.encode() + rb')"(?: t="n")?>'
        rb"(?:<f>[^<]*</f>|<f[^>]*/>)?<v>([^<]+)</v>"
    )
    tail = b""
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            buf = tail + chunk
            cut = buf.rfind(b"</row>") + len(b"</row>")
            if cut < len(b"</row>"):
                tail = buf
                continue
            buf, tail = buf[:cut], buf[cut:]
            for m in pattern.finditer(buf):
                yield m[1].decode(), int(m[2]), m[3].decode(), m[4].decode()
        for m in pattern.finditer(tail):
            yield m[1].decode(), int(m[2]), m[3].decode(), m[4].decode()


def displayed_numbers(path: str, sheet_index: int = 0) -> dict[str, dict[int, str]]:
    """Column letters -> {row number: displayed text} for padded-format numeric cells.

    Empty when the workbook has no such format (the common case: one small XML parse).
    Anything unexpected in the package just yields fewer overrides, never an error: the
    calamine value is still a correct reading of the cell.
    """
    out: dict[str, dict[int, str]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            styles = _styles(zf)
            member = _sheet_path(zf, sheet_index) if styles else None
            if not member:
                return out
            alternatives = "|".join(str(s) for s in sorted(styles))
            for col, row, style, raw in _cells(zf, member, alternatives):
                try:
                    text = styles[int(style)].render(float(raw))
                except ValueError:
                    continue
                if text is not None:
                    out.setdefault(col, {})[row] = text
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError):
        return {}
    return out
