"""Which administrative unit received a dossier or holds a register, on the day it did.

Records carry ``MaDVHC`` (the statistics-office code) in most cases; some leave it blank and
only name the receiving office ("UBND xã Ia Rsươm", "Ủy ban nhân dân xã Ia RSươm",
"UBND huyện Krông Pa"). Names are matched on a folded key (see ``transforms.text``) after
removing the words that name the *office* rather than the place ("UBND", "Ủy ban nhân dân")
and the unit type ("xã", "thị trấn", "huyện", ...), against the official names and aliases of
``dim_admin_unit``. Every match is scoped to the installation's units (:func:`scope_units`):
"Krông Năng" is a commune of Krông Pa and also a district of Đắk Lắk, and a code or name from
outside the scope must stay unresolved rather than land on the wrong unit (docs/figures.md §2).
The district's own office resolves to the district code (637 for Krông Pa).

Since the 1 July 2025 reform a code may name two units: the new communes Phú Túc 24076, Ia Dreh
24100, Uar 24109 and Ia Rsai 24112 (province 52, no district) reuse old codes. A unit is
therefore (code, validity), and a row belongs to the unit valid on its reception day; a row
naming a unit that did not exist that day gets a ``unit_fault`` and is quarantined
(docs/figures.md §3). The join is always on the code (with ``unit_valid_from``); the name is
only a way to find it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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


def _with_validity(units: pl.DataFrame) -> pl.DataFrame:
    """``units`` with the validity and successor columns (null when a hand-made frame lacks them)."""
    missing = {
        "valid_from": pl.Date, "valid_to": pl.Date, "successor_code": pl.String,
        "district_code": pl.String, "level": pl.String,
    }
    extra = [pl.lit(None, dtype=t).alias(c) for c, t in missing.items() if c not in units.columns]
    return units.with_columns(extra) if extra else units


def _linked(units: pl.DataFrame, direct: pl.DataFrame) -> pl.DataFrame:
    """Units that succeed a unit of ``direct`` across a reform, or that it succeeds."""
    later = direct.filter(pl.col("successor_code").is_not_null()).select(
        pl.col("successor_code").alias("unit_code"), pl.col("valid_to").alias("_ended")
    )
    successors = units.join(later, on="unit_code").filter(
        pl.col("_ended").is_null() | pl.col("valid_from").is_null()
        | (pl.col("valid_from") > pl.col("_ended"))
    ).drop("_ended")
    earlier = direct.select(
        pl.col("unit_code").alias("successor_code"), pl.col("valid_from").alias("_began")
    )
    predecessors = units.join(earlier, on="successor_code").filter(
        pl.col("_began").is_null() | pl.col("valid_to").is_null()
        | (pl.col("valid_to") < pl.col("_began"))
    ).drop("_began")
    return pl.concat([successors, predecessors], how="vertical_relaxed")


def scope_units(
    units: pl.DataFrame,
    province_code: str,
    district_code: str | None = None,
    unit_codes: Sequence[str] = (),
) -> pl.DataFrame:
    """The units a record of this installation can belong to, across the 2025 reform.

    The scope is a province and a list of district or commune codes (``district_code`` plus
    ``unit_codes``). Named units: each of them, and the communes of a named district. None
    named: the province and every unit of it. Either way the scope follows its units across
    the reform: the successors of its old units (the four new communes for Krông Pa, province
    52 for 64) and the predecessors of its new ones belong to it too. Codes reused by another
    unit are told apart by validity, never by the code alone.
    """
    units = _with_validity(units)
    codes = [c for c in (district_code, *unit_codes) if c]
    in_province = pl.col("province_code") == province_code
    if codes:
        named = pl.col("unit_code").is_in(codes) | pl.col("district_code").is_in(codes)
        direct = units.filter(in_province & named)
    else:
        direct = units.filter(in_province | (pl.col("unit_code") == province_code))
    linked = _linked(units, direct)
    scoped = pl.concat([direct, linked], how="vertical_relaxed")
    if not codes:  # a whole province: the old districts its old communes belonged to
        parents = scoped["district_code"].drop_nulls().unique()
        scoped = pl.concat(
            [scoped, units.filter((pl.col("level") == "district") & pl.col("unit_code").is_in(parents))],
            how="vertical_relaxed",
        )
    return scoped.unique(["unit_code", "valid_from"], maintain_order=True)


def _name_table(scoped: pl.DataFrame) -> pl.DataFrame:
    """(key, unit_code, valid_from, valid_to) for the scoped units' names and aliases.

    Keys are "type:place" and ":place". Aliases take the type of the official name ("Ia Dreh"
    is a xã like "Xã Ia Hdreh"). A key may name two units that never existed at the same time
    (the old Xã Ia Rsai 24079 and the new Xã Ia Rsai 24112); a key that two units answer to on
    the same day is dropped: better unresolved than guessed.
    """
    official_type, _ = _parts(pl.col("name"))
    ident = ("unit_code", "valid_from", "valid_to")
    labelled = scoped.select(*ident, official_type.alias("type"), "name", "aliases")
    names = pl.concat(
        [
            labelled.select(*ident, "type", pl.col("name").alias("label")),
            labelled.select(*ident, "type", pl.col("aliases").alias("label")).explode("label"),
        ]
    ).drop_nulls("label")
    _, place = _parts(pl.col("label"))
    keys = names.select(*ident, "type", place.alias("key")).filter(pl.col("key") != "")
    typed = keys.select(*ident, pl.concat_str("type", pl.lit(":"), "key").alias("key"))
    untyped = keys.select(*ident, pl.concat_str(pl.lit(":"), "key").alias("key"))
    table = pl.concat([typed, untyped]).unique(maintain_order=True)
    pairs = table.join(table, on="key", suffix="_b").filter(
        ((pl.col("unit_code") != pl.col("unit_code_b"))
         | (pl.col("valid_from").ne_missing(pl.col("valid_from_b"))))
        & _overlap("valid_from", "valid_to", "valid_from_b", "valid_to_b")
    )
    clashing = pairs.select("key", "unit_code", "valid_from").unique()
    return table.join(clashing, on=["key", "unit_code", "valid_from"], how="anti", nulls_equal=True)


def _overlap(from_a: str, to_a: str, from_b: str, to_b: str) -> pl.Expr:
    """Two validity periods share a day (null bounds are open)."""
    return (
        (pl.col(from_a).is_null() | pl.col(to_b).is_null() | (pl.col(from_a) <= pl.col(to_b)))
        & (pl.col(from_b).is_null() | pl.col(to_a).is_null() | (pl.col(from_b) <= pl.col(to_a)))
    )


def _suffix_re(scoped: pl.DataFrame, units: pl.DataFrame, codes: Sequence[str]) -> str | None:
    """Regex of trailing qualifiers: ", huyện Krông Pa", " - Krông Pa, tỉnh Gia Lai"."""
    parents = pl.concat(
        [
            scoped.filter(pl.col("level").is_in(["province", "district"])),
            units.filter(pl.col("unit_code").is_in(list(codes))),
        ],
        how="vertical_relaxed",
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


# The longest text a fault quotes: the validation reason quotes the fault (≤ 60 characters).
_FAULT_VALUE_CHARS = 26


def resolve_units(
    df: pl.DataFrame,
    units: pl.DataFrame,
    province_code: str,
    district_code: str | None,
    *,
    code_column: str = "MaDVHC",
    name_column: str = "TenDonVi",
    day: pl.Series | None = None,
    unit_codes: Sequence[str] = (),
) -> pl.DataFrame:
    """``df`` with ``unit_code``, ``unit_valid_from``, ``unit_code_source`` and ``unit_fault``.

    ``units`` has DIM_ADMIN_UNIT's columns (``aliases`` a list of strings); the scope is
    ``province_code`` with ``district_code`` and ``unit_codes`` (:func:`scope_units`). ``day``
    (dates, aligned with ``df``) is the day each row belongs to — a dossier's or document's
    reception: the row belongs to the unit valid on that day (the old Xã Uar before 1 July
    2025, the new one after); a null day or no ``day`` takes any unit with that code or name,
    the latest first.

    A ``MaDVHC`` that is a unit code in scope wins; one that has lost its leading zeros or
    gained a ".0" to a number-reading spreadsheet is restored first. Otherwise ``TenDonVi`` is
    tried, and a code that is present but unknown is then ignored in favour of the name. A name
    with a unit type must match the unit's type too: "thị trấn Krông Năng" is the Đắk Lắk town,
    not the Krông Pa commune "xã Krông Năng"; a name without one ("Krông Năng") matches the
    place alone. Qualifiers naming the scope's district or province at the end ("..., huyện
    Krông Pa") are ignored.

    Found, and valid on the day: ``unit_code`` / ``unit_valid_from`` name the unit,
    ``unit_code_source`` is 'code' or 'name', ``unit_fault`` null. Found, but no unit with that
    code (or name) existed on the day: ``unit_code`` is the unit it named, ``unit_fault`` says
    which field, value and day (``MaDVHC "24082" on 2025-08-01``), and validation quarantines
    the row. Nothing found: all four null.
    """
    units = _with_validity(units)
    codes = [c for c in (district_code, *unit_codes) if c]
    scoped = scope_units(units, province_code, district_code, unit_codes)
    # Both lookups run on the distinct values only, then map back: a million rows name a
    # few dozen offices.
    by_code = map_distinct(
        df[code_column].cast(pl.String), lambda v: _codes_of(v, scoped["unit_code"]), pl.String
    )
    suffix = _suffix_re(scoped, units, [*codes, province_code])
    table = _name_table(scoped)
    name_key = map_distinct(
        df[name_column].cast(pl.String), lambda v: _name_keys(v, table, suffix), pl.String
    )
    days = day if day is not None else pl.Series([None] * df.height, dtype=pl.Date)
    rows = pl.DataFrame(
        {"_code": by_code, "_key": name_key, "_day": days.cast(pl.Date),
         "_code_raw": df[code_column].cast(pl.String), "_name_raw": df[name_column].cast(pl.String)}
    )
    distinct = rows.unique(maintain_order=True).with_row_index("_i")
    chosen = _choose(distinct, scoped, table, code_column, name_column)
    found = rows.join(
        distinct.join(chosen, on="_i", how="left").drop("_i"),
        on=["_code", "_key", "_day", "_code_raw", "_name_raw"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return df.with_columns(
        found["unit_code"].alias("unit_code"),
        found["unit_valid_from"].alias("unit_valid_from"),
        found["unit_code_source"].alias("unit_code_source"),
        found["unit_fault"].alias("unit_fault"),
    )


def _choose(
    distinct: pl.DataFrame,
    scoped: pl.DataFrame,
    table: pl.DataFrame,
    code_column: str,
    name_column: str,
) -> pl.DataFrame:
    """Per distinct (code, name key, day): the unit, its source and the fault, if any.

    A code in scope decides alone (its unit valid on the day, else a fault on the code); only
    without one does the name decide the same way.
    """
    validity = scoped.select("unit_code", "valid_from", "valid_to").unique()
    by_code = distinct.join(validity, left_on="_code", right_on="unit_code").select(
        "_i", pl.col("_code").alias("unit_code"), "valid_from", "valid_to", "_day",
        pl.lit(0).alias("_rank"), pl.lit("code").alias("unit_code_source"),
        pl.lit(code_column).alias("_field"), pl.col("_code_raw").alias("_value"),
    )
    by_name = distinct.join(table, left_on="_key", right_on="key").select(
        "_i", "unit_code", "valid_from", "valid_to", "_day",
        pl.lit(1).alias("_rank"), pl.lit("name").alias("unit_code_source"),
        pl.lit(name_column).alias("_field"), pl.col("_name_raw").alias("_value"),
    )
    day = pl.col("_day")
    valid = day.is_null() | (
        (pl.col("valid_from").is_null() | (pl.col("valid_from") <= day))
        & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= day))
    )
    candidates = (
        pl.concat([by_code, by_name])
        .filter(pl.col("_rank") == pl.col("_rank").min().over("_i"))
        .with_columns(valid.alias("_valid"))
        .sort(["_i", "_valid", "valid_from"], descending=[False, True, True], nulls_last=True)
    )
    value = pl.col("_value").str.strip_chars()
    shown = (
        pl.when(value.str.len_chars() > _FAULT_VALUE_CHARS)
        .then(value.str.slice(0, _FAULT_VALUE_CHARS - 1) + pl.lit("…"))
        .otherwise(value)
    )
    fault = pl.format('{} "{}" on {}', pl.col("_field"), shown, day.dt.strftime("%Y-%m-%d"))
    return candidates.group_by("_i", maintain_order=True).first().select(
        "_i",
        "unit_code",
        pl.col("valid_from").alias("unit_valid_from"),
        "unit_code_source",
        pl.when(pl.col("_valid")).then(None).otherwise(fault).alias("unit_fault"),
    )


def _codes_of(values: pl.Series, codes: pl.Series) -> pl.Series:
    """The in-scope code each MaDVHC value stands for, or null."""
    raw = pl.col("v").str.strip_chars().str.replace(r"^(\d+)\.0*$", "${1}")
    known = codes.unique().to_list()
    found = pl.coalesce(
        [
            pl.when(raw.is_in(known)).then(raw),
            *(pl.when(raw.str.zfill(w).is_in(known)).then(raw.str.zfill(w)) for w in (5, 3, 2)),
        ]
    )
    return values.to_frame("v").select(found).to_series()


def _name_keys(values: pl.Series, table: pl.DataFrame, suffix: str | None) -> pl.Series:
    """The key of the name table each TenDonVi value answers to (as written, else without
    the trailing district or province qualifiers), or null."""
    folded = fold_words_expr(pl.col("name"))
    trimmed = folded.str.replace(suffix, "") if suffix else folded
    kind, place = _parts(pl.col("name"))
    kind2, place2 = _parts(trimmed)
    known = table["key"].unique().to_list()
    k1 = pl.concat_str(kind, pl.lit(":"), place)
    k2 = pl.concat_str(kind2, pl.lit(":"), place2)
    key = pl.when(k1.is_in(known)).then(k1).when(k2.is_in(known)).then(k2)
    return values.to_frame("name").select(key).to_series()
