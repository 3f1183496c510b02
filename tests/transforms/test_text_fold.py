"""NFC / whitespace cleaning and the folded keys that match unit names."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transforms_samples import UNIT_VARIANTS, WORDS, nfd

from transforms.text import (
    clean_text_expr,
    clean_text_frame,
    clean_text_series,
    fold_key,
    fold_key_expr,
    fold_words,
    fold_words_expr,
)
from transforms.units import name_key_expr


def test_fold_key_examples() -> None:
    assert fold_key("Ia RSươm") == fold_key("IaRsươm") == fold_key("ia rsuom") == "iarsuom"
    assert fold_key("Ia Mláh") == fold_key("Ia Mlah") == fold_key("Ia Mlăh") == "iamlah"
    assert fold_key("Đất Bằng") == "datbang"
    assert fold_key(nfd("Chư Rcăm")) == fold_key("Chư R-Căm") == "churcam"
    assert fold_words("UBND xã Ia-RSươm, huyện Krông Pa") == "ubnd xa ia rsuom huyen krong pa"


@pytest.mark.parametrize("code", sorted(UNIT_VARIANTS))
def test_spelling_variants_of_a_unit_share_one_key(code: str) -> None:
    """docs/figures.md §2: every spelling of a unit folds to the same key once office and type
    words are removed (Hdreh/Dreh differ by a letter: that pair is an alias in the seed)."""
    variants = [v for v in UNIT_VARIANTS[code] if "Dreh" not in v or "Hdreh" in v or "HDreh" in v]
    keys = pl.DataFrame({"v": variants}).select(name_key_expr(pl.col("v"))).to_series()
    assert keys.n_unique() == 1, dict(zip(variants, keys.to_list(), strict=True))


vietnamese = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(vietnamese, st.booleans(), st.booleans())
def test_expression_and_python_folding_agree(text: str, upper: bool, decomposed: bool) -> None:
    text = text.upper() if upper else text
    text = nfd(text) if decomposed else text
    frame = pl.DataFrame({"t": [text]})
    assert frame.select(fold_key_expr(pl.col("t"))).item() == fold_key(text)
    assert frame.select(fold_words_expr(pl.col("t"))).item() == fold_words(text)


def test_clean_text_series_nfc_whitespace_and_empty() -> None:
    s = pl.Series("x", ["  Nguyễn   Văn\tA ", nfd("Lê Thị Bé"), "", "   ", None, "ok", "x\u00a0y"])
    out = clean_text_series(s)
    assert out.to_list() == ["Nguyễn Văn A", "Lê Thị Bé", None, None, None, "ok", "x y"]
    assert out[1] == "Lê Thị Bé" and len(out[1]) == len("Lê Thị Bé")  # composed
    assert s[1] == nfd("Lê Thị Bé")  # the input column is not modified
    expr = pl.DataFrame({"x": s}).select(clean_text_expr(pl.col("x"))).to_series()
    assert expr.to_list() == out.to_list()


def test_clean_text_trim_only_keeps_inner_spaces() -> None:
    s = pl.Series("x", ["  a  b ", nfd("Đà")])
    assert clean_text_series(s, collapse=False).to_list() == ["a  b", "Đà"]


def test_clean_text_frame_touches_only_strings() -> None:
    df = pl.DataFrame({"a": [" x "], "n": [1]})
    assert clean_text_frame(df).to_dicts() == [{"a": "x", "n": 1}]
