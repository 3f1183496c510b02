"""A load is visible whole or not at all (warehouse/README.md, "Loads are visible whole").

Parts commit one by one, so a load that fails or dies half-way has committed some parts. These
tests load a base export A, then an export B of newer versions of the same dossiers in parts of
50 rows, and break B half-way: the warehouse must end as after A alone (undone), or as after a
clean A + B (finished from the staged batch), and the snapshot must never show half of B.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from warehouse_state import FINGERPRINT

from cchc import pipeline
from cchc.config import Settings, load_settings
from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from sources.files import file_sha256
from warehouse.reader import open_snapshot
from warehouse.writer import UnfinishedLoadError, Warehouse, unpublished_marker

pytestmark = pytest.mark.integration

SIM = simulator_options(scenario="scale", dossiers=200, seed=5, unknown_status=3)
PERIOD = dict(date_from=date(2021, 1, 1), date_to=date(2021, 6, 30))



@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    a = export_dossiers(tmp_path / "a.csv", options=SIM, **PERIOD).path
    frame = pl.read_csv(a, infer_schema=False)
    b = tmp_path / "b.csv"
    frame.with_columns(pl.lit("30/06/2021 23:00").alias("Ngày cập nhật")).write_csv(b)
    return a, b


@pytest.fixture
def settings(data_dir: Path, tmp_path: Path) -> Settings:
    (tmp_path / "cchc.toml").write_text("chunk_rows = 50\n", encoding="utf-8")
    s = load_settings()
    assert s.chunk_rows == 50
    return s


def _load(settings: Settings, path: Path) -> pipeline.LoadSummary:
    batch = pipeline.stage_file(settings, path, file_sha256(path))
    summary = pipeline.load_batch(settings, batch)
    pipeline.cleanup(batch)  # as the flows do once a load succeeded
    return summary


def _private(settings: Settings) -> tuple:
    with Warehouse.open(settings, publish_if_stale=False) as wh:
        return wh.con.execute(FINGERPRINT).fetchone()


def _published(settings: Settings) -> tuple:
    con = open_snapshot(settings)
    try:
        return con.execute(FINGERPRINT).fetchone()
    finally:
        con.close()


def _status(settings: Settings, load_id: str) -> str:
    with Warehouse.open(settings, publish_if_stale=False) as wh:
        return wh.con.execute("SELECT status FROM etl_loads WHERE load_id = ?",
                              [load_id]).fetchone()[0]


def _break_third_part(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    real, calls = pipeline._write_part, []

    def write_part(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_write_part", write_part)


# Fingerprints of clean loads, by the loaded files' contents: every test exports the same A
# and B, so the clean reference is built once per module, not once per test.
_CLEAN: dict[tuple[str, ...], tuple] = {}


def _clean(settings: Settings, tmp_path: Path, *paths: Path) -> tuple:
    key = tuple(file_sha256(p) for p in paths)
    if key not in _CLEAN:
        clean = dataclasses.replace(settings, data_dir=tmp_path / "clean-data")
        for p in paths:
            _load(clean, p)
        _CLEAN[key] = _private(clean)
    return _CLEAN[key]


def _only_load(settings: Settings, kind_source: str) -> str:
    with Warehouse.open(settings, publish_if_stale=False) as wh:
        return wh.con.execute("SELECT load_id FROM etl_loads WHERE source = ?",
                              [kind_source]).fetchone()[0]


def test_a_load_that_fails_half_way_is_undone_and_never_published(settings, files, tmp_path,
                                                                 monkeypatch) -> None:
    a, b = files
    _load(settings, a)
    pipeline.publish(settings)
    after_a = _private(settings)
    _break_third_part(monkeypatch, RuntimeError("disk trouble"))
    with pytest.raises(RuntimeError, match="disk trouble"):
        _load(settings, b)
    monkeypatch.undo()
    assert _private(settings) == after_a  # its two committed parts are gone, A's rows are back
    assert _status(settings, _only_load(settings, str(b))) == "failed"
    pipeline.publish(settings)
    assert _published(settings) == after_a
    # Loading it again completes it.
    assert _load(settings, b).status == "succeeded"
    assert _private(settings) == _clean(settings, tmp_path, a, b)


def test_a_load_killed_half_way_is_finished_from_its_staged_batch(settings, files, tmp_path,
                                                                 monkeypatch) -> None:
    a, b = files
    _load(settings, a)
    pipeline.publish(settings)
    after_a = _published(settings)
    _break_third_part(monkeypatch, KeyboardInterrupt())  # dies: nothing runs after it
    with pytest.raises(KeyboardInterrupt):
        _load(settings, b)
    monkeypatch.undo()
    load_id = _only_load(settings, str(b))
    with Warehouse.open(settings, publish_if_stale=False) as wh:  # the next writer
        assert wh.con.execute("SELECT status FROM etl_loads WHERE load_id = ?",
                              [load_id]).fetchone()[0] == "recovered"
        assert wh.load_for_file(file_sha256(b)) == load_id
    assert _published(settings) == after_a  # not published by this open (publish_if_stale off)
    pipeline.publish(settings)
    assert _published(settings) == _private(settings) == _clean(settings, tmp_path, a, b)
    assert not any(settings.staging_dir.iterdir())  # its staging folder is gone once finished


def test_a_load_killed_half_way_without_its_staged_parts_is_undone(settings, files, tmp_path,
                                                                  monkeypatch) -> None:
    a, b = files
    _load(settings, a)
    pipeline.publish(settings)
    after_a = _private(settings)
    _break_third_part(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        _load(settings, b)
    monkeypatch.undo()
    shutil.rmtree(settings.staging_dir)
    load_id = _only_load(settings, str(b))
    assert _status(settings, load_id) == "undone"
    assert _private(settings) == after_a
    assert _published(settings) == after_a


def test_publish_refuses_while_a_load_is_unfinished(settings, files) -> None:
    a, _ = files
    with Warehouse.open(settings) as wh:
        wh.begin_load("onestop", "file", str(a))
        with pytest.raises(UnfinishedLoadError, match="visible whole or not at all"):
            wh.publish()


def test_a_load_committed_but_never_published_is_published_at_the_next_open(settings,
                                                                           files) -> None:
    a, _ = files
    _load(settings, a)  # ... and the process is killed before it publishes
    assert unpublished_marker(settings).exists()
    assert not settings.published_path.exists()
    with Warehouse.open(settings) as wh:  # any writer: the next ingest's "already loaded?"
        assert wh.load_for_file(file_sha256(a))
    assert _published(settings) == _private(settings)
    assert _published(settings)[0] > 0
    assert not unpublished_marker(settings).exists()
