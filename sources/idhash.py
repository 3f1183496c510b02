"""Identity numbers kept only as keyed hashes (Decree 13/2023/NĐ-CP on personal data).

An applicant's identity number (CCCD, 12 digits; older CMND, 9 digits) is personal data that
analysts need only to *count* with: how many dossiers one applicant filed. cchc therefore keeps
no identity number at all, only ``HMAC-SHA256(key, canonical number)`` as 64 lower-case hex
digits, computed before anything is written (staged parts, raw layer, quarantine, the
personal-data file, reasons, logs, archived inbox files).

**Canonical form** (so the same person hashes the same from the API and from a spreadsheet):
NFKC, spaces, dots, dashes and slashes removed, a spreadsheet's ``.0`` or ``6.4E+11`` undone;
a number of 10 or 11 digits gets its lost leading zeros back (a CCCD starts with its 3-digit
province code, ``001`` Hà Nội … ``096``, which a number cell drops). Anything that is not then
exactly 12 digits is hashed all the same (letters upper-cased) but stored as
``irregular:<hash>``, so the shape check ("identity number is not 12 digits") still works
without the number (``transforms.onestop_dossiers``).

**The key** comes from ``CCHC_ID_HASH_KEY``; without it cchc generates one on first use in
``<data_dir>/id-hash.key`` (0600, owner only) and says so in the log. A new key makes new
hashes: repeat applicants are countable only among dossiers hashed with one key
(docs/security.md, "Identity numbers").
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import polars as pl

if TYPE_CHECKING:
    from cchc.config import Settings

log = logging.getLogger("cchc.sources.idhash")

KEY_ENV = "CCHC_ID_HASH_KEY"
KEY_FILE = "id-hash.key"
ID_DIGITS = 12
IRREGULAR_PREFIX = "irregular:"
MIN_KEY_CHARS = 16

# A value already hashed by cchc (a redacted copy loaded again): kept as it is.
HASHED = re.compile(rf"^(?:{IRREGULAR_PREFIX})?[0-9a-f]{{64}}$")
_SEPARATORS = re.compile(r"[\s.\-_/]")
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d{1,2}$")
_NUMBER_CELL = re.compile(r"^(\d+)\.0+$")
_PLAIN_NUMBER = rf"^[0-9]{{{ID_DIGITS}}}$"  # canonical already: hashed without normalising

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def key_path(settings: Settings) -> Path:
    """Where the generated key lives when ``CCHC_ID_HASH_KEY`` is not set."""
    return settings.data_dir / KEY_FILE


def id_hash_key(settings: Settings, env: dict[str, str] | None = None) -> bytes:
    """The HMAC key: ``CCHC_ID_HASH_KEY``, else the stored key, else a new one written 0600."""
    environ = os.environ if env is None else env
    given = environ.get(KEY_ENV, "").strip()
    if given:
        if len(given) < MIN_KEY_CHARS:
            raise ValueError(f"{KEY_ENV} is too short ({len(given)} characters): use at least "
                             f"{MIN_KEY_CHARS}, e.g. `openssl rand -hex 32`")
        return given.encode("utf-8")
    path = key_path(settings)
    stored = _read_key(path)
    if stored:
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return _read_key(path) or value.encode("ascii")
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    log.warning(
        "%s is not set: generated the identity-number hash key %s (0600). Back it up with the "
        "warehouse, or set %s; a new key makes new hashes, so applicants are counted across "
        "dossiers hashed with one key only", KEY_ENV, path, KEY_ENV)
    return value.encode("ascii")


def _read_key(path: Path) -> bytes | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return text.encode("ascii") if text else None


def canonical_id(value: str | None) -> str | None:
    """The form an identity number is hashed in (module docstring); None when empty."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    if _SCIENTIFIC.match(text):  # a number cell written as 6.41234567891E+11
        with contextlib.suppress(InvalidOperation, ValueError):
            text = str(int(Decimal(text)))
    if match := _NUMBER_CELL.match(text):  # a number cell written as 64123456789.0
        text = match.group(1)
    text = _SEPARATORS.sub("", text).upper()
    if text.isascii() and text.isdigit() and ID_DIGITS - 2 <= len(text) < ID_DIGITS:
        text = text.zfill(ID_DIGITS)
    return text or None


