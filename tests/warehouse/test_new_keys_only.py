"""``Warehouse.new_keys_only``: a first load appends its raw versions without the anti-join,
any side that already holds rows still decides."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cchc.config import Settings
from warehouse import strategies
from warehouse.tables import RAW_ONESTOP_DOSSIER_VERSIONS
from warehouse.writer import Warehouse

RAW = RAW_ONESTOP_DOSSIER_VERSIONS


def _raw(*hashes: str) -> pl.DataFrame:
    return pl.DataFrame({"MaHoSo": [f"D{h}" for h in hashes], "ChuHoSo": [f"Chủ {h}" for h in hashes],
                         "row_hash": list(hashes)})


def _hashes(wh: Warehouse, db: str = "main") -> list[str]:
    prefix = "personal." if db == "personal" else ""
    return wh.query(f"SELECT row_hash FROM {prefix}{RAW.name} ORDER BY ALL").to_series().to_list()


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every key decision the writes make."""
    made: list[str] = []
    decide = strategies._decide

    def spy(con, frame, columns, sql):
        made.append(sql)
        return decide(con, frame, columns, sql)

    monkeypatch.setattr(strategies, "_decide", spy)
    return made


def test_an_empty_table_takes_the_rows_without_deciding(
    settings: Settings, units_csv: Path, decisions: list[str]
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh, wh.new_keys_only(RAW):
        with wh.transaction():
            assert wh.write(RAW, _raw("r1", "r2"), "L").inserted == 2
        with wh.transaction():  # still inside the block: the caller vouches the keys are new
            assert wh.write(RAW, _raw("r3"), "L").inserted == 1
        assert decisions == []
        assert _hashes(wh) == _hashes(wh, "personal") == ["r1", "r2", "r3"]


def test_stored_rows_are_still_decided_on(
    settings: Settings, units_csv: Path, decisions: list[str]
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(RAW, _raw("r1"), "L")
        decisions.clear()
        with wh.new_keys_only(RAW), wh.transaction():
            assert wh.write(RAW, _raw("r1", "r2"), "L").inserted == 1  # r1 is stored already
        assert len(decisions) == 2  # main and personal file
        assert _hashes(wh) == _hashes(wh, "personal") == ["r1", "r2"]
        decisions.clear()
        wh.write(RAW, _raw("r4"), "L")  # after the block: decided as always
        assert len(decisions) == 2


def test_each_file_is_judged_on_its_own(
    settings: Settings, units_csv: Path, decisions: list[str]
) -> None:
    """A companion row left ahead by a failed commit: the personal file decides, the main one
    (empty) does not."""
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.cursor().execute(f"INSERT INTO personal.{RAW.name} (row_hash, ChuHoSo) "
                            "VALUES ('r1', 'Chủ r1')")
        with wh.new_keys_only(RAW), wh.transaction():
            assert wh.write(RAW, _raw("r1", "r2"), "L").inserted == 2
        assert len(decisions) == 1  # the personal file only
        assert _hashes(wh) == ["r1", "r2"]
        assert _hashes(wh, "personal") == ["r1", "r2"]  # r1 not written twice
