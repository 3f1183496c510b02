"""``dim_admin_unit`` for the configured scope: the nationwide list, the reform, the project's seed.

The nationwide list is the data bundled with ``vietnamadminunits`` 1.0.4 (MIT; read offline,
straight from its files, without importing its address parser and geocoder): every unit before
the 1 July 2025 reform (63 provinces, their districts and communes, statistics-office codes) and
after it (34 provinces and their communes, no districts), and the conversion of each old commune
to its new one. cchc turns it into rows valid until 30 June 2025 (the old units) and from
1 July 2025 (the new ones), each old commune and province with its ``successor_code``; a commune
that was split goes to the new commune the package names as its default. Districts have no
successor: their level ended.

Only the configured scope is kept (``transforms.units.scope_units``: the province, its named
districts or communes, and everything they became or came from across the reform). The project's
seed (``warehouse/seeds/dim_admin_unit.csv``) is then laid over it, matched on the code and the
side of the reform:

- the package wins for what it carries: name, level, province, district, successor;
- the seed wins for the validity dates (the package has none before the reform; an old unit the
  seed does not know is valid from 2000-01-01, before any record these systems hold);
- the aliases are the seed's, plus the seed's own name when the package spells it otherwise
  ("Xã Ia Mlah" for the package's "Xã Ia Mlăh"), so every known spelling still resolves;
- a seed row the package lacks is kept whole.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl

from cchc.config import ScopeSettings
from transforms.units import scope_units
from warehouse.seeds import ADMIN_UNITS_CSV, load_admin_units
from warehouse.tables import DIM_ADMIN_UNIT

PACKAGE = "vietnamadminunits"
REFORM_DAY = date(2025, 7, 1)
LAST_OLD_DAY = date(2025, 6, 30)
OLD_UNITS_FROM = date(2000, 1, 1)  # old units the seed does not date: before any record
LEVELS = {"Xã": "commune", "Phường": "ward", "Thị trấn": "town", "Đặc khu": "special_zone"}


class AdminUnitsUnavailable(RuntimeError):
    """The nationwide list cannot be read (package missing or its data changed shape)."""


def _package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AdminUnitsUnavailable(f"the {PACKAGE} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _rows(sql: str) -> list[dict]:
    db = _package_dir() / "data" / "dataset.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql)]


@cache
def nationwide_units() -> pl.DataFrame:
    """Every unit of the package, old and new, as DIM_ADMIN_UNIT rows (aliases empty)."""
    try:
        old = pl.DataFrame(_rows(
            "SELECT province, district, ward, districtType, wardType, provinceCode, districtCode, "
            "wardCode, provinceKey, districtKey, wardKey FROM admin_units_legacy"
        ), infer_schema_length=None)
        new = pl.DataFrame(_rows(
            "SELECT province, ward, wardType, provinceCode, wardCode, provinceKey, wardKey "
            "FROM admin_units"
        ), infer_schema_length=None)
        conversion = json.loads((_package_dir() / "data" / "converter_2025.json").read_text("utf-8"))
    except (sqlite3.Error, OSError, KeyError, ValueError) as exc:
        raise AdminUnitsUnavailable(f"{PACKAGE}: {exc}") from exc
    successors = _successors(old, new, conversion)
    province_successors = _province_successors(old, new, conversion)
    old_from, old_to = pl.lit(OLD_UNITS_FROM), pl.lit(LAST_OLD_DAY)
    frames = [
        old.unique("provinceCode").select(
            pl.col("provinceCode").alias("unit_code"), pl.col("province").alias("name"),
            pl.lit("province").alias("level"), pl.col("provinceCode").alias("province_code"),
            pl.lit(None, pl.String).alias("district_code"), old_from.alias("valid_from"),
            old_to.alias("valid_to"),
            pl.col("provinceCode").replace_strict(province_successors, default=None)
            .alias("successor_code"),
        ),
        old.unique("districtCode").select(
            pl.col("districtCode").alias("unit_code"), pl.col("district").alias("name"),
            pl.lit("district").alias("level"), pl.col("provinceCode").alias("province_code"),
            pl.col("districtCode").alias("district_code"), old_from.alias("valid_from"),
            old_to.alias("valid_to"), pl.lit(None, pl.String).alias("successor_code"),
        ),
        old.filter(pl.col("wardCode").is_not_null() & (pl.col("wardCode") != "")).select(
            pl.col("wardCode").alias("unit_code"), pl.col("ward").alias("name"),
            pl.col("wardType").replace_strict(LEVELS, default="commune").alias("level"),
            pl.col("provinceCode").alias("province_code"),
            pl.col("districtCode").alias("district_code"), old_from.alias("valid_from"),
            old_to.alias("valid_to"),
            pl.col("wardCode").replace_strict(successors, default=None).alias("successor_code"),
        ),
        new.unique("provinceCode").select(
            pl.col("provinceCode").alias("unit_code"), pl.col("province").alias("name"),
            pl.lit("province").alias("level"), pl.col("provinceCode").alias("province_code"),
            pl.lit(None, pl.String).alias("district_code"), pl.lit(REFORM_DAY).alias("valid_from"),
            pl.lit(None, pl.Date).alias("valid_to"), pl.lit(None, pl.String).alias("successor_code"),
        ),
        new.select(
            pl.col("wardCode").alias("unit_code"), pl.col("ward").alias("name"),
            pl.col("wardType").replace_strict(LEVELS, default="commune").alias("level"),
            pl.col("provinceCode").alias("province_code"),
            pl.lit(None, pl.String).alias("district_code"), pl.lit(REFORM_DAY).alias("valid_from"),
            pl.lit(None, pl.Date).alias("valid_to"), pl.lit(None, pl.String).alias("successor_code"),
        ),
    ]
    units = pl.concat(frames, how="vertical_relaxed").with_columns(
        pl.lit([], pl.List(pl.String)).alias("aliases")
    )
    return units.unique(["unit_code", "valid_from"], maintain_order=True).select(
        pl.col(c).cast(t) for c, t in DIM_ADMIN_UNIT.polars_schema().items()
    )


def _successors(old: pl.DataFrame, new: pl.DataFrame, conversion: dict) -> dict[str, str]:
    """Old commune code -> new commune code, from the package's name-keyed conversion."""
    old_code = {
        f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": r["wardCode"]
        for r in old.iter_rows(named=True) if r["wardCode"]
    }
    new_code = {(r["provinceKey"], r["wardKey"]): r["wardCode"] for r in new.iter_rows(named=True)}
    out: dict[str, str] = {}
    for province, wards in conversion["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward, olds in wards.items():
            for key in olds:
                if key in old_code and (province, ward) in new_code:
                    out[old_code[key]] = new_code[(province, ward)]
    for province, split in conversion["DICT_PROVINCE_WARD_DIVIDED"].items():
        for key, options in split.items():
            default = next((o["newWardKey"] for o in options if o.get("isDefaultNewWard")), None)
            if key in old_code and (province, default) in new_code:
                out.setdefault(old_code[key], new_code[(province, default)])
    return out


def _province_successors(old: pl.DataFrame, new: pl.DataFrame, conversion: dict) -> dict[str, str]:
    """Old province code -> new province code (Gia Lai 64 -> 52)."""
    old_code = dict(old.select("provinceKey", "provinceCode").unique().iter_rows())
    new_code = dict(new.select("provinceKey", "provinceCode").unique().iter_rows())
    return {
        old_code[o]: new_code[n]
        for n, olds in conversion["DICT_PROVINCE"].items() for o in olds
        if o in old_code and n in new_code
    }


def _after_reform() -> pl.Expr:
    return pl.col("valid_from") >= REFORM_DAY


def merge_seed(package: pl.DataFrame, seed: pl.DataFrame) -> pl.DataFrame:
    """The package's units with the seed laid over them (the module docstring says who wins)."""
    match = ["unit_code", "_new"]
    p = package.with_columns(_after_reform().alias("_new"))
    s = seed.with_columns(_after_reform().alias("_new")).select(
        *match,
        pl.col("name").alias("_seed_name"),
        pl.col("valid_from").alias("_seed_from"),
        pl.col("valid_to").alias("_seed_to"),
        pl.col("aliases").alias("_seed_aliases"),
    )
    both = p.join(s, on=match, how="left").with_columns(
        pl.when(pl.col("_new")).then(pl.col("valid_from"))
        .otherwise(pl.coalesce("_seed_from", "valid_from")).alias("valid_from"),
        pl.coalesce("_seed_to", "valid_to").alias("valid_to"),
        pl.concat_list(
            pl.col("aliases"),
            pl.col("_seed_aliases").fill_null(pl.lit([], pl.List(pl.String))),
            pl.when(pl.col("_seed_name").is_not_null() & (pl.col("_seed_name") != pl.col("name")))
            .then(pl.concat_list(pl.col("_seed_name")))
            .otherwise(pl.lit([], pl.List(pl.String))),
        ).list.unique(maintain_order=True).alias("aliases"),
    )
    only_seed = seed.with_columns(_after_reform().alias("_new")).join(p, on=match, how="anti")
    columns = DIM_ADMIN_UNIT.column_names
    return pl.concat([both.select(columns), only_seed.select(columns)]).sort(
        "unit_code", "valid_from"
    )


def build_admin_units(
    scope: ScopeSettings, seed_csv: Path = ADMIN_UNITS_CSV, *, package: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``dim_admin_unit`` for ``scope``: the nationwide list scoped, the seed laid over it.

    Without the package (not installed, unreadable) the seed alone is used, scoped the same
    way, and a warning says so.
    """
    seed = load_admin_units(seed_csv) if seed_csv.is_file() else _empty()
    seed = _scoped(seed, scope)
    if package is None:
        try:
            package = nationwide_units()
        except AdminUnitsUnavailable as exc:
            import logging

            logging.getLogger(__name__).warning("%s: dim_admin_unit from the seed only", exc)
            return seed.select(DIM_ADMIN_UNIT.column_names)
    return merge_seed(_scoped(package, scope), seed)


def _scoped(units: pl.DataFrame, scope: ScopeSettings) -> pl.DataFrame:
    """The scope's units and the provinces they belong to (on their side of the reform), so
    that "…, tỉnh Gia Lai" qualifiers are recognised and reports can name the province."""
    scoped = scope_units(units, scope.province_code, None, scope.unit_codes)
    sides = scoped.select(
        pl.col("province_code").alias("unit_code"), _after_reform().alias("_new")
    ).unique()
    provinces = (
        units.filter(pl.col("level") == "province")
        .with_columns(_after_reform().alias("_new"))
        .join(sides, on=["unit_code", "_new"], how="semi")
        .drop("_new")
    )
    return pl.concat([scoped, provinces], how="vertical_relaxed").unique(
        ["unit_code", "valid_from"], maintain_order=True
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=DIM_ADMIN_UNIT.polars_schema())
