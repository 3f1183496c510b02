"""Vietnamese text in the legacy font encodings TCVN3 (ABC) and VNI-Windows, back to Unicode.

Before Unicode, Vietnamese offices typed into fonts whose glyphs sit on the code points of an
8-bit Windows code page (docs/source-systems.md §6). An XLSX or CSV cell written in such a font holds the
characters those bytes mean in cp1252, so Vietnamese reads as mojibake:

* **TCVN3** (TCVN 5712:1993, table VN3, fonts ``.VnTime``/``.VnArial``): one byte per letter.
  The precomposed lower-case letters and the seven capitals Ă Â Ê Ô Ơ Ư Đ have their own bytes;
  capitals *with a tone* have none, so documents set them in the ``.VnTimeH`` font, which draws
  the lower-case bytes as capitals. The font is not in the cell text, so case is restored by
  context (see :func:`decode_tcvn3`). "hép møt tÕt" is "hộp mứt tết".
* **VNI-Windows** (fonts ``VNI-Times``...): a base letter followed by a mark character, except
  for i (its toned forms are single bytes), ỵ, ơ, ư and đ. "Xin chaøo caùc baïn" is
  "Xin chào các bạn".

The tables below are written as one row per vowel with its six tone forms, in the order
(no tone, huyền, hỏi, ngã, sắc, nặng), which is how both code charts are laid out; every row
is checked by the round-trip tests (encode then decode gives the text back).

Detecting the encoding is a judgement. Ordinary Unicode Vietnamese almost always contains a
letter that cp1252 cannot represent (ă, đ, ơ, ư or one of U+1EA0–U+1EF9), and legacy text never
does, so such a cell is Unicode. A cell made only of Latin-1 characters is legacy when it holds
characters that Vietnamese never uses (``µ ¸ ¹ « ¬ ® ø ï ...``) or impossible spellings
(``tÕt``, ``caùc``), and decoding it yields well-formed Vietnamese syllables. Cells that are
well-formed either way ("hép" is a possible spelling) are left alone by :func:`detect`;
:func:`repair_frame` converts them only inside a column (or frame) already shown to be legacy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from transforms.text import few_distinct
from transforms.vietnamese_spelling import (  # noqa: F401 (VIET_LATIN1, badness: public here too)
    RESIDUE,
    VIET_LATIN1,
    badness,
    vowel_count,
    words,
)

Encoding = Literal["tcvn3", "vni"]

# ---------------------------------------------------------------------------------- tables

# Unicode vowels and their six tone forms: none, huyền (grave), hỏi (hook), ngã (tilde),
# sắc (acute), nặng (dot below).
_VOWELS: dict[str, str] = {
    "a": "aàảãáạ",
    "ă": "ăằẳẵắặ",
    "â": "âầẩẫấậ",
    "e": "eèẻẽéẹ",
    "ê": "êềểễếệ",
    "i": "iìỉĩíị",
    "o": "oòỏõóọ",
    "ô": "ôồổỗốộ",
    "ơ": "ơờởỡớợ",
    "u": "uùủũúụ",
    "ư": "ưừửữứự",
    "y": "yỳỷỹýỵ",
}

# TCVN3 (VN3), byte read as cp1252, same row layout. Bytes A1-FF of cp1252 equal Latin-1, so
# each character below is chr(byte). Plain a e i o u y are ASCII.
_TCVN3_ROWS: dict[str, str] = {
    "a": "aµ¶·¸¹",  # B5 B6 B7 B8 B9
    "ă": "¨»¼½¾Æ",  # A8 BB BC BD BE C6
    "â": "©ÇÈÉÊË",  # A9 C7 C8 C9 CA CB
    "e": "eÌÎÏÐÑ",  # CC CE CF D0 D1
    "ê": "ªÒÓÔÕÖ",  # AA D2 D3 D4 D5 D6
    "i": "i×ØÜÝÞ",  # D7 D8 DC DD DE
    "o": "oßáâãä",  # DF E1 E2 E3 E4
    "ô": "«åæçèé",  # AB E5 E6 E7 E8 E9
    "ơ": "¬êëìíî",  # AC EA EB EC ED EE
    "u": "uïñòóô",  # EF F1 F2 F3 F4
    "ư": "\xadõö÷øù",  # AD (soft hyphen) F5 F6 F7 F8 F9
    "y": "yúûüýþ",  # FA FB FC FD FE
}
_TCVN3_D = "®"  # AE đ
# The only capitals VN3 has: A1-A7.
_TCVN3_CAPITALS: dict[str, str] = {
    "Ă": "¡",
    "Â": "¢",
    "Ê": "£",
    "Ô": "¤",
    "Ơ": "¥",
    "Ư": "¦",
    "Đ": "§",
}

# VNI-Windows, lower case, same row layout. Upper case is the .upper() of each sequence
# (the mark characters have upper-case twins at the matching cp1252 positions).
_VNI_ROWS: dict[str, tuple[str, ...]] = {
    "a": ("a", "aø", "aû", "aõ", "aù", "aï"),
    "ă": ("aê", "aè", "aú", "aü", "aé", "aë"),
    "â": ("aâ", "aà", "aå", "aã", "aá", "aä"),
    "e": ("e", "eø", "eû", "eõ", "eù", "eï"),
    "ê": ("eâ", "eà", "eå", "eã", "eá", "eä"),
    "i": ("i", "ì", "æ", "ó", "í", "ò"),
    "o": ("o", "oø", "oû", "oõ", "où", "oï"),
    "ô": ("oâ", "oà", "oå", "oã", "oá", "oä"),
    "ơ": ("ô", "ôø", "ôû", "ôõ", "ôù", "ôï"),
    "u": ("u", "uø", "uû", "uõ", "uù", "uï"),
    "ư": ("ö", "öø", "öû", "öõ", "öù", "öï"),
    "y": ("y", "yø", "yû", "yõ", "yù", "î"),
}
_VNI_D = "ñ"  # đ; Đ is Ñ


def _build() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    """Encoding and decoding maps for both encodings, from the rows above."""
    enc_t: dict[str, str] = {}
    dec_t: dict[str, str] = {}
    enc_v: dict[str, str] = {}
    dec_v: dict[str, str] = {}
    for base, forms in _VOWELS.items():
        for uni, t, v in zip(forms, _TCVN3_ROWS[base], _VNI_ROWS[base], strict=True):
            # TCVN3 has no capitals with a tone: they share the lower-case byte (.VnTimeH).
            enc_t[uni] = t
            enc_t.setdefault(uni.upper(), t if not t.isascii() else t.upper())
            if not t.isascii():
                dec_t[t] = uni
            enc_v[uni], enc_v[uni.upper()] = v, v.upper()
            if not v.isascii():
                # A mark always has the case of its letter ("aù", "AÙ"): reading "yÕ" as ỹ
                # would turn TCVN3 "QuyÕt" (Quyết) into "Quỹt".
                dec_v[v], dec_v[v.upper()] = uni, uni.upper()
    for cap, t in _TCVN3_CAPITALS.items():
        enc_t[cap] = t
        dec_t[t] = cap
    enc_t["đ"] = _TCVN3_D
    dec_t[_TCVN3_D] = "đ"
    enc_v["đ"], enc_v["Đ"] = _VNI_D, _VNI_D.upper()
    dec_v[_VNI_D], dec_v[_VNI_D.upper()] = "đ", "Đ"
    return enc_t, dec_t, enc_v, dec_v


_ENC_TCVN3, _DEC_TCVN3, _ENC_VNI, _DEC_VNI = _build()
_DEC_TCVN3_TABLE = str.maketrans(_DEC_TCVN3)
# Longest sequences first: "ôù" (ớ) must win over "ô" (ơ) followed by a stray mark.
_VNI_RE = re.compile("|".join(re.escape(k) for k in sorted(_DEC_VNI, key=len, reverse=True)))

# Letters that only Unicode Vietnamese has: cp1252 cannot hold them, so legacy text never does.
VIET_SPECIFIC = "ĂăĐđĨĩŨũƠơƯư" + "".join(chr(c) for c in range(0x1EA0, 0x1EFA))
# Bytes of toned letters: their capitals have no VN3 code, so their case is unknown.
_TCVN3_CASELESS = frozenset(t for row in _TCVN3_ROWS.values() for t in row[1:] if not t.isascii())


def _cls(chars: str) -> str:
    return "[" + "".join(re.escape(c) for c in chars) + "]"


# Evidence of legacy text inside words: a character Vietnamese never uses next to a letter,
# a TCVN3 capital inside a lower-case word ("tÕt"), a VNI letter + mark pair ("caùc").
# ("oà", "oá", "oã" are left out: Unicode spells hoà, hoá that way in the old tone placement.)
_EVIDENCE = "|".join(
    [
        r"[A-Za-z]" + _cls(RESIDUE),
        _cls(RESIDUE) + r"[A-Za-z]",
        r"[a-z]" + _cls("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ"),
        r"[aeiouyAEIOUY][ùÙõÕ]|[aeAE][âÂáÁàÀãÃ]|[oO][âÂ]|[aA][êÊéÉèÈúÚ]",
    ]
)
# Polars (Rust regex) patterns for the cheap pre-filter of repair_frame.
_PL_UNICODE_VIET = _cls("ĂăĐđĨĩŨũƠơƯư") + r"|[\x{1EA0}-\x{1EF9}\x{300}-\x{36F}]"
_PL_STRONG = _cls(RESIDUE) + "|" + _EVIDENCE

# ---------------------------------------------------------------------------------- encode


def encode_tcvn3(text: str) -> str:
    """Unicode → TCVN3 as the cp1252 characters an XLSX cell in ``.VnTime`` would hold.

    Capitals with a tone have no VN3 byte and take the lower-case one (what a typist gets with
    the ``.VnTimeH`` font); characters outside Vietnamese pass through unchanged.
    """
    return "".join(_ENC_TCVN3.get(c, c) for c in unicodedata.normalize("NFC", text))


def encode_vni(text: str) -> str:
    """Unicode → VNI-Windows as cp1252 characters (base letter + mark)."""
    return "".join(_ENC_VNI.get(c, c) for c in unicodedata.normalize("NFC", text))


# ---------------------------------------------------------------------------------- decode

_WORD = re.compile(r"\S+")
_ASCII_UPPER = re.compile(r"[A-Z]")
_ASCII_LOWER = re.compile(r"[a-z]")


def decode_tcvn3(text: str) -> str:
    """TCVN3 (cp1252 characters) → Unicode NFC, restoring capitals lost to ``.VnTimeH``.

    Case is guessed from the ASCII letters around, because a capital with a tone was typed as
    its lower-case byte in another font that the cell text does not record:
    * a cell whose ASCII letters are all capitals (at least two) is an all-caps heading;
    * a word whose ASCII letters are all capitals (at least two) is an all-caps word;
    * a word that starts with a toned letter and has no ASCII capital is capitalised when it
      opens the cell (sentence case: "¸p dông" → "Áp dụng") or when the other words are in
      title case, at least two of them (names: "NguyÔn ThÞ ¸nh" → "Nguyễn Thị Ánh").
    A capital inside lower-case text ("xã Ấp"), or in a two-word name, cannot be told from a
    small letter: VN3 simply has no code for it.
    """
    ascii_upper = len(_ASCII_UPPER.findall(text))
    if ascii_upper >= 2 and not _ASCII_LOWER.search(text):
        return unicodedata.normalize("NFC", text.translate(_DEC_TCVN3_TABLE).upper())
    spans: list[tuple[int, int, str, bool]] = []  # start, end, decoded word, case unknown
    for match in _WORD.finditer(text):
        raw = match.group()
        word = raw.translate(_DEC_TCVN3_TABLE)
        ups, lows = len(_ASCII_UPPER.findall(raw)), len(_ASCII_LOWER.findall(raw))
        if ups >= 2 and lows == 0:
            word = word.upper()
        unknown = raw[0] in _TCVN3_CASELESS and ups == 0
        spans.append((match.start(), match.end(), word, unknown))
    known = [w[:1].isupper() for _, _, w, u in spans if not u and w[:1].isalpha()]
    title_case = len(known) >= 2 and all(known)  # one capital word is not yet a pattern
    out: list[str] = []
    pos = 0
    for i, (start, end, word, unknown) in enumerate(spans):
        if unknown and (i == 0 or title_case):
            word = word[0].upper() + word[1:]
        out.append(text[pos:start])
        out.append(word)
        pos = end
    out.append(text[pos:])
    return unicodedata.normalize("NFC", "".join(out))


def decode_vni(text: str) -> str:
    """VNI-Windows (cp1252 characters) → Unicode NFC."""
    return unicodedata.normalize("NFC", _VNI_RE.sub(lambda m: _DEC_VNI[m.group()], text))


_DECODERS = {"tcvn3": decode_tcvn3, "vni": decode_vni}


def decode(text: str, encoding: Encoding) -> str:
    """Convert ``text`` from the named legacy encoding to Unicode NFC."""
    return _DECODERS[encoding](text)


# ---------------------------------------------------------------------------------- detect

_SPECIFIC_SET = frozenset(VIET_SPECIFIC)
_IN_WORD = re.compile(_EVIDENCE)


def _is_unicode_vietnamese(text: str) -> bool:
    return any(c in _SPECIFIC_SET or "\u0300" <= c <= "\u036f" for c in text)


def _assess(text: str | None) -> tuple[Encoding | None, bool]:
    """The likeliest legacy encoding of ``text`` and whether the other one is clearly worse."""
    if not text or text.isascii() or _is_unicode_vietnamese(text):
        return None, False
    before = badness(text)
    if before == 0:
        return None, False
    scored: list[tuple[tuple[int, int], Encoding]] = []
    for enc in ("tcvn3", "vni"):
        out = _DECODERS[enc](text)
        if out == text or not (_is_unicode_vietnamese(out) or _IN_WORD.search(text)):
            continue
        after = badness(out)
        if after < before:
            scored.append(((after, vowel_count(out)), enc))  # type: ignore[arg-type]
    if not scored:
        return None, False
    scored.sort(key=lambda x: x[0])  # stable: TCVN3 first on a full tie
    (bad, _), enc = scored[0]
    tokens = words(text)
    if max(len(t) for t in tokens) < 2:
        return None, False  # a lone symbol ("½", "§") is not a word in any encoding
    # Mostly well-formed after decoding: at most a quarter of the words still odd (names of
    # places in minority languages are not all in the syllable table).
    if bad * 4 > len(tokens):
        return None, False
    clear = len(scored) == 1 or scored[1][0][0] > bad
    return enc, clear


def detect(text: str | None) -> Encoding | None:
    """``"tcvn3"``, ``"vni"`` or None (Unicode, ASCII, or not confidently legacy).

    Legacy only when the text is Latin-1 letters that are *not* well-formed Vietnamese, and
    decoding makes it (mostly) well-formed Vietnamese. The decoded text must also contain a
    letter only Unicode has, or the converted characters must sit inside words: a stray "×"
    between digits in ordinary text is not TCVN3 for "ì".

    Most letters of each encoding are letters of the other one too, so a short text can read
    well both ways. Then the reading with fewer vowel letters wins (VNI "cuûa" is "của", not
    TCVN3 "cuỷa"), and on a full tie TCVN3, the national standard most government files use
    (VNI "Tö" is read "Tử", not "Tư"). :func:`repair_frame` does better: it reads such cells in
    the encoding the rest of the column or file is clearly in.
    """
    return _assess(text)[0]


def repair(text: str | None) -> str | None:
    """``text`` converted to Unicode NFC when :func:`detect` finds a legacy encoding."""
    enc = detect(text)
    return text if enc is None or text is None else decode(text, enc)


# ---------------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class RepairNote:
    """Cells of one column converted from one legacy encoding."""

    column: str
    encoding: Encoding
    cells: int

    def __str__(self) -> str:
        return (
            f"{self.column}: {self.cells} cell(s) converted from {self.encoding.upper()} to Unicode"
        )


def repair_frame(df: pl.DataFrame, columns: Iterable[str]) -> tuple[pl.DataFrame, list[RepairNote]]:
    """Detect legacy-encoded cells in ``columns`` and convert them; report what was converted.

    One export file is written in one encoding, and short cells are ambiguous ("Cã" reads as
    Unicode, "Tö" as TCVN3 "Tử" or VNI "Tư"). So the decision is made per column first: a
    column is *legacy* in an encoding when the cells that read clearly better in it than in
    the other outnumber the rest nine to one, and the recognised cells make up at least a fifth
    of its non-ASCII cells. A column without any clear cell follows the frame, when the
    frame's legacy columns agree. Inside a legacy column every Latin-1 cell is read in the
    column's encoding when that gives well-formed Vietnamese ("Cã" → "Có" next to "Kh«ng" →
    "Không"); elsewhere only the cells :func:`detect` recognises are converted. Cells with
    letters only Unicode has, or with combining marks (NFD), are never touched, and the
    thresholds keep a rare false detection in a Unicode column from dragging the whole column
    through the converter.

    Cost on clean Unicode data is two vectorised scans of the non-ASCII cells per column;
    Python only sees the distinct suspicious values (and, in legacy columns, the Latin-1 ones).
    """
    names = [c for c in columns if c in df.columns and df.schema[c] == pl.String]
    scans = {name: scan for name in names if (scan := _scan(df[name])) is not None}
    established = [sc.legacy for sc in scans.values() if sc.legacy is not None]
    frame_enc = _dominant({"tcvn3": established.count("tcvn3"), "vni": established.count("vni")})

    notes: list[RepairNote] = []
    updates: list[pl.Series] = []
    for name, scan in scans.items():
        column_enc = scan.legacy if scan.clear_votes else frame_enc
        mapping: dict[str, tuple[Encoding, str]] = {}
        for value in scan.counts:
            result = _convert(value, scan.verdicts.get(value), column_enc)
            if result is not None:
                mapping[value] = result
        if not mapping:
            continue
        old = list(mapping)
        new = pl.Series([mapping[v][1] for v in old], dtype=pl.String)
        updates.append(df[name].replace(pl.Series(old, dtype=pl.String), new))
        for enc in ("tcvn3", "vni"):
            n = sum(scan.counts[v] for v, (e, _) in mapping.items() if e == enc)
            if n:
                notes.append(RepairNote(name, enc, n))  # type: ignore[arg-type]
    return (df.with_columns(updates) if updates else df), notes


def _convert(
    value: str, verdict: tuple[Encoding | None, bool] | None, column_enc: Encoding | None
) -> tuple[Encoding, str] | None:
    """(encoding, Unicode text) for one Latin-1 cell, or None to leave it as it is.

    In a legacy column the column's encoding is used when it yields well-formed text (or, for
    a cell recognised on its own, at least as well-formed as the cell's own reading); a cell
    recognised clearly in the other encoding keeps its own reading.
    """
    own, clear = verdict if verdict is not None else (None, False)
    if column_enc is not None and not (own is not None and own != column_enc and clear):
        out = _DECODERS[column_enc](value)
        limit = badness(_DECODERS[own](value)) if own is not None else 0
        if out != value and badness(out) <= limit:
            return column_enc, out
    if own is not None:
        return own, _DECODERS[own](value)
    return None


@dataclass
class _Scan:
    """What the vectorised pre-filter and :func:`_assess` found in one column."""

    counts: dict[str, int]  # distinct Latin-1-only non-ASCII value -> rows
    verdicts: dict[str, tuple[Encoding | None, bool]]  # suspicious value -> (encoding, clear)
    clear_votes: int
    legacy: Encoding | None


def _scan(s: pl.Series) -> _Scan | None:
    if few_distinct(s):  # labels, offices: work on the distinct values with their counts
        counted = s.value_counts()
        values, ns = counted[:, 0], counted[:, 1]
        non_ascii = (values.str.len_bytes() != values.str.len_chars()).fill_null(False)
        n_non_ascii = int(ns.filter(non_ascii).sum())
        plain = non_ascii & ~values.str.contains(_PL_UNICODE_VIET).fill_null(True)
        values, ns = values.filter(plain), ns.filter(plain)
    else:
        non_ascii = (s.str.len_bytes() != s.str.len_chars()).fill_null(False)
        n_non_ascii = int(non_ascii.sum())
        if not n_non_ascii:
            return None
        sub = s.filter(non_ascii)
        counted = sub.filter(~sub.str.contains(_PL_UNICODE_VIET).fill_null(True)).value_counts()
        values, ns = counted[:, 0], counted[:, 1]
    if values.is_empty():
        return None
    counts = dict(zip(values.to_list(), ns.to_list(), strict=True))
    strong = values.filter(values.str.contains(_PL_STRONG)).to_list()
    verdicts: dict[str, tuple[Encoding | None, bool]] = {v: _assess(v) for v in strong}
    votes = {"tcvn3": 0, "vni": 0}
    hits = 0
    for value, (enc, clear) in verdicts.items():
        if enc is not None:
            hits += counts[value]
            if clear:
                votes[enc] += counts[value]
    legacy = _dominant(votes) if hits * 5 >= n_non_ascii else None
    return _Scan(counts, verdicts, sum(votes.values()), legacy)


def _dominant(votes: dict[str, int]) -> Encoding | None:
    """The encoding with at least nine votes in ten, if any vote was cast."""
    total = sum(votes.values())
    for enc, n in votes.items():
        if total and n * 10 >= total * 9:
            return enc  # type: ignore[return-value]
    return None
