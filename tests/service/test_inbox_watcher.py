"""The inbox watcher, without a server: completion detection, refusals, files present at start."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from cchc.config import Settings
from cchc.service.events import INBOX_FILE_ARRIVED, INBOX_FILE_REFUSED
from cchc.service.inbox_watcher import InboxWatcher

CSV = "Mã hồ sơ,Mã TTHC\n000.00.12.H21-210315-0007,1.001234\n".encode()


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict]] = []

    def __call__(self, event: str, resource: str, payload: dict) -> bool:
        self.events.append((event, resource, payload))
        return True

    def arrived(self) -> list[str]:
        return [p["name"] for e, _, p in self.events if e == INBOX_FILE_ARRIVED]

    def refused(self) -> list[str]:
        return [Path(p["path"]).name for e, _, p in self.events if e == INBOX_FILE_REFUSED]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "data")
    s.inbox_dir.mkdir(parents=True)
    return s


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def watching(settings: Settings, scenario: Callable[[InboxWatcher, Recorder], Awaitable[None]],
             settle_s: float = 0.3, busy_settle_s: float = 1.2) -> Recorder:
    """Run the watcher while ``scenario`` acts on the inbox; return what it emitted."""
    recorder = Recorder()

    async def main() -> None:
        watcher = InboxWatcher(settings, recorder, settle_s=settle_s, busy_settle_s=busy_settle_s,
                               rescan_s=60)
        stop = asyncio.Event()
        task = asyncio.create_task(watcher.run(stop))
        await asyncio.sleep(0.5)  # watching has begun and the start-up scan is done
        try:
            await scenario(watcher, recorder)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)

    asyncio.run(main())
    return recorder


def test_written_then_renamed_is_announced_once_after_the_rename(settings) -> None:
    inbox = settings.inbox_dir

    async def scenario(watcher, rec) -> None:
        (inbox / "export.csv.part").write_bytes(CSV)
        await asyncio.sleep(1.0)
        assert rec.arrived() == []  # a .part file is never complete
        os.rename(inbox / "export.csv.part", inbox / "export.csv")
        await until(lambda: rec.arrived() == ["export.csv"])
        await asyncio.sleep(1.0)  # no second announcement

    rec = watching(settings, scenario)
    assert rec.arrived() == ["export.csv"]
    event, resource, payload = rec.events[0]
    assert resource == "cchc.inbox.file.export.csv"
    assert payload["path"] == str(settings.inbox_dir.resolve() / "export.csv")
    assert payload["size"] == len(CSV)


def test_a_file_still_being_written_waits_until_it_stops_growing(settings) -> None:
    target = settings.inbox_dir / "slow.csv"

    async def scenario(watcher, rec) -> None:
        with target.open("wb") as fh:
            for _ in range(8):  # 1.6 s of writing, longer than the settle time each step
                fh.write(CSV)
                fh.flush()
                await asyncio.sleep(0.2)
                assert rec.arrived() == []
        await until(lambda: rec.arrived() == ["slow.csv"])

    rec = watching(settings, scenario)
    assert rec.events[0][2]["size"] == 8 * len(CSV)


def test_a_copy_that_stalls_longer_than_the_settle_time_is_not_taken_half_written(settings) -> None:
    target = settings.inbox_dir / "stalled.csv"

    async def scenario(watcher, rec) -> None:
        with target.open("wb") as fh:
            fh.write(CSV)
            fh.flush()
            await asyncio.sleep(0.2)
            fh.write(CSV)  # seen growing: a direct, slow writer
            fh.flush()
            await asyncio.sleep(0.8)  # stalls longer than settle_s (0.3), shorter than busy (1.2)
            assert rec.arrived() == []
            fh.write(CSV)
        await until(lambda: rec.arrived() == ["stalled.csv"])

    rec = watching(settings, scenario)
    assert rec.events[0][2]["size"] == 3 * len(CSV)


def test_an_xlsx_is_announced_only_once_it_is_a_complete_zip(settings, tmp_path) -> None:
    import zipfile

    whole = tmp_path / "whole.xlsx"
    with zipfile.ZipFile(whole, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>" * 500)
    data = whole.read_bytes()
    target = settings.inbox_dir / "book.xlsx"

    async def scenario(watcher, rec) -> None:
        target.write_bytes(data[: len(data) // 2])  # the central directory is not there yet
        await asyncio.sleep(2.0)
        assert rec.arrived() == []
        with target.open("ab") as fh:
            fh.write(data[len(data) // 2:])
        await until(lambda: rec.arrived() == ["book.xlsx"])

    watching(settings, scenario)


def test_files_present_at_start_are_picked_up(settings) -> None:
    for name in ("a.csv", "b.csv"):
        (settings.inbox_dir / name).write_bytes(CSV)

    async def scenario(watcher, rec) -> None:
        await until(lambda: sorted(rec.arrived()) == ["a.csv", "b.csv"])

    watching(settings, scenario)


def test_temporary_and_partial_names_are_ignored(settings) -> None:
    names = [".hidden.csv", "~$export.xlsx", "x.csv.tmp", "x.xlsx.crdownload", "notes.txt"]

    async def scenario(watcher, rec) -> None:
        for name in names:
            (settings.inbox_dir / name).write_bytes(CSV)
        await asyncio.sleep(1.5)

    rec = watching(settings, scenario)
    assert rec.events == []


def test_a_symbolic_link_is_refused_and_moved_aside_without_touching_its_target(settings, tmp_path) -> None:
    secret = tmp_path / "outside.csv"
    secret.write_bytes(CSV)

    async def scenario(watcher, rec) -> None:
        (settings.inbox_dir / "link.csv").symlink_to(secret)
        await until(lambda: rec.refused() == ["link.csv"])

    rec = watching(settings, scenario)
    assert rec.arrived() == []
    assert secret.read_bytes() == CSV
    assert not (settings.inbox_dir / "link.csv").exists()
    moved = settings.rejected_dir / "link.csv"
    assert moved.is_symlink()
    assert "symbolic link" in (settings.rejected_dir / "link.csv.reason.txt").read_text()


def test_paths_outside_the_inbox_or_in_subfolders_are_refused(settings, tmp_path) -> None:
    watcher = InboxWatcher(settings, Recorder())
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(CSV)
    assert watcher.refusal(outside) is not None
    assert watcher.refusal(settings.inbox_dir / ".." / "elsewhere.csv") is not None
    sub = settings.inbox_dir / "sub"
    sub.mkdir()
    (sub / "x.csv").write_bytes(CSV)
    assert watcher.refusal(sub / "x.csv") is not None
    (settings.inbox_dir / "ok.csv").write_bytes(CSV)
    assert watcher.refusal(settings.inbox_dir / "ok.csv") is None


def test_files_in_subfolders_are_not_announced(settings) -> None:
    async def scenario(watcher, rec) -> None:
        sub = settings.inbox_dir / "sub"
        sub.mkdir()
        (sub / "x.csv").write_bytes(CSV)
        await asyncio.sleep(1.5)

    assert watching(settings, scenario).events == []


def test_a_file_dropped_again_with_new_content_is_announced_again(settings) -> None:
    target = settings.inbox_dir / "again.csv"

    async def scenario(watcher, rec) -> None:
        target.write_bytes(CSV)
        await until(lambda: rec.arrived() == ["again.csv"])
        target.unlink()  # what the ingest flow does when it archives the file
        await asyncio.sleep(0.5)
        target.write_bytes(CSV + CSV)
        await until(lambda: rec.arrived() == ["again.csv", "again.csv"])

    watching(settings, scenario)


def test_a_rescan_does_not_repeat_announcements(settings) -> None:
    (settings.inbox_dir / "once.csv").write_bytes(CSV)

    async def scenario(watcher, rec) -> None:
        await until(lambda: rec.arrived() == ["once.csv"])
        watcher.scan()
        watcher.scan()
        await asyncio.sleep(1.0)

    assert watching(settings, scenario).arrived() == ["once.csv"]
