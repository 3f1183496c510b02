"""A file still open for writing is not complete, however long its writer pauses (issue: a CSV
written in two halves 6 s apart was loaded half and archived while being written)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_inbox_watcher import CSV, until, watching

from cchc import inbox
from cchc.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "data")
    s.inbox_dir.mkdir(parents=True)
    return s


def test_a_file_written_in_two_halves_6_s_apart_is_announced_only_when_closed(settings) -> None:
    target = settings.inbox_dir / "halves.csv"

    async def scenario(watcher, rec) -> None:
        with target.open("wb") as fh:
            fh.write(CSV * 50)
            fh.flush()
            await asyncio.sleep(6)  # longer than every settle time: still open, not complete
            assert rec.arrived() == []
            fh.write(CSV * 50)
        await until(lambda: rec.arrived() == ["halves.csv"])

    rec = watching(settings, scenario, settle_s=0.5, busy_settle_s=2.0)
    assert rec.events[0][2]["size"] == 100 * len(CSV)


def test_open_for_writing_sees_a_writer_and_not_a_reader(tmp_path) -> None:
    path = tmp_path / "x.csv"
    with path.open("wb") as fh:
        fh.write(CSV)
        assert inbox.open_for_writing(path)
    with path.open("rb"):
        assert not inbox.open_for_writing(path)
    assert not inbox.open_for_writing(path)
    with path.open("ab"):  # the fallback that reads /proc (used when a lease is not allowed)
        assert inbox._written_by_a_visible_process(path)
    assert not inbox._written_by_a_visible_process(path)
