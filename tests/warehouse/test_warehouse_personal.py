"""Personal data: companion tables in personal.duckdb follow their main rows; main file has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from warehouse_fixtures import core_frame, dossier

from cchc.config import Settings
from warehouse.personal import COMPANIONS, companion, mask_text
from warehouse.schema import Strategy
from warehouse.tables import (
    ALL_TABLES,
    CORE_ONESTOP_DOSSIERS,
    QUARANTINE_ONESTOP_DOSSIERS,
    RAW_ONESTOP_DOSSIER_VERSIONS,
)
from warehouse.writer import Warehouse

T0 = datetime(2022, 1, 1, tzinfo=UTC)
PII = ("applicant_name", "applicant_id_number", "applicant_phone")


def _v(code: str, minutes: int, name: str, row_hash: str) -> dict:
    return dossier(
        code, updated_at=T0 + timedelta(minutes=minutes), applicant_name=name, row_hash=row_hash
    )


def _state(wh: Warehouse) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Main core rows, companion core rows, companion raw rows."""
    main = wh.query(
        "SELECT dossier_code, updated_at, row_hash, applicant_name, applicant_id_number, "
        "applicant_phone FROM core_onestop__dossiers ORDER BY ALL"
    ).rows()
    comp = wh.query("SELECT * FROM personal.core_onestop__dossiers ORDER BY ALL").rows()
    raw = wh.query("SELECT * FROM personal.raw_onestop__dossier_versions ORDER BY ALL").rows()
    return main, comp, raw


def test_companions_are_derived_from_the_declarations() -> None:
    with_pii = {t.name for t in ALL_TABLES if t.pii_columns}
    assert set(COMPANIONS) == with_pii
    core = COMPANIONS[CORE_ONESTOP_DOSSIERS.name]
    assert core.column_names == ["dossier_code", "updated_at", "row_hash", *PII]
    assert (core.key, core.strategy, core.version_column) == (
        ("dossier_code",), Strategy.MERGE, "updated_at"
    )  # fmt: skip
    raw = COMPANIONS[RAW_ONESTOP_DOSSIER_VERSIONS.name]
    assert raw.column_names == ["row_hash", "ChuHoSo", "SoGiayTo", "SoDienThoai"]
    assert raw.strategy is Strategy.APPEND_NEW
    assert companion(QUARANTINE_ONESTOP_DOSSIERS) == COMPANIONS[QUARANTINE_ONESTOP_DOSSIERS.name]


def test_newest_wins_carries_the_companion_row_and_reloads_change_nothing(
    settings: Settings, units_csv: Path
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(
            CORE_ONESTOP_DOSSIERS, core_frame(_v("A", 0, "An", "h1"), _v("B", 0, "Bình", "h2")), "L"
        )
        newer = core_frame(_v("A", 10, "An mới", "h3"), _v("C", 0, "Chi", "h4"))
        wh.write(CORE_ONESTOP_DOSSIERS, newer, "L")
        older = core_frame(_v("A", 5, "An cũ", "h5"), _v("B", 0, "Bình hòa", "h0"))  # tie: h0 wins
        wh.write(CORE_ONESTOP_DOSSIERS, older, "L")
        raw = pl.DataFrame({"MaHoSo": ["A"], "ChuHoSo": ["An"], "row_hash": ["r1"]})
        wh.write(RAW_ONESTOP_DOSSIER_VERSIONS, raw, "L")
        main, comp, comp_raw = _state(wh)
        assert [(r[0], r[2]) for r in main] == [("A", "h3"), ("B", "h0"), ("C", "h4")]
        assert all(r[3:] == (None, None, None) for r in main)  # never in the main file
        assert [(r[0], r[2], r[3]) for r in comp] == [
            ("A", "h3", "An mới"), ("B", "h0", "Bình hòa"), ("C", "h4", "Chi")
        ]  # fmt: skip
        assert [r[1:3] for r in comp] == [r[1:3] for r in main]  # same winner, same version
        assert comp_raw == [("r1", "An", None, None)]
        assert wh.query("SELECT count(ChuHoSo) FROM raw_onestop__dossier_versions").item() == 0
        assert wh.personal(CORE_ONESTOP_DOSSIERS, ["C", "A", "Z"]).rows() == [
            ("A", "An mới", "064123456789", "0900000000"),
            ("C", "Chi", "064123456789", "0900000000"),
        ]
        before = _state(wh)
        for frame in (newer, older):  # the same loads again write nothing, in either file
            with wh.transaction():
                assert wh.write(CORE_ONESTOP_DOSSIERS, frame, "L").inserted == 0
                assert wh.write(RAW_ONESTOP_DOSSIER_VERSIONS, raw, "L").inserted == 0
        assert _state(wh) == before


def test_a_failed_load_rolls_back_both_files(settings: Settings, units_csv: Path) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(_v("A", 0, "An", "h1")), "L")
        before = _state(wh)
        load = wh.begin_load("onestop", "pull", "test")
        with pytest.raises(RuntimeError, match="boom"), wh.transaction(load):
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(_v("A", 9, "An mới", "h9")), load)
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(_v("B", 0, "Bình", "h2")), load)
            raise RuntimeError("boom")
        assert _state(wh) == before
        status = wh.query("SELECT status FROM etl_loads WHERE load_id = ?", [load]).item()
        assert status == "failed"


def test_a_companion_row_ahead_of_its_main_row_is_never_returned(
    settings: Settings, units_csv: Path
) -> None:
    """What a failed main COMMIT after the personal COMMIT would leave: a harmless orphan."""
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(_v("A", 0, "An", "h1")), "L")
        wh.con.execute(  # the companion alone gets a newer version (its main write was lost)
            "UPDATE personal.core_onestop__dossiers SET updated_at = updated_at + INTERVAL 1 HOUR, "
            "row_hash = 'h9', applicant_name = 'An mới'"
        )
        assert wh.personal(CORE_ONESTOP_DOSSIERS, ["A"]).height == 0  # no wrong person
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(_v("A", 60, "An mới", "h9")), "L")  # reloaded
        assert wh.personal(CORE_ONESTOP_DOSSIERS, ["A"])["applicant_name"].to_list() == ["An mới"]


def test_mask_text_masks_only_personal_fields() -> None:
    text = "SoGiayTo='0641234', MaTTHC='1.00123', applicant_phone='09': rule"
    assert mask_text(text) == "SoGiayTo='***', MaTTHC='1.00123', applicant_phone='***': rule"
    assert mask_text(None) is None
