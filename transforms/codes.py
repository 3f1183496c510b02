"""National procedure codes (MaTTHC): the comparable ``d.dddddd`` part of whatever arrived.

The national database numbers procedures ``d.dddddd`` (``1.001234``). Provinces append local
suffixes (``1.001234.000.00.00.H21``, ``1.012784.H21``), and any reader that guesses types reads
the bare code as a decimal number, dropping trailing zeros (``1.001230`` → ``1.00123``, 3.9 % of
codes in one measured export; docs/source-systems.md §2) or printing float noise (``1.0012300000000001``) or,
in a Vietnamese-locale sheet, a decimal comma (``1,00123``). The raw value is kept as it came
(``procedure_code_raw``); the normalised value restores what the number lost and drops the
suffix. Anything else is null, and validation quotes the raw value.
"""

from __future__ import annotations

import polars as pl

_MICRO = 1_000_000


def procedure_code_expr(expr: pl.Expr) -> pl.Expr:
    """Normalised ``d.dddddd`` code of a raw MaTTHC text expression, or null.

    * ``1.001234``, ``1.001234.000.00.00.H21``, ``1.012784.H21`` → the first 8 characters;
      a suffix must follow exactly six digits (a text code with a suffix never went through
      a number, so it cannot have lost digits);
    * a bare number with fewer than six decimals lost trailing zeros: pad them back
      (``1.00123`` → ``1.001230``, ``2.0006`` → ``2.000600``, ``1`` → ``1.000000``);
    * a bare number with more is float noise: round to six decimals when the noise is
      below 1e-9 (``1.0012300000000001`` → ``1.001230``);
    * a decimal comma reads as a point (``1,00123``).
    """
    s = expr.str.strip_chars().str.replace(r"^(\d),(\d+)$", "${1}.${2}")
    with_suffix = s.str.extract(r"^(\d\.\d{6})[.\s\-_/]", 1)
    parts = s.str.extract_groups(r"^(\d)(?:\.(\d*))?$")
    whole, decimals = parts.struct.field("1"), parts.struct.field("2").fill_null("")
    padded = pl.concat_str(whole, pl.lit("."), decimals.str.pad_end(6, "0"))
    value = s.cast(pl.Float64, strict=False)
    micros = (value * _MICRO).round(0)
    near = ((value * _MICRO) - micros).abs() < 1e-3  # 1e-9 of a unit, in micro-units
    rounded = pl.concat_str(
        (micros // _MICRO).cast(pl.Int64).cast(pl.String),
        pl.lit("."),
        (micros % _MICRO).cast(pl.Int64).cast(pl.String).str.zfill(6),
    )
    bare = (
        pl.when(whole.is_null())
        .then(None)
        .when(decimals.str.len_chars() <= 6)
        .then(padded)
        .when(near)
        .then(rounded)
    )
    return pl.coalesce(with_suffix, bare)


def normalise_procedure_code(raw: str | None) -> str | None:
    """:func:`procedure_code_expr` for one value (tests, ad-hoc use)."""
    frame = pl.DataFrame({"c": [raw]}, schema={"c": pl.String})
    return frame.select(procedure_code_expr(pl.col("c"))).item()
