"""The work items' load path (``cchc.prepared``, ``cchc.work_items``) without Prefect: the split
of a scope folder, a load prepared outside the writer equal to the plain load, and on the lake
one transaction per load (a load stopped between two parts leaves no part in the lake)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cchc import pipeline, prepared, work_items
from cchc.config import Settings, WarehouseSettings, load_settings
from sources.registry import source
from warehouse import lake
from warehouse.reader import open_snapshot
from warehouse.writer import Warehouse


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "d24079.csv"
    subprocess.run([sys.executable, "-m", "cchc.cli", "simulate", "export", "--scenario", "scale",
                    "--dossiers", "2000", "--units", "3", "--unit", "24079", "--out", str(out)],
                   check=True, capture_output=True)
    return out


def _settings(root: Path, backend: str) -> Settings:
    base = load_settings(root / "none.toml", env={"CCHC_DATA_DIR": str(root / backend)})
    return replace(base, chunk_rows=200, warehouse=WarehouseSettings(backend=backend))


def _stage(settings: Settings, path: Path) -> pipeline.StagedBatch:
    return pipeline.stage_file(settings, path, hashlib.sha256(path.read_bytes()).hexdigest())


def _published(settings: Settings) -> tuple:
    from warehouse.form06 import form06

    con = open_snapshot(settings)
    try:
        core = source("onestop").core_table.name
        rows = con.execute(f"SELECT count(*) FROM {core}").fetchone()[0]
        loads = con.execute(
            "SELECT status, rows_in, rows_duplicate, rows_loaded, rows_quarantined, rows_warned, "
            "core_inserted FROM etl_loads WHERE source_system = 'onestop'").fetchall()
        return rows, loads, form06(con, date(2020, 1, 1), date(2023, 12, 31))
    finally:
        con.close()


def test_a_scope_folder_is_one_work_item_per_district_folder(tmp_path: Path) -> None:
    for name in ("d2", "d1", "empty"):
        (tmp_path / name).mkdir()
    (tmp_path / "d1" / "b.xlsx").write_bytes(b"x")
    (tmp_path / "d1" / "a.csv").write_text("x")
    (tmp_path / "d1" / "notes.txt").write_text("x")
    (tmp_path / "d2" / "c.CSV").write_text("x")
    (tmp_path / "stray.csv").write_text("x")
    items = work_items.work_items(tmp_path)
    assert [(i.name, [Path(f).name for f in i.files]) for i in items] == [
        ("d1", ["a.csv", "b.xlsx"]), ("d2", ["c.CSV"])]
    with pytest.raises(FileNotFoundError, match="scope folder"):
        work_items.work_items(tmp_path / "missing")


@pytest.mark.slow  # ~10 s beyond the warm-up the others share; the two-worker test checks it too
def test_a_prepared_load_writes_what_the_plain_load_writes(tmp_path: Path, export: Path) -> None:
    plain = _settings(tmp_path, "duckdb")
    assert pipeline.load_batch(plain, _stage(plain, export)).status == "succeeded"
    pipeline.publish(plain)

    lake_settings = _settings(tmp_path, "ducklake")
    batch = _stage(lake_settings, export)
    assert prepared.prepare_batch(lake_settings, batch) is None  # nothing published yet
    with Warehouse.open(lake_settings) as wh:
        wh.publish()
    ready = prepared.prepare_batch(lake_settings, batch)
    assert ready is not None and len(ready.parts) == len(batch.parts) > 1
    summary = pipeline.load_prepared(lake_settings, ready)
    assert summary.status == "succeeded" and summary.balanced
    with Warehouse.open(lake_settings) as wh:
        wh.publish()

    rows, loads, form = _published(plain)
    rows2, loads2, form2 = _published(lake_settings)
    assert rows2 == rows > 0
    assert loads2 == loads
    assert form2.equals(form)


def test_on_the_lake_a_load_stopped_between_parts_leaves_no_part(
        tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, "ducklake")
    with Warehouse.open(settings) as wh:
        wh.publish()
    ready = prepared.prepare_batch(settings, _stage(settings, export))
    assert ready is not None and len(ready.parts) > 1
    written = []
    real_write = pipeline._write_part

    def write_then_die(*args, **kwargs):
        if written:
            raise SystemExit("killed")  # not an Exception: no undo runs, as with a kill
        written.append(real_write(*args, **kwargs))

    monkeypatch.setattr(pipeline, "_write_part", write_then_die)
    with pytest.raises(SystemExit):
        pipeline.load_prepared(settings, ready)
    assert len(written) == 1  # the first part was written inside the load's transaction
    con = lake.connect_writer(settings)  # the lake's head, not the published snapshot
    try:
        core = source("onestop").core_table.name
        assert con.execute(f"SELECT count(*) FROM {core}").fetchone()[0] == 0
        assert con.execute("SELECT status FROM etl_loads WHERE source_system = 'onestop'"
                           ).fetchall() == [("running",)]
    finally:
        con.close()
