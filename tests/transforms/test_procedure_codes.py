"""MaTTHC → d.dddddd: suffixes dropped, zeros lost to number reading restored."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.codes import normalise_procedure_code, procedure_code_expr


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1.001234", "1.001234"),
        ("1.001234.000.00.00.H21", "1.001234"),
        ("2.000635.000.00.00.H21", "2.000635"),
        ("1.012784.H21", "1.012784"),
        (" 1.012784 ", "1.012784"),
        ("1.00123", "1.001230"),
        ("2.0006", "2.000600"),
        ("1.0", "1.000000"),
        ("1.0012300000000001", "1.001230"),
        ("1,00123", "1.001230"),
        ("1.0012345", None),  # seven decimals and not float noise
        ("1.00123.H21", None),  # a text code with a suffix cannot have lost digits
        ("12.001234", None),
        ("TTHC-01", None),
        ("", None),
        (None, None),
    ],
)
def test_examples(raw: str | None, code: str | None) -> None:
    assert normalise_procedure_code(raw) == code


codes = st.builds(
    "{}.{:06d}".format,
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=0, max_value=999_999),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(codes, min_size=1, max_size=200))
def test_a_code_read_as_a_number_normalises_to_itself(batch: list[str]) -> None:
    """Whatever way a reader prints the float it made of a code, the code comes back."""
    printed = {
        "text": batch,
        "repr": [repr(float(c)) for c in batch],
        "15g": [f"{float(c):.15g}" for c in batch],
        "17g": [f"{float(c):.17g}" for c in batch],
        "comma": [repr(float(c)).replace(".", ",") for c in batch],
        "suffix": [c + ".000.00.00.H21" for c in batch],
    }
    out = pl.DataFrame(printed).select(procedure_code_expr(pl.col(k)).alias(k) for k in printed)
    for k in printed:
        assert out[k].to_list() == batch, k


def test_vectorised_over_a_column() -> None:
    df = pl.DataFrame({"c": ["1.00123", "1.012784.H21", None]})
    assert df.select(procedure_code_expr(pl.col("c"))).to_series().to_list() == [
        "1.001230",
        "1.012784",
        None,
    ]
