"""dim_admin_unit from the nationwide list and the seed, the crosswalk, reports by today's units,
and the migration of a warehouse whose units were keyed by code alone (docs/figures.md §2–§3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from warehouse_fixtures import core_frame, dossier

from cchc.config import ScopeSettings
from warehouse import ddl
from warehouse.admin_units import build_admin_units, nationwide_units
from warehouse.documents_report import documents_report
from warehouse.form06 import COUNT_COLUMNS, form06
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT
from warehouse.views import create_views

NEW = date(2025, 7, 1)


def _successors(units: pl.DataFrame) -> dict[str, str | None]:
    old = units.filter(pl.col("valid_from") < NEW)
    return dict(zip(old["unit_code"], old["successor_code"], strict=True))


def test_the_nationwide_list_carries_the_krong_pa_crosswalk() -> None:
    units = nationwide_units()
    krong_pa = units.filter(pl.col("district_code") == "637", pl.col("level") != "district")
    assert krong_pa.height == 14
    groups: dict[str, set[str]] = {}
    for old, new in _successors(krong_pa).items():
        groups.setdefault(new, set()).add(old)
    assert groups == {"24076": {"24076", "24088", "24091", "24097", "24106"},
                      "24100": {"24100", "24103", "24115"},
                      "24109": {"24109", "24082", "24094"},
                      "24112": {"24079", "24085", "24112"}}
    provinces = units.filter(pl.col("level") == "province", pl.col("unit_code") == "52")
    # code 52: Bình Định until the reform, the new Gia Lai after; Gia Lai 64 became 52
    assert sorted(zip(provinces["name"], provinces["valid_from"] >= NEW, strict=True)) == [
        ("Tỉnh Bình Định", False), ("Tỉnh Gia Lai", True)]
    assert _successors(units.filter(pl.col("unit_code") == "64"))["64"] == "52"


def test_the_default_scope_gets_old_and_new_units_with_the_seeds_spellings() -> None:
    units = build_admin_units(ScopeSettings())
    assert units.columns == DIM_ADMIN_UNIT.column_names
    assert not units.select("unit_code", "valid_from").is_duplicated().any()
    new = units.filter(pl.col("valid_from") == NEW)
    assert sorted(new["unit_code"]) == ["24076", "24100", "24109", "24112", "52"]
    assert new.filter(pl.col("level") != "province")["district_code"].null_count() == 4
    mlah = units.filter(pl.col("unit_code") == "24091").row(0, named=True)
    # the package's name wins; the seed's own name and its aliases stay as aliases
    assert mlah["name"] == "Xã Ia Mlăh" and {"Xã Ia Mlah", "Ia Mláh"} <= set(mlah["aliases"])
    assert mlah["valid_from"] == date(2008, 1, 1) and mlah["valid_to"] == date(2025, 6, 30)


def test_a_scope_named_after_the_reform_follows_its_units_back() -> None:
    scope = ScopeSettings(province_code="52", district_code="", units=("24109",))
    units = build_admin_units(scope, Path("/nonexistent.csv"))
    communes = units.filter(pl.col("level") == "commune")
    assert sorted(zip(communes["unit_code"], communes["valid_from"] >= NEW, strict=True)) == [
        ("24082", False), ("24094", False), ("24109", False), ("24109", True)]


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    """Krông Pa's seed units and dossiers of old units (one carried over the reform) and of a
    new commune."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ddl.ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units())
    old, new = date(2008, 1, 1), NEW
    rows = [
        dossier("A", unit_code="24082", unit_valid_from=old, received_date="2025-06-02",
                due_date="2025-06-20", finished_date="2025-06-10"),
        dossier("B", unit_code="24094", unit_valid_from=old, status=4,
                received_date="2025-06-25", due_date="2025-07-20"),  # open across the reform
        dossier("C", unit_code="24109", unit_valid_from=old, received_date="2025-06-03",
                due_date="2025-06-20", finished_date="2025-06-21"),
        dossier("D", unit_code="24109", unit_valid_from=new, received_date="2025-07-02",
                due_date="2025-07-20", finished_date="2025-07-10"),
        dossier("E", unit_code="637", unit_valid_from=old, received_date="2025-06-04",
                due_date="2025-06-20", finished_date="2025-06-10"),
    ]
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L1")
    create_views(con)
    return con


def test_reports_by_new_units_move_old_figures_to_successors(con) -> None:
    first, last = date(2025, 6, 1), date(2025, 7, 31)
    received = form06(con, first, last, units="received")
    new = form06(con, first, last, units="new")
    labels = received["c2"].to_list()
    # the old units and the new communes of the period, a reused code told apart by validity
    assert labels[:3] == ["Huyện Krông Pa", "Thị trấn Phú Túc (đến 30/06/2025)",
                          "Xã Phú Túc (từ 01/07/2025)"]
    assert {"Xã Uar (đến 30/06/2025)", "Xã Uar (từ 01/07/2025)", "Xã Chư Drăng"} <= set(labels)
    by_code = {r["code"]: r for r in new.iter_rows(named=True)}
    assert set(by_code) == {"637", "24076", "24100", "24109", "24112", None}
    assert (by_code["24109"]["c3"], by_code["24109"]["c10"], by_code["24109"]["c11"]) == (4, 1, 1)
    assert by_code["637"]["c3"] == 1  # the district's desk keeps its row
    assert received["c3"][-1] == 5
    assert [received[c][-1] for c in COUNT_COLUMNS] == [new[c][-1] for c in COUNT_COLUMNS]
    docs = documents_report(con, first, last, units="new")
    assert docs["code"].to_list()[-1] is None  # no documents: zero rows, same shape


def test_a_warehouse_keyed_by_code_alone_is_migrated() -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ddl.ensure_schema(con)
    # as schema 2 left it: units keyed by code, core rows without unit_valid_from
    con.execute("DROP TABLE dim_admin_unit")
    con.execute("CREATE TABLE dim_admin_unit (unit_code VARCHAR PRIMARY KEY, name VARCHAR, "
                "level VARCHAR, province_code VARCHAR, district_code VARCHAR, valid_from DATE, "
                "valid_to DATE, successor_code VARCHAR, aliases VARCHAR[])")
    con.execute("INSERT INTO dim_admin_unit VALUES ('24109', 'Xã Uar', 'commune', '64', '637', "
                "DATE '2008-01-01', DATE '2025-06-30', '24109', [])")
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(dossier("X", unit_code="24109",
                                                               received_date="2022-01-03")), "L1")
    con.execute("ALTER TABLE core_onestop__dossiers DROP COLUMN unit_valid_from")
    con.execute("DELETE FROM etl_schema_versions WHERE version = 3")
    actions = ddl.ensure_schema(con)
    assert "schema version 3" in actions
    assert con.execute("SELECT unit_valid_from FROM core_onestop__dossiers").fetchall() == [
        (date(2008, 1, 1),)]
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units())  # two rows of 24109 now fit the key
    assert con.execute("SELECT count(*) FROM dim_admin_unit WHERE unit_code = '24109'"
                       ).fetchone() == (2,)
