"""A load that prepares several parts at once (``[ingest] preparing_threads``) writes exactly
what a load preparing one at a time writes: the same rows in every table, the same exact
duplicates (the first copy in file order kept), the same counts and reasons."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from cchc import pipeline
from cchc.config import IngestSettings, Settings, load_settings
from sources.registry import source
from warehouse.writer import Warehouse

SPEC = source("onestop")


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "dossiers.csv"
    subprocess.run([sys.executable, "-m", "cchc.cli", "simulate", "export", "--scenario", "scale",
                    "--dossiers", "3000", "--out", str(out)], check=True, capture_output=True)
    return out


def _settings(root: Path, threads: int) -> Settings:
    base = load_settings(root / "none.toml", env={"CCHC_DATA_DIR": str(root / f"t{threads}")})
    return replace(base, chunk_rows=300, ingest=IngestSettings(preparing_threads=threads))


def _load(settings: Settings, path: Path) -> tuple[pipeline.LoadSummary, dict[str, list]]:
    batch = pipeline.stage_file(settings, path, hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(batch.parts) > 10
    summary = pipeline.load_batch(settings, batch)
    tables = {}
    with Warehouse.open(settings) as wh:
        for table in (SPEC.raw_table, SPEC.core_table, SPEC.quarantine_table):
            cols = [c for c in table.column_names if c != "load_id"]
            tables[table.name] = wh.con.execute(
                f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY ALL").fetchall()
    return summary, tables


def test_two_preparing_threads_write_what_one_writes(tmp_path: Path, export: Path) -> None:
    one, one_tables = _load(_settings(tmp_path, 1), export)
    two, two_tables = _load(_settings(tmp_path, 3), export)
    assert one.status == two.status == "succeeded"
    assert one.rows_duplicate > 0 and one.rows_quarantined > 0  # the scenario has both
    for field in ("rows_in", "rows_duplicate", "rows_loaded", "rows_quarantined", "rows_warned",
                  "rows_new_versions", "core_inserted", "core_updated", "quarantine_reasons",
                  "warning_reasons", "notes"):
        assert getattr(one, field) == getattr(two, field), field
    for name, rows in one_tables.items():
        assert rows == two_tables[name], name
        assert rows, name
    # the raw versions carry their source row: the copy of a duplicated row that was kept
    # (the first in the file) is the same, whatever thread got there first
    assert "source_row" in SPEC.raw_table.column_names


def test_preparing_threads_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="preparing_threads"):
        IngestSettings(preparing_threads=0)


def test_duckdb_writes_with_the_threads_the_preparing_ones_leave(tmp_path: Path, export: Path,
                                                                 monkeypatch) -> None:
    """While parts are prepared beside the writes, DuckDB works with ``duckdb_threads`` minus
    the preparing threads (at least one); the last part, with nothing prepared beside it, and
    what follows the parts get all of them."""
    seen: list[int] = []
    after: list[int] = []
    write_part = pipeline._write_part
    check_moved = pipeline._check_moved_due_dates

    def threads(wh) -> int:
        return int(wh.con.execute("SELECT current_setting('threads')").fetchone()[0])

    def noting_write(wh, planned, s, clock):
        seen.append(threads(wh))
        write_part(wh, planned, s, clock)

    def noting_check(wh, spec, s):
        after.append(threads(wh))
        check_moved(wh, spec, s)

    monkeypatch.setattr(pipeline, "_write_part", noting_write)
    monkeypatch.setattr(pipeline, "_check_moved_due_dates", noting_check)
    settings = replace(_settings(tmp_path, 1), duckdb_threads=3)
    assert pipeline.writing_threads(settings) == 2
    summary, _ = _load(settings, export)
    assert summary.status == "succeeded"
    assert len(seen) > 10 and set(seen[:-1]) == {2} and seen[-1] == 3
    assert after == [3]
    crowded = replace(settings, ingest=IngestSettings(preparing_threads=4))
    assert pipeline.writing_threads(crowded) == 1
    assert pipeline.writing_threads(crowded, preparing=False) == 3
