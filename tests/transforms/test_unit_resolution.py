"""Receiving unit → statistics-office code, from MaDVHC or the name, scoped (docs/figures.md §2)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from transforms_samples import UNIT_VARIANTS

from transforms.units import resolve_units, scope_units
from warehouse.seeds import load_admin_units
from warehouse.tables import DIM_ADMIN_UNIT


@pytest.fixture(scope="module")
def units() -> pl.DataFrame:
    return load_admin_units()


def _resolve(units: pl.DataFrame, rows: list[tuple[str | None, str | None]],
             day: date | None = date(2022, 1, 1)) -> list[tuple]:
    """(unit_code, source) of each (MaDVHC, TenDonVi) received on ``day`` (2021–2022 units)."""
    df = pl.DataFrame(rows, schema={"MaDVHC": pl.String, "TenDonVi": pl.String}, orient="row")
    days = None if day is None else pl.Series([day] * df.height, dtype=pl.Date)
    out = resolve_units(df, units, "64", "637", day=days)
    assert out.height == df.height and out.columns == [
        *df.columns, "unit_code", "unit_valid_from", "unit_code_source", "unit_fault"
    ]
    return list(zip(out["unit_code"].to_list(), out["unit_code_source"].to_list(), strict=True))


def test_seed_has_the_declared_columns_and_the_14_units(units: pl.DataFrame) -> None:
    assert units.columns == DIM_ADMIN_UNIT.column_names
    assert units.schema == DIM_ADMIN_UNIT.polars_schema()
    assert not units.select("unit_code", "valid_from").is_duplicated().any()  # the table's key
    communes = units.filter(pl.col("district_code") == "637", pl.col("level") != "district")
    assert sorted(communes["unit_code"].to_list()) == sorted(UNIT_VARIANTS)
    # Every pre-2025 unit has its post-2025 successor (vietnamadminunits 1.0.4).
    successors = dict(zip(communes["unit_code"], communes["successor_code"], strict=True))
    assert {successors[c] for c in ("24076", "24088", "24091", "24097", "24106")} == {"24076"}
    assert {successors[c] for c in ("24100", "24103", "24115")} == {"24100"}
    assert {successors[c] for c in ("24109", "24082", "24094")} == {"24109"}
    assert {successors[c] for c in ("24079", "24085", "24112")} == {"24112"}


@pytest.mark.parametrize("code", sorted(UNIT_VARIANTS))
def test_every_spelling_resolves_by_name(units: pl.DataFrame, code: str) -> None:
    found = _resolve(units, [(None, v) for v in UNIT_VARIANTS[code]])
    assert found == [(code, "name")] * len(UNIT_VARIANTS[code])


def test_code_wins_and_is_repaired(units: pl.DataFrame) -> None:
    assert _resolve(
        units,
        [
            ("24109", "UBND xã Uar"),
            (" 24109 ", None),
            ("24109.0", None),  # read through a number cell
            ("24082", "UBND xã Uar"),  # the code wins over the name
        ],
    ) == [("24109", "code"), ("24109", "code"), ("24109", "code"), ("24082", "code")]


def test_district_office_resolves_to_the_district(units: pl.DataFrame) -> None:
    assert _resolve(
        units, [(None, "UBND huyện Krông Pa"), (None, "Ủy ban nhân dân huyện Krông Pa")]
    ) == [
        ("637", "name"),
        ("637", "name"),
    ]


def test_krong_nang_of_dak_lak_never_matches(units: pl.DataFrame) -> None:
    found = _resolve(
        units,
        [
            ("24343", None),  # Thị trấn Krông Năng, Đắk Lắk: code out of scope
            (None, "UBND thị trấn Krông Năng"),  # the Đắk Lắk town, by its type
            (None, "UBND huyện Krông Năng"),  # the Đắk Lắk district
            (None, "UBND xã Ea Tóh"),  # a commune of that district
            (None, "UBND xã Krông Năng"),  # Krông Pa's own commune
            (None, "UBND xã Krông Năng, huyện Krông Pa, tỉnh Gia Lai"),
        ],
    )
    assert found == [(None, None)] * 4 + [("24115", "name")] * 2


def test_unknown_code_falls_back_to_the_name(units: pl.DataFrame) -> None:
    assert _resolve(units, [("99999", "UBND xã Chư Gu"), ("99999", "somewhere")]) == [
        ("24085", "name"),
        (None, None),
    ]


def test_scope_follows_its_units_across_the_reform(units: pl.DataFrame) -> None:
    scoped = scope_units(units, "64", "637")
    new = scoped.filter(pl.col("valid_from") >= date(2025, 7, 1))
    assert set(scoped["unit_code"]) == set(UNIT_VARIANTS) | {"637"}
    assert sorted(new["unit_code"]) == ["24076", "24100", "24109", "24112"]
    # named after the reform: the new commune and the old units it merged
    uar = scope_units(units, "52", None, ["24109"])
    assert sorted(zip(uar["unit_code"], uar["valid_from"].dt.year(), strict=True)) == [
        ("24082", 2008), ("24094", 2008), ("24109", 2008), ("24109", 2025)]


def test_ambiguous_names_stay_unresolved() -> None:
    units = pl.DataFrame(
        {
            "unit_code": ["1", "2", "9"],
            "name": ["Xã An Bình", "Xã An Binh", "Huyện X"],
            "level": ["commune", "commune", "district"],
            "province_code": ["P", "P", "P"],
            "district_code": ["9", "9", "9"],
            "aliases": [[], [], []],
        }
    )
    df = pl.DataFrame(
        {"MaDVHC": [None], "TenDonVi": ["UBND xã An Bình"]},
        schema={"MaDVHC": pl.String, "TenDonVi": pl.String},
    )
    assert resolve_units(df, units, "P", "9")["unit_code"].to_list() == [None]


def _on(units: pl.DataFrame, rows: list[tuple[str | None, str | None, date]]) -> list[tuple]:
    """(unit_code, valid_from year, source, fault) of each (MaDVHC, TenDonVi, day)."""
    df = pl.DataFrame([r[:2] for r in rows], schema={"MaDVHC": pl.String, "TenDonVi": pl.String},
                      orient="row")
    day = pl.Series([r[2] for r in rows], dtype=pl.Date)
    out = resolve_units(df, units, "64", "637", day=day)
    return list(zip(out["unit_code"], out["unit_valid_from"].dt.year(), out["unit_code_source"],
                    out["unit_fault"], strict=True))


BEFORE, AFTER = date(2025, 6, 30), date(2025, 7, 1)


def test_a_blank_code_and_xa_uar_mean_the_unit_of_the_reception_day(units: pl.DataFrame) -> None:
    assert _on(units, [(None, "Xã Uar", BEFORE), (None, "UBND xã Uar", AFTER),
                       ("24109", None, BEFORE), ("24109", None, AFTER)]) == [
        ("24109", 2008, "name", None), ("24109", 2025, "name", None),
        ("24109", 2008, "code", None), ("24109", 2025, "code", None)]


def test_a_name_moves_to_the_new_code_that_took_it(units: pl.DataFrame) -> None:
    # the old Xã Ia Rsai was 24079; the new Xã Ia Rsai took Chư Rcăm's code 24112
    found = _on(units, [(None, "UBND xã Ia Rsai", BEFORE), (None, "UBND xã Ia Rsai", AFTER)])
    assert [f[:2] for f in found] == [("24079", 2008), ("24112", 2025)]


def test_a_unit_gone_on_the_day_is_a_fault_naming_field_value_and_day(
    units: pl.DataFrame,
) -> None:
    found = _on(units, [("24082", None, AFTER), (None, "UBND xã Ia Rsươm", AFTER),
                        (None, "UBND huyện Krông Pa", AFTER), (None, "Xã Phú Túc", BEFORE),
                        (None, "UBND thị trấn Phú Túc", AFTER)])
    assert found == [
        ("24082", 2008, "code", 'MaDVHC "24082" on 2025-07-01'),
        ("24082", 2008, "name", 'TenDonVi "UBND xã Ia Rsươm" on 2025-07-01'),
        ("637", 2008, "name", 'TenDonVi "UBND huyện Krông Pa" on 2025-07-01'),
        ("24076", 2025, "name", 'TenDonVi "Xã Phú Túc" on 2025-06-30'),  # not yet a xã then
        ("24076", 2008, "name", 'TenDonVi "UBND thị trấn Phú Túc" on 2025-07-01'),
    ]


def test_without_a_day_the_latest_unit_is_taken(units: pl.DataFrame) -> None:
    assert _resolve(units, [("24076", None), (None, "Xã Ia Rsai")], None) == [
        ("24076", "code"), ("24112", "name")]
