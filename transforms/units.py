"""Which administrative unit received a dossier: statistics-office code from MaDVHC or the name.

Records carry ``MaDVHC`` (the statistics-office code) in most cases; some leave it blank and
only name the receiving office ("UBND xã Ia Rsươm", "Ủy ban nhân dân xã Ia RSươm",
"UBND huyện Krông Pa"). Names are matched on a folded key (see ``transforms.text``) after
removing the words that name the *office* rather than the place ("UBND", "Ủy ban nhân dân")
and the unit type ("xã", "thị trấn", "huyện", ...), against the official names and aliases of
``dim_admin_unit``. Every match is scoped to the installation's province and district: "Krông
Năng" is a commune of Krông Pa and also a district of Đắk Lắk, and a code or name from outside
the scope must stay unresolved rather than land on the wrong unit (docs/figures.md §2). The district's
own office resolves to the district code (637 for Krông Pa; docs/source-systems.md §4–5).

The join is always on the code; the name is only a way to find the code.

Post-2025 units (sources: the MIT-licensed ``vietnamadminunits`` 1.0.4 data, table
``admin_units``; the GSO kept one old code for each merged commune): Phú Túc 24076, Ia Dreh
24100, Uar 24109, Ia Rsai 24112, in the new Gia Lai province 52. They reuse codes of
pre-2025 units, so a unit is only identified by (code, validity); scoping by province and
district keeps the two generations apart here (the old units have district 637, the new ones
none).
"""

from __future__ import annotations

import re

import polars as pl

from transforms.distinct import map_distinct
from transforms.text import fold_words_expr

# Words naming the office, not the place, that may lead a unit name (folded form).
_OFFICE_PREFIXES = (
    "ubnd",
    "uy ban nhan dan",
    "bo phan mot cua",
    "bo phan tiep nhan va tra ket qua",
)
# Unit types (folded), full and abbreviated. Single letters ("h.", "p.") are left out: they
# would also strip the first word of names such as "H'Bông".
_TYPE_PREFIXES = (
    "thi tran",
    "thi xa",
    "thanh pho",
    "xa",
    "tt",
    "tx",
    "tp",
    "huyen",
    "phuong",
    "quan",
    "tinh",
)
_OFFICE_RE = r"^(?:(?:" + "|".join(_OFFICE_PREFIXES) + r")\s+)*"
_TYPE_RE = r"^(?:" + "|".join(_TYPE_PREFIXES) + r")\s+"
# Abbreviations and spellings of one type share one code in the key.
_TYPE_CODES = {
    "thi tran": "tt",
    "tt": "tt",
    "thi xa": "tx",
    "tx": "tx",
    "thanh pho": "tp",
    "tp": "tp",
}


def _type_expr(words: pl.Expr) -> pl.Expr:
    """The unit-type word(s) a folded name starts with, as a short code, or ""."""
    found = words.str.extract(r"^(" + "|".join(_TYPE_PREFIXES) + r")\s+", 1)
    return found.replace(_TYPE_CODES).fill_null("")