def is_regular(canonical: str) -> bool:
    """A canonical identity number of the expected shape: exactly 12 digits."""
    return len(canonical) == ID_DIGITS and canonical.isascii() and canonical.isdigit()


def hash_id(value: str | None, key: bytes) -> str | None:
    """``<hex>`` for a 12-digit number, ``irregular:<hex>`` otherwise, None when empty; a value
    already in that form is returned unchanged (hashing is idempotent)."""
    if value is not None and HASHED.match(value.strip()):
        return value.strip()
    canonical = canonical_id(value)
    if canonical is None:
        return None
    digest = hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest if is_regular(canonical) else IRREGULAR_PREFIX + digest


def applicant_key_expr(expr: pl.Expr) -> pl.Expr:
    """The hash alone (``irregular:`` dropped): what analysts count applicants by."""
    return expr.str.strip_prefix(IRREGULAR_PREFIX)


def keyed_hmac(key: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA256 with ``key`` as a function of the message, hex: ``hmac.new``'s result.

    HMAC is SHA-256 over the key XOR two pads, then the message (RFC 2104). Both padded-key
    blocks are hashed once here and each message continues from a copy of them, which halves
    the CPU of a value against ``hmac.new`` (0.63 against 1.4 µs): a bulk export has one
    distinct identity number per applicant, millions of them, hashed while staging holds the
    GIL."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(message: bytes) -> str:
        h = inner.copy()
        h.update(message)
        o = outer.copy()
        o.update(h.digest())
        return o.hexdigest()

    return mac


def _hash_series(s: pl.Series, key: bytes) -> pl.Series:
    """Hash each distinct value once, then map back (a few thousand applicants per page).

    A value of exactly 12 ASCII digits is canonical as it stands (the usual case), so it goes
    straight to the HMAC: the canonical form's normalisation and patterns cost more than the
    HMAC itself (6 µs a value against 2.5; millions of applicants in a bulk export)."""
    text = s.cast(pl.String)
    distinct = text.drop_nulls().unique()
    if distinct.is_empty():
        return pl.Series(s.name, [None] * len(s), dtype=pl.String)
    plain = distinct.str.contains(_PLAIN_NUMBER).to_list()
    mac = keyed_hmac(key)
    hashed = pl.Series([
        mac(v.encode("ascii")) if is_plain else hash_id(v, key)
        for v, is_plain in zip(distinct.to_list(), plain, strict=True)
    ], dtype=pl.String)
    return text.replace_strict(distinct, hashed, default=None, return_dtype=pl.String)


def hash_columns(frame: FrameT, columns: tuple[str, ...], key: bytes) -> FrameT:
    """``frame`` (eager or lazy) with each present column of ``columns`` replaced by its hash."""
    names = frame.collect_schema().names()
    present = [c for c in columns if c in names]
    if not present:
        return frame
    return frame.with_columns(
        pl.col(c).map_batches(lambda s: _hash_series(s, key), return_dtype=pl.String,
                             is_elementwise=True).alias(c)
        for c in present
    )


# Digit runs that may be an identity (or phone) number in a file's bytes: 9 to 12 digits, not
# part of a longer number or of a decimal fraction, with an optional ".0" of a number cell.
ID_TOKEN = re.compile(rb"(?<![\d.])(\d{9,12})(?:\.0+)?(?!\d)")


def scrub_bytes(data: bytes, key: bytes) -> bytes:
    """Every 9–12-digit run of ``data`` replaced by its keyed hash (as an identity number)."""
    cache: dict[bytes, bytes] = {}

    def replace(match: re.Match[bytes]) -> bytes:
        token = match.group(1)
        if token not in cache:
            cache[token] = (hash_id(token.decode("ascii"), key) or "").encode("ascii")
        return cache[token]

    return ID_TOKEN.sub(replace, data)
