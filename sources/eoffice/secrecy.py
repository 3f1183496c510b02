"""Withhold what a secret document must not bring in, before anything of cchc stores it.

Documents marked Mật / Tối mật / Tuyệt mật never leave the source in full (docs/source-systems.md §8):
their summary, issuing body, signer and linked dossier are withheld. A value that arrives
anyway is a leak at the source; cchc drops it at the door: :func:`withhold_secret_fields`
runs on the raw frame (or inside the lazy plan that stages a file) before the raw layer,
staging, quarantine, reasons or logs can see it, and records only the *names* of the fields it
dropped in ``_withheld`` (the raw layer's ``withheld`` column), never their values.

Fail closed: only a row recognisably "Thuong" (the API code, or the labels "Thường",
"Không mật", "Bình thường" in any case, NFC or NFD, extra spaces, or still in TCVN3 / VNI)
keeps those fields. A null, empty, unknown or misspelt secrecy counts as secret: losing the
summary of an ordinary document costs a warning, publishing a secret one cannot be undone.

Pure polars expressions, no Python per row: it works on a ``DataFrame`` and inside a lazy
(streaming) ``LazyFrame`` plan alike.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from sources.eoffice.fields import SECRET_WITHHELD_FIELDS
from sources.eoffice.vocabulary import SECRECY_LABELS
from transforms.legacy_text import encode_tcvn3, encode_vni

WITHHELD_COLUMN = "_withheld"
SECRECY_FIELD = "DoMat"
NOT_SECRET_CODE = "Thuong"

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def secrecy_key_expr(expr: pl.Expr) -> pl.Expr:
    """Matching key of a secrecy value: NFC, lower case, whitespace runs → one space, trimmed."""
    return (
        expr.cast(pl.String)
        .str.normalize("NFC")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _spellings(text: str) -> set[str]:
    """The text in the case styles a clerk types, each as Unicode, TCVN3 and VNI."""
    out: set[str] = set()
    for variant in {text, text.lower(), text.upper(), text.title(), text.capitalize()}:
        out |= {variant, encode_tcvn3(variant), encode_vni(variant)}
    return out


def _not_secret_keys() -> frozenset[str]:
    spellings = {NOT_SECRET_CODE}
    for label in SECRECY_LABELS[NOT_SECRET_CODE]:
        spellings |= _spellings(label)
    # Keys computed by the very expression applied to the data, so both sides fold alike.
    keys = pl.select(secrecy_key_expr(pl.Series(sorted(spellings), dtype=pl.String))).to_series()
    return frozenset(k for k in keys.to_list() if k)


# Folded spellings of "not secret" (precomputed once).
NOT_SECRET_KEYS: frozenset[str] = _not_secret_keys()


def is_not_secret_expr(expr: pl.Expr) -> pl.Expr:
    """True only where the secrecy value is recognisably "Thuong"; null and unknown → False."""
    return secrecy_key_expr(expr).is_in(sorted(NOT_SECRET_KEYS)).fill_null(False)


def _non_empty(expr: pl.Expr) -> pl.Expr:
    return (expr.cast(pl.String).str.strip_chars().str.len_chars() > 0).fill_null(False)


def withhold_secret_fields(frame: FrameT) -> FrameT:
    """``frame`` with the withheld fields nulled on every row that is not recognisably "Thuong".

    Works on a ``pl.DataFrame`` or a ``pl.LazyFrame`` (returns the same kind) whose raw fields
    are text. For each such row the fields of ``SECRET_WITHHELD_FIELDS`` present in the frame
    become null, and ``_withheld`` (String) lists, comma-separated in the declared order, the
    fields that held a non-empty value (null when none). An existing ``_withheld`` is kept
    and extended, so applying this twice changes nothing. A frame without ``DoMat`` is all
    secret (fail closed).
    """
    names = frame.collect_schema().names()
    secrecy = pl.col(SECRECY_FIELD) if SECRECY_FIELD in names else pl.lit(None, dtype=pl.String)
    secret = ~is_not_secret_expr(secrecy)
    fields = [f for f in SECRET_WITHHELD_FIELDS if f in names]

    dropped = [pl.when(secret & _non_empty(pl.col(f))).then(pl.lit(f)) for f in fields]
    if WITHHELD_COLUMN in names:  # extend an earlier note without repeating a name
        previous = pl.col(WITHHELD_COLUMN).cast(pl.String)
        listed = (
            pl.concat_str([previous, *dropped], separator=",", ignore_nulls=True)
            .str.split(",")
            .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""))
            .list.unique(maintain_order=True)
            .list.join(",")
        )
    else:
        listed = pl.concat_str(dropped, separator=",", ignore_nulls=True) if dropped else pl.lit("")
    withheld = pl.when(listed != "").then(listed).otherwise(pl.lit(None, dtype=pl.String))
    return frame.with_columns(
        withheld.alias(WITHHELD_COLUMN),
        *(
            pl.when(secret)
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col(f).cast(pl.String))
            .alias(f)
            for f in fields
        ),
    )
