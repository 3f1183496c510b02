"""Coded fields: the API's codes and the export's Vietnamese labels, mapped to one code.

The pull API sends codes ("4", "CongDan", "RatHaiLong", "true"); file exports send the labels
of the report screens ("Đang xử lý", "Công dân", "Rất hài lòng", "Có"; docs/source-systems.md §4–5).
Both are accepted, matched on a key that is NFC, case-folded, trimmed and single-spaced, with
the tone of oa/oe/uy placed one way (the old "hoá" and the new "hóa" are the same word: the
export's "Chưa số hóa" may be typed "Chưa số hoá"). A label still in TCVN3 or VNI, should the
text repair have missed it, matches too: each label's legacy spellings are in the maps.
Anything else is null, and validation quotes the raw value.

The code tables are declared by the source: the one-stop ones in ``sources.onestop.vocabulary``
(imported here to build ``STATUS``, ``CHANNEL`` …), the e-document ones in
``sources.eoffice.vocabulary`` (maps built in ``transforms.eoffice_documents``). This module
holds the matching machinery (``label_key``, ``build_map``, ``map_labels``) and the yes/no
spellings every source shares (``BOOLEAN_LABELS``).

Maps are applied to the distinct values of a column only, so a million rows with ten
distinct labels cost ten lookups and one join.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import polars as pl

from sources.onestop.vocabulary import (
    APPLICANT_LABELS,
    CHANNEL_LABELS,
    DIGITISATION_LABELS,
    RATING_LABELS,
    SERVICE_LEVEL_LABELS,
    STATUS_LABELS,
)
from transforms.distinct import map_distinct
from transforms.legacy_text import encode_tcvn3, encode_vni

BOOLEAN_LABELS: dict[bool, tuple[str, ...]] = {
    True: ("true", "1", "Có", "yes", "y", "t", "x"),
    False: ("false", "0", "Không", "no", "n", "f"),
}

# Old tone placement → new on the open syllables oa, oe, uy ("hoá" → "hóa"): keys only.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_OLD_TONE = re.compile(rf"([ou])([aey])([{_TONES}])(?![a-z])")


def label_key(text: str) -> str:
    """Matching key: NFC, case-folded, single-spaced, trimmed, one tone placement."""
    s = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    s = _OLD_TONE.sub(r"\1\3\2", unicodedata.normalize("NFD", s))
    return unicodedata.normalize("NFC", s)


def _numeric_text(value: str) -> str:
    """'4.0' → '4': an integer code that went through a float (a spreadsheet number cell)."""
    m = re.fullmatch(r"\s*(\d+)\.0*\s*", value)
    return m.group(1) if m else value


def build_map(
    labels: Mapping[Any, tuple[str, ...]], *, codes_as_text: bool = True
) -> dict[str, Any]:
    """key → code for every code (as text), label, and legacy spelling of a label."""
    out: dict[str, Any] = {}
    for code, names in labels.items():
        spellings = list(names)
        if codes_as_text and not isinstance(code, bool):
            spellings.append(str(code))
        for name in names:
            spellings += [encode_tcvn3(name), encode_vni(name)]
        for spelling in spellings:
            out.setdefault(label_key(spelling), code)
    return out


STATUS = build_map(STATUS_LABELS)
CHANNEL = build_map(CHANNEL_LABELS)
SERVICE_LEVEL = build_map(SERVICE_LEVEL_LABELS)
APPLICANT = build_map(APPLICANT_LABELS)
DIGITISATION = build_map(DIGITISATION_LABELS)
BOOLEAN = build_map(BOOLEAN_LABELS)
RATING = build_map(RATING_LABELS)


def map_labels(s: pl.Series, mapping: Mapping[str, Any], dtype: pl.DataType) -> pl.Series:
    """Codes for a column of codes or labels; unknown values and nulls → null."""

    def lookup(values: pl.Series) -> pl.Series:
        codes = [mapping.get(label_key(_numeric_text(v))) for v in values.to_list()]
        return pl.Series(codes, dtype=dtype)

    return map_distinct(s.cast(pl.String), lookup, dtype)


def status(s: pl.Series) -> pl.Series:
    """TrangThaiHoSo → 1..10 (Int8)."""
    return map_labels(s, STATUS, pl.Int8)


def channel(s: pl.Series) -> pl.Series:
    """KenhThucHien → 1 counter, 2 online, 3 postal (Int8)."""
    return map_labels(s, CHANNEL, pl.Int8)


def service_level(s: pl.Series) -> pl.Series:
    """MucDo → 2, 3, 4 (Int8)."""
    return map_labels(s, SERVICE_LEVEL, pl.Int8)


def applicant_type(s: pl.Series) -> pl.Series:
    """LoaiDoiTuong → CongDan, DoanhNghiep, ToChuc."""
    return map_labels(s, APPLICANT, pl.String)


def digitisation(s: pl.Series) -> pl.Series:
    """TrangThaiSoHoa → 0..3 (Int8)."""
    return map_labels(s, DIGITISATION, pl.Int8)


def boolean(s: pl.Series) -> pl.Series:
    """true/false, 1/0, Có/Không → Boolean."""
    return map_labels(s, BOOLEAN, pl.Boolean)


def rating(s: pl.Series) -> pl.Series:
    """DanhGia → RatHaiLong, HaiLong, KhongHaiLong."""
    return map_labels(s, RATING, pl.String)
