"""A stable hash of a raw dossier record: same field values, same hash, in any process.

The hash identifies exact duplicates within an input, is the key of the raw-versions table and
breaks ties in the core merge (docs/architecture.md), so it must never change for the same
content: not across processes (Python's ``hash`` is salted), not across polars versions
(``Expr.hash`` is documented as unstable). It is BLAKE2b (128-bit digest, 32 hex characters)
of a canonical serialisation of the raw values, computed before any repair.

Serialisation ("cchc-row-v1"): the fields in the given order, joined by U+001F (unit
separator), a null written as U+0000. Raw text practically never holds those control
characters or a backslash; a value that does is escaped (backslash doubled, the two controls
written as the six characters ``\\u001f`` and ``\\u0000``), so the serialisation stays
one-to-one: null, "" and "\\x00" remain three different values. Whether a value is escaped
depends on that value alone, never on the rest of the batch, so a row hashes the same in
every batch.

Cost (2-core machine, 25 raw fields, ≈ 440 bytes a row of the scale scenario): ≈ 1.4 s CPU per
million rows to build the serialisation (polars string concatenation) and ≈ 1 s for BLAKE2b,
one call per row: hashlib has no batch API. See the report in docs for a faster,
dependency-bound alternative.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b

import polars as pl

from sources.onestop.fields import RAW_FIELDS

SEPARATOR = "\x1f"
NULL = "\x00"
DIGEST_BYTES = 16
HASH_ROWS = 32_768  # rows serialised at a time (bounds the memory of the Python bytes)
_SPECIAL = r"[\\\x00\x1f]"  # backslash, NUL, unit separator


def _needs_escape(raw: pl.DataFrame, names: Sequence[str]) -> set[str]:
    """Columns with at least one value that needs escaping (one scan for all columns)."""
    if not names:
        return set()
    found = raw.select(
        pl.col(n).cast(pl.String).str.contains(_SPECIAL).any().alias(n) for n in names
    ).row(0)
    return {n for n, hit in zip(names, found, strict=True) if hit}


def _escaped(col: pl.Expr) -> pl.Expr:
    """The value escaped when it holds a special character, else unchanged."""
    escaped = (
        col.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all(SEPARATOR, "\\u001f", literal=True)
        .str.replace_all(NULL, "\\u0000", literal=True)
    )
    return pl.when(col.str.contains(_SPECIAL)).then(escaped).otherwise(col)


def serialise(raw: pl.DataFrame, fields: Sequence[str] = RAW_FIELDS) -> pl.Series:
    """The canonical text that :func:`row_hash` hashes, one per row (absent field: null)."""
    escape = _needs_escape(raw, [f for f in fields if f in raw.columns])
    exprs = []
    for f in fields:
        if f not in raw.columns:
            exprs.append(pl.lit(NULL, dtype=pl.String))
            continue
        col = pl.col(f).cast(pl.String)
        exprs.append((_escaped(col) if f in escape else col).fill_null(NULL))
    return raw.select(pl.concat_str(exprs, separator=SEPARATOR).alias("row")).to_series()


_EMPTY = blake2b(digest_size=DIGEST_BYTES)


def _digest(data: bytes) -> bytes:
    """BLAKE2b-128 of ``data``: continued from a copy of an empty hash object, which skips
    parsing the parameters again for every row (0.97 against 1.12 µs a 440-byte row)."""
    h = _EMPTY.copy()
    h.update(data)
    return h.digest()


def row_hash(raw: pl.DataFrame, fields: Sequence[str] = RAW_FIELDS) -> pl.Series:
    """32 hex characters per row: BLAKE2b-128 of the row's serialised raw values.

    Serialised and hashed ``HASH_ROWS`` rows at a time: the serialisation as Python bytes costs
    about a kilobyte a row, and a whole 250k-row part at once raised the load's peak memory by
    a third of a gigabyte."""
    if raw.height == 0:
        return pl.Series("row_hash", [], dtype=pl.String)
    digests: list[bytes] = []
    for offset in range(0, raw.height, HASH_ROWS):
        data = serialise(raw.slice(offset, HASH_ROWS), fields).cast(pl.Binary).to_list()
        digests.extend(map(_digest, data))
        del data
    return pl.Series("row_hash", digests, dtype=pl.Binary).bin.encode("hex")
