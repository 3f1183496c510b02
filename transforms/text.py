"""Text hygiene: Unicode NFC, whitespace, and folded keys for matching names.

Exports carry the same Vietnamese name composed (NFC) in one file and decomposed (NFD) in the
next, with stray double spaces, tabs and non-breaking spaces from spreadsheet cells. Nothing may
compare text before it is NFC with single spaces (docs/source-systems.md §6). Names of units are matched on a
*folded key* instead of the text itself, because spellings of the same place differ in case,
diacritics and spacing ("Ia RSươm", "IaRsươm", "Ia Rsuom"; docs/figures.md §2).

Normalising is the costliest string operation polars has (≈ 0.6 s per million cells on these
machines), so the frame-level helpers only normalise the cells that need it: a cell made of
characters from ranges that NFC never changes (ASCII, Latin-1, Latin Extended, the precomposed
Vietnamese letters of U+1E00–U+1EFF, general punctuation) is already NFC.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import polars as pl

# A cell containing anything outside these ranges may change under NFC (combining marks,
# compatibility singletons such as U+2126 OHM SIGN, Hangul jamo, ...): normalise it.
# U+2000/U+2001 are singletons (they normalise to U+2002/U+2003), hence the range starts at 2002.
_MAYBE_NOT_NFC = r"[^\x00-\x{2FF}\x{1E00}-\x{1EFF}\x{2002}-\x{206F}\x{20A0}-\x{20CF}]"
# Whitespace other than a single ASCII space between words: runs, tabs, newlines, NBSP, ...
_ODD_SPACE = r"\s\s|[^\S ]|^\s|\s$"


def clean_text_expr(expr: pl.Expr) -> pl.Expr:
    """NFC, every whitespace run collapsed to one space, trimmed; an empty result is null.

    The plain expression form, for lazy queries and small frames; :func:`clean_text_series`
    gives the same result faster on large columns.
    """
    out = expr.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(out == "").then(None).otherwise(out)


def clean_text_series(s: pl.Series, *, collapse: bool = True) -> pl.Series:
    """:func:`clean_text_expr` for one column, touching only the cells that need it.

    ``collapse=False`` only trims (codes, identifiers, dates: their parsers do not care about
    inner spaces and a trim is 10× cheaper than finding whitespace runs). A column with few
    distinct values (names of procedures, offices, labels) is cleaned once per value.
    """
    if s.dtype != pl.String:
        return s
    if few_distinct(s):
        distinct = s.drop_nulls().unique()
        cleaned = _clean_rows(distinct, collapse)
        return s.replace_strict(distinct, cleaned, default=None, return_dtype=pl.String)
    return _clean_rows(s, collapse)


def few_distinct(s: pl.Series, sample: int = 10_000, limit: int = 1_000) -> bool:
    """Whether a long column repeats a small set of values (judged on its first rows)."""
    return len(s) > 4 * sample and s.head(sample).n_unique() < limit


def _clean_rows(s: pl.Series, collapse: bool) -> pl.Series:
    out = s.clone()  # Series.scatter works in place: never touch the caller's column
    non_ascii = out.str.len_bytes() != out.str.len_chars()
    if non_ascii.any():
        todo = non_ascii & out.str.contains(_MAYBE_NOT_NFC).fill_null(False)
        if todo.any():
            idx = todo.arg_true()
            out = out.scatter(idx, out.gather(idx).str.normalize("NFC"))
    if collapse:
        odd = out.str.contains(_ODD_SPACE).fill_null(False)
        if odd.any():
            idx = odd.arg_true()
            out = out.scatter(idx, out.gather(idx).str.replace_all(r"\s+", " ").str.strip_chars())
    else:
        out = out.str.strip_chars()
    return pl.select(pl.when(out == "").then(None).otherwise(out)).to_series().alias(s.name)


def clean_text_frame(
    df: pl.DataFrame, columns: Iterable[str] | None = None, *, collapse: bool = True
) -> pl.DataFrame:
    """Apply :func:`clean_text_series` to ``columns`` (default: every String column)."""
    names = [c for c in (columns or df.columns) if df.schema[c] == pl.String]
    return df.with_columns(clean_text_series(df[c], collapse=collapse) for c in names)


def fold_key(text: str) -> str:
    """Matching key of a name: NFC, case-folded, diacritics removed, đ→d, only letters and digits.

    ``đ`` is a letter of its own (U+0111), not d with a mark: NFD leaves it alone, so it is
    mapped by hand. "Ia RSươm", "IaRsươm" and "ia rsuom" all give ``iarsuom``.
    """
    s = unicodedata.normalize("NFC", text).casefold().replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    return "".join(c for c in s if c.isalnum() and not unicodedata.category(c).startswith("M"))


def fold_key_expr(expr: pl.Expr) -> pl.Expr:
    """The polars form of :func:`fold_key`: :func:`fold_words_expr` without the spaces."""
    return fold_words_expr(expr).str.replace_all(" ", "", literal=True)


def fold_words(text: str) -> str:
    """Like :func:`fold_key` but keeps word boundaries as single spaces (for prefix stripping)."""
    s = unicodedata.normalize("NFC", text).casefold().replace("đ", "d")
    s = unicodedata.normalize("NFD", s)
    s = "".join(c if c.isalnum() else " " for c in s if not unicodedata.category(c).startswith("M"))
    return " ".join(s.split())


def fold_words_expr(expr: pl.Expr) -> pl.Expr:
    """The polars form of :func:`fold_words`."""
    return (
        expr.str.normalize("NFC")
        .str.to_lowercase()
        .str.replace_all("đ", "d", literal=True)
        .str.normalize("NFD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )
