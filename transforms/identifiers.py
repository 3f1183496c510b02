"""Identifiers (codes, unit identifiers, numbers) in one canonical spelling.

A dossier code or document id is the key the core tables merge on: two spellings of one code
are two dossiers, counted twice in form 06. Exports and hand-edited sheets spell codes in ways
that look identical to a clerk: a NUL or zero-width space (U+200B–U+200D, U+2060, U+FEFF, the
soft hyphen) copied from a web page, a hyphen look-alike typed by a word processor (U+2010–U+2015,
U+2212 minus, U+FE63, U+FF0D), a non-breaking or thin space, fullwidth letters and digits from an
East Asian input method, lower case. :func:`canonical_codes` gives every such spelling one form:

1. control and format characters (Unicode categories Cc, Cf) removed;
2. NFKC (fullwidth ``ＡＢ１`` → ``AB1``, compatibility spaces → a space; precomposed Vietnamese
   letters are unchanged, so a notation ``45/QĐ-UBND`` keeps its ``Đ``);
3. dash look-alikes → ``-``;
4. every whitespace character removed (a code has no spaces; leading/trailing ones were always
   trimmed);
5. upper case where the code is case-insensitive (dossier codes, document ids, unit identifiers
   like ``000.00.12.H21``).

An empty result is null. The raw layer keeps the text as it came and ``row_hash`` is computed
from it before any of this, so two spellings are two raw versions of one entity.

Cost: one vectorised scan finds the values that are not plain printable ASCII (and, for
upper-cased columns, have no lower-case letter); only those are rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

_INVISIBLE = r"[\p{Cc}\p{Cf}]"
_DASHES = r"[\x{2010}-\x{2015}\x{2212}\x{FE58}\x{FE63}\x{FF0D}]"
_SPACES = r"\s+"
# Values already canonical: printable ASCII without a space (without a-z when upper-cased).
_PLAIN = r"^[!-~]*$"
_PLAIN_UPPER = r"^[!-`{-~]*$"


@dataclass(frozen=True)
class CodeNote:
    """Values of one identifier column whose spelling was canonicalised (beyond a trim)."""

    column: str
    cells: int

    def __str__(self) -> str:
        return (
            f"{self.column}: {self.cells} code(s) canonicalised (invisible characters, "
            "compatibility forms, dash look-alikes, spaces or letter case)"
        )


def canonical_code_expr(expr: pl.Expr, *, upper: bool) -> pl.Expr:
    """The canonical form of an identifier text expression (see the module docstring)."""
    out = (
        expr.str.replace_all(_INVISIBLE, "")
        .str.normalize("NFKC")
        .str.replace_all(_DASHES, "-")
        .str.replace_all(_SPACES, "")
    )
    if upper:
        out = out.str.to_uppercase()
    return pl.when(out == "").then(None).otherwise(out)


def canonical_codes(s: pl.Series, *, upper: bool) -> tuple[pl.Series, int]:
    """``s`` in canonical form, and how many values changed beyond a trim (and NFC).

    The count is what the load's note reports: trimming and NFC were always done, so only the
    values this canonicalisation newly changed are counted.
    """
    text = s.cast(pl.String)
    trimmed = pl.select(
        pl.when(text.str.strip_chars() == "").then(None).otherwise(text.str.strip_chars())
    ).to_series()
    suspect = ~trimmed.str.contains(_PLAIN_UPPER if upper else _PLAIN).fill_null(True)
    if not suspect.any():
        return trimmed.alias(s.name), 0
    idx = suspect.arg_true()
    before = trimmed.gather(idx).to_frame("x")
    done = before.select(
        canonical_code_expr(pl.col("x"), upper=upper).alias("new"),
        pl.col("x").str.normalize("NFC").alias("old"),
    )
    changed = int((~done["new"].eq_missing(done["old"])).sum())
    return trimmed.scatter(idx, done["new"]).alias(s.name), changed


def canonical_frame(
    df: pl.DataFrame, columns: dict[str, bool]
) -> tuple[pl.DataFrame, list[CodeNote]]:
    """Canonicalise ``columns`` (name → upper-case?) of ``df``; one note per changed column."""
    notes: list[CodeNote] = []
    out = []
    for name, upper in columns.items():
        col, changed = canonical_codes(df[name], upper=upper)
        out.append(col)
        if changed:
            notes.append(CodeNote(name, changed))
    return df.with_columns(out), notes