def _parts(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(type code or "", folded key of the place) of a unit name."""
    words = fold_words_expr(expr).str.replace(_OFFICE_RE, "")
    place = words.str.replace(_TYPE_RE, "").str.replace_all(" ", "", literal=True)
    return _type_expr(words), place


def name_key_expr(expr: pl.Expr) -> pl.Expr:
    """Folded key of a unit name, office and type words removed: "UBND xã Ia RSươm" → iarsuom."""
    return _parts(expr)[1]


def scope_units(units: pl.DataFrame, province_code: str, district_code: str | None) -> pl.DataFrame:
    """The units a record of this installation can belong to.

    With a district: the district itself and its communes. Without (after the 2025 reform,
    when districts are gone): the province and every unit of it.
    """
    if district_code:
        keep = (pl.col("province_code") == province_code) & (
            (pl.col("district_code") == district_code) | (pl.col("unit_code") == district_code)
        )
    else:
        keep = (pl.col("province_code") == province_code) | (pl.col("unit_code") == province_code)
    return units.filter(keep)


def _name_table(scoped: pl.DataFrame) -> pl.DataFrame:
    """(type, key) -> unit_code for the scoped units' names and aliases.

    Aliases take the type of the official name ("Ia Dreh" is a xã like "Xã Ia Hdreh"). Keys
    that two units answer to are dropped: better unresolved than guessed.
    """
    official_type, _ = _parts(pl.col("name"))
    labelled = scoped.select("unit_code", official_type.alias("type"), "name", "aliases")
    names = pl.concat(
        [
            labelled.select("unit_code", "type", pl.col("name").alias("label")),
            labelled.select("unit_code", "type", pl.col("aliases").alias("label")).explode("label"),
        ]
    ).drop_nulls("label")
    _, place = _parts(pl.col("label"))
    keys = names.select("unit_code", "type", place.alias("key")).filter(pl.col("key") != "")
    typed = keys.select("unit_code", pl.concat_str("type", pl.lit(":"), "key").alias("key"))
    untyped = keys.select("unit_code", pl.concat_str(pl.lit(":"), "key").alias("key"))
    table = pl.concat([typed, untyped]).unique()
    return table.filter(pl.col("unit_code").n_unique().over("key") == 1).unique("key")


def _suffix_re(units: pl.DataFrame, province_code: str, district_code: str | None) -> str | None:
    """Regex of trailing qualifiers: ", huyện Krông Pa", " - Krông Pa, tỉnh Gia Lai"."""
    parents = units.filter(
        pl.col("unit_code").is_in([c for c in (district_code, province_code) if c])
    )
    if parents.is_empty():
        return None
    labels = pl.concat([parents["name"], parents["aliases"].explode().drop_nulls()])
    words = labels.to_frame("label").select(fold_words_expr(pl.col("label"))).to_series()
    phrases = sorted({w for w in words.to_list() if w}, key=len, reverse=True)
    if not phrases:
        return None
    alt = "|".join(re.escape(p) for p in phrases)
    return rf"(?:\s+(?:{alt}))+$"


def resolve_units(
    df: pl.DataFrame,
    units: pl.DataFrame,
    province_code: str,
    district_code: str | None,
    *,
    code_column: str = "MaDVHC",
    name_column: str = "TenDonVi",
) -> pl.DataFrame:
    """``df`` with ``unit_code`` and ``unit_code_source`` ('code', 'name' or null) added.

    ``units`` has DIM_ADMIN_UNIT's columns (``aliases`` a list of strings). A ``MaDVHC`` that
    is a unit code in scope wins; one that has lost its leading zeros or gained a ".0" to a
    number-reading spreadsheet is restored first. Otherwise ``TenDonVi`` is tried, and a code
    that is present but unknown is then ignored in favour of the name (a validation warning
    elsewhere can compare the two). A name with a unit type must match the unit's type too:
    "thị trấn Krông Năng" is the Đắk Lắk town, not the Krông Pa commune "xã Krông Năng";
    a name without one ("Krông Năng") matches the place alone. Qualifiers naming the scope's
    district or province at the end ("..., huyện Krông Pa") are ignored. Nothing found: both
    columns null.
    """
    scoped = scope_units(units, province_code, district_code)
    # Both lookups run on the distinct values only, then map back: a million rows name a
    # few dozen offices.
    by_code = map_distinct(
        df[code_column].cast(pl.String), lambda v: _codes_of(v, scoped["unit_code"]), pl.String
    )
    by_name = map_distinct(
        df[name_column].cast(pl.String),
        lambda v: _names_of(v, scoped, units, province_code, district_code),
        pl.String,
    )
    return df.with_columns(
        by_code.fill_null(by_name).alias("unit_code"),
        pl.select(
            pl.when(by_code.is_not_null())
            .then(pl.lit("code"))
            .when(by_name.is_not_null())
            .then(pl.lit("name"))
        )
        .to_series()
        .alias("unit_code_source"),
    )


def _codes_of(values: pl.Series, codes: pl.Series) -> pl.Series:
    """The in-scope code each MaDVHC value stands for, or null."""
    raw = pl.col("v").str.strip_chars().str.replace(r"^(\d+)\.0*$", "${1}")
    known = codes.to_list()
    found = pl.coalesce(
        [
            pl.when(raw.is_in(known)).then(raw),
            *(pl.when(raw.str.zfill(w).is_in(known)).then(raw.str.zfill(w)) for w in (5, 3, 2)),
        ]
    )
    return values.to_frame("v").select(found).to_series()


def _names_of(
    values: pl.Series,
    scoped: pl.DataFrame,
    units: pl.DataFrame,
    province_code: str,
    district_code: str | None,
) -> pl.Series:
    """The in-scope code each TenDonVi value names, or null."""
    table = _name_table(scoped)
    suffix = _suffix_re(units, province_code, district_code)
    folded = fold_words_expr(pl.col("name"))
    trimmed = folded.str.replace(suffix, "") if suffix else folded
    kind, place = _parts(pl.col("name"))
    kind2, place2 = _parts(trimmed)
    names = values.to_frame("name").with_columns(
        _k1=pl.concat_str(kind, pl.lit(":"), place),
        _k2=pl.concat_str(kind2, pl.lit(":"), place2),
    )
    return (
        names.join(
            table.rename({"key": "_k1", "unit_code": "_u1"}),
            on="_k1",
            how="left",
            maintain_order="left",
        )
        .join(
            table.rename({"key": "_k2", "unit_code": "_u2"}),
            on="_k2",
            how="left",
            maintain_order="left",
        )
        .select(pl.coalesce("_u1", "_u2"))
        .to_series()
    )
