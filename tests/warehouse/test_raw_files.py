"""The raw layer as immutable Parquet files (``warehouse.raw_files``): what a write lists, what
a rollback or an undone load leaves, what readers of the published snapshot see, and the move
of a raw table of an earlier version."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from cchc.config import Settings
from warehouse import raw_files
from warehouse.ddl import ensure_schema
from warehouse.reader import open_snapshot, run_query
from warehouse.tables import ALL_TABLES, RAW_ONESTOP_DOSSIER_VERSIONS
from warehouse.writer import Warehouse

RAW = RAW_ONESTOP_DOSSIER_VERSIONS


def _raw(*hashes: str) -> pl.DataFrame:
    return pl.DataFrame({"MaHoSo": [f"D{h}" for h in hashes], "ChuHoSo": [f"Chủ {h}" for h in hashes],
                         "row_hash": list(hashes)})


def _hashes(con, name: str = RAW.name) -> list[str]:
    return [r[0] for r in con.execute(f"SELECT row_hash FROM {name} ORDER BY ALL").fetchall()]


def _files(settings: Settings) -> list[Path]:
    folder = raw_files.folder(settings.raw_dir, RAW)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _listed(wh: Warehouse) -> list[tuple[str, str, int]]:
    return [tuple(r) for r in wh.con.execute(
        "SELECT file, load_id, rows FROM etl_raw_files ORDER BY written_at, file").fetchall()]


def test_a_write_is_one_file_per_load_listed_and_read_through_the_view(
    settings: Settings, units_csv: Path
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        assert wh.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ? "
            "AND table_catalog = current_database()",
            [RAW.name]).fetchone() == ("VIEW",)
        assert _hashes(wh.con) == []
        frame = pl.concat([_raw("a1", "a2").with_columns(load_id=pl.lit("LA")),
                           _raw("b1").with_columns(load_id=pl.lit("LB"))])
        assert wh.write(RAW, frame).inserted == 3
        assert _hashes(wh.con) == ["a1", "a2", "b1"]
        listed = _listed(wh)
        assert sorted((load, rows) for _, load, rows in listed) == [("LA", 2), ("LB", 1)]
        assert [p.name for p in _files(settings)] == sorted(f for f, _, _ in listed)
        # personal data never reaches a file: masked as in the main DuckDB file
        stored = pl.read_parquet(_files(settings))
        assert stored["ChuHoSo"].null_count() == 3
        assert stored["MaHoSo"].sort().to_list() == ["Da1", "Da2", "Db1"]
        assert wh.query(f"SELECT ChuHoSo FROM personal.{RAW.name} ORDER BY ALL"
                        ).to_series().to_list() == ["Chủ a1", "Chủ a2", "Chủ b1"]
        # the declared columns, in order, whatever the file holds
        assert wh.query(f"SELECT * FROM {RAW.name} LIMIT 0").columns == RAW.column_names


def test_versions_already_kept_are_not_written_again(settings: Settings, units_csv: Path) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(RAW, _raw("r1", "r2"), "L1")
        assert wh.write(RAW, _raw("r1", "r2"), "L2").inserted == 0
        assert wh.write(RAW, _raw("r2", "r3"), "L3").inserted == 1
        assert _hashes(wh.con) == ["r1", "r2", "r3"]
        assert [(load, rows) for _, load, rows in _listed(wh)] == [("L1", 2), ("L3", 1)]
        assert len(_files(settings)) == 2


def test_a_rolled_back_write_lists_nothing_and_its_file_goes_at_the_next_open(
    settings: Settings, units_csv: Path
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(RAW, _raw("kept"), "L1")
        with pytest.raises(RuntimeError, match="boom"), wh.transaction():
            wh.write(RAW, _raw("lost"), "L2")
            raise RuntimeError("boom")
        assert _hashes(wh.con) == ["kept"]
        assert len(_files(settings)) == 2  # the rolled-back write's file, listed nowhere
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        assert _hashes(wh.con) == ["kept"]
        assert [p.name for p in _files(settings)] == [f for f, _, _ in _listed(wh)]


def test_an_undone_load_is_unlisted_then_removed(settings: Settings, units_csv: Path) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(RAW, _raw("r1"), "L1")
        wh.write(RAW, _raw("r2", "r3"), "L2")
        with wh.transaction():
            raw_files.drop_load(wh.con, RAW, wh.raw_root, "L2")
        assert _hashes(wh.con) == ["r1"]
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        assert [load for _, load, _ in _listed(wh)] == ["L1"]
        assert len(_files(settings)) == 1


def test_the_snapshot_reads_the_files_of_its_publish_in_safe_mode(
    settings: Settings, units_csv: Path
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(RAW, _raw("r1", "r2"), "L1")
        wh.publish()
        wh.write(RAW, _raw("r3"), "L2")  # committed, not published
        assert _hashes(wh.con) == ["r1", "r2", "r3"]
    con = open_snapshot(settings)
    try:
        assert run_query(con, f"SELECT row_hash FROM {RAW.name} ORDER BY 1"
                         ).to_series().to_list() == ["r1", "r2"]
        with pytest.raises(duckdb.Error):  # the raw folder is the one left readable
            con.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
    finally:
        con.close()


def test_a_raw_table_of_an_earlier_version_moves_to_files(settings: Settings,
                                                          units_csv: Path) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        con.execute("BEGIN")
        ensure_schema(con, ALL_TABLES)  # without raw_root: every table in DuckDB's storage
        con.execute("COMMIT")
        con.execute(f"INSERT INTO {RAW.name} (MaHoSo, load_id, row_hash) VALUES "
                    "('D1', 'L1', 'h1'), ('D2', 'L1', 'h2'), ('D3', 'L2', 'h3')")
    finally:
        con.close()
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        assert _hashes(wh.con) == ["h1", "h2", "h3"]
        assert sorted((load, rows) for _, load, rows in _listed(wh)) == [("L1", 2), ("L2", 1)]
        assert wh.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ? "
            "AND table_catalog = current_database()",
            [RAW.name]).fetchone() == ("VIEW",)
        wh.write(RAW, _raw("h3", "h4"), "L3")  # the moved versions are still decided on
        assert _hashes(wh.con) == ["h1", "h2", "h3", "h4"]


def test_a_column_declared_after_a_file_was_written_reads_null(tmp_path: Path) -> None:
    older = tmp_path / RAW.name / "old.parquet"
    older.parent.mkdir(parents=True)
    pl.DataFrame({"MaHoSo": ["D1"], "row_hash": ["h1"], "load_id": ["L1"]}).write_parquet(older)
    newer = tmp_path / RAW.name / "new.parquet"
    full = pl.DataFrame({c: [None] for c in RAW.column_names}, schema=RAW.polars_schema())
    full.with_columns(MaHoSo=pl.lit("D2"), row_hash=pl.lit("h2")).write_parquet(newer)
    con = duckdb.connect()
    con.execute(raw_files.view_sql(RAW, tmp_path, [("old.parquet", ["MaHoSo", "row_hash", "load_id"]),
                                                   ("new.parquet", RAW.column_names)]))
    assert con.execute(f"SELECT MaHoSo, row_hash, load_id FROM {RAW.name} ORDER BY 1").fetchall() == [
        ("D1", "h1", "L1"), ("D2", "h2", None)]
    con.execute(raw_files.view_sql(RAW, tmp_path, [("old.parquet", ["MaHoSo", "row_hash", "load_id"])]))
    assert con.execute(f"SELECT MaHoSo, TenTTHC FROM {RAW.name}").fetchall() == [("D1", None)]
