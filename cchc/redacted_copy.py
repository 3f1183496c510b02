"""What cchc keeps of a processed inbox file: a copy without identity numbers.

A clerk's export holds applicants' identity numbers (and phone numbers) in clear. The inbox file
is the clerk's own; once it is processed, cchc keeps under ``data/archive`` or ``data/rejected``
a **redacted copy** under the same name and deletes the original, so no identity number stays in
``data/`` (docs/security.md, "Identity numbers"). The copy replaces every run of 9 to 12 digits
— an identity number (CMND 9, CCCD 12, or 10–11 after a spreadsheet dropped its leading zeros)
or a phone number — by its keyed hash (``sources.idhash.scrub_bytes``), so a copy loaded again
gives the same applicant hashes; everything else is byte for byte the original's.

- a workbook (a zip): the shared strings and the sheets are scrubbed, the other members copied;
  a member that would expand past the reader's limits (``sources.filecheck``) is emptied
  rather than expanded;
- anything else (CSV, an unreadable file): its bytes are scrubbed in 8 MiB blocks, so a file of
  any size costs flat memory.

A symbolic link is moved as a link (its target is never read); the caller decides that.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

from sources.filecheck import (
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    RATIO_FLOOR_BYTES,
)
from sources.idhash import scrub_bytes

BLOCK = 8 << 20
# Zip members that hold cell values: the shared strings and the sheets.
_VALUE_MEMBERS = re.compile(r"^xl/(?:sharedStrings\.xml|worksheets/[^/]+\.xml)$", re.IGNORECASE)
_TOKEN_BYTES = b"0123456789."  # a token is made of these; any other byte ends it
_MAX_CARRY = 64 << 20


def write_redacted_copy(source: Path, target: Path, key: bytes) -> Path:
    """Write ``source`` without identity numbers to ``target`` (atomically) and return it."""
    tmp = target.with_name(target.name + ".redacting")
    try:
        if zipfile.is_zipfile(source):
            try:
                _copy_zip(source, tmp, key)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
                _copy_bytes(source, tmp, key)
        else:
            _copy_bytes(source, tmp, key)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _copy_bytes(source: Path, target: Path, key: bytes) -> None:
    """Scrub a byte stream block by block. Each block is written up to its trailing run of
    digits and dots, which goes on with the next block: no token is split between blocks."""
    carry = b""
    with source.open("rb") as src, target.open("wb") as out:
        while block := src.read(BLOCK):
            data = carry + block
            end = len(data.rstrip(_TOKEN_BYTES))
            if end == 0 and len(data) < _MAX_CARRY:
                carry = data
                continue
            end = end or len(data)
            out.write(scrub_bytes(data[:end], key))
            carry = data[end:]
        out.write(scrub_bytes(carry, key))


def _copy_zip(source: Path, target: Path, key: bytes) -> None:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        total = 0
        for info in zin.infolist():
            total += info.file_size
            too_big = total > MAX_UNCOMPRESSED_BYTES or (
                info.file_size > RATIO_FLOOR_BYTES
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1))
            data = b"" if too_big else zin.read(info)
            if _VALUE_MEMBERS.match(info.filename):
                data = scrub_bytes(data, key)
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
