"""Turn files completed in the inbox folder into ``cchc.inbox.file.arrived`` events.

A clerk's file is complete when it has its final name and stops changing: browsers and careful
copy tools write ``name.part`` (or a dotfile, ``~$name``) and rename it at the end; others write
the final name directly and close it. So the watcher ignores temporary names, and for any other
name waits until size, mtime and inode hold still for ``settle_s`` (0.25 s) before emitting.
A file seen *growing* (modified events: someone writes the final name directly, e.g. a slow
network copy that may stall) must also have had no write for ``busy_settle_s`` (2 s), and an
``.xlsx`` must be a complete ZIP (its central directory is written last). Timing alone cannot
tell a finished file from a writer that pauses longer than that (a CSV written in two halves
6 s apart), so a file is complete only once no process has it open for writing any more
(``cchc.inbox.open_for_writing``: closed, or renamed in after closing). The flow checks again
that the file did not change between reading and archiving. A trigger on the ingest deployment turns the event into
``ingest_file(path, from_inbox=True)``.

Files already waiting when the service starts are picked up by a scan, and a periodic rescan
catches anything a lost filesystem notification missed. The same file (path, size, mtime,
inode) is announced once; the ingest flow recognises content loaded before in any case.

Symbolic links and anything not directly inside the inbox are refused here (and again by the
flow): a link is moved to ``rejected/`` with a reason, so the clerk sees why nothing happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import zipfile
from pathlib import Path

from cchc import inbox
from cchc.config import Settings
from cchc.service.events import INBOX_FILE_ARRIVED, INBOX_FILE_REFUSED, INBOX_RESOURCE_PREFIX, Emit

log = logging.getLogger(__name__)

FileKey = tuple[int, int, int]  # size, mtime_ns, inode
# How long watchfiles gathers changes before handing them over. A file renamed into the inbox
# (the usual way) is announced after this plus ``settle_s``: ~0.35 s of the drop-to-visible
# time. Writers of the final name are caught by the write-lease check and ``busy_settle_s``.
DEBOUNCE_MS = 100


def _key(st: os.stat_result) -> FileKey:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class InboxWatcher:
    """Watch ``settings.inbox_dir`` (not recursively) and emit one event per completed file."""

    def __init__(self, settings: Settings, emit: Emit, *, settle_s: float = 0.25,
                 busy_settle_s: float = 2.0, max_wait_s: float = 600.0,
                 rescan_s: float = 60.0) -> None:
        self.settings = settings
        self.inbox = settings.inbox_dir.resolve()
        self.emit = emit
        self.settle_s = settle_s
        self.busy_settle_s = busy_settle_s
        self.max_wait_s = max_wait_s
        self.rescan_s = rescan_s
        self._announced: dict[str, FileKey] = {}
        self._last_write: dict[str, float] = {}  # monotonic time of the last "modified" event
        self._settling: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ decisions

    def refusal(self, path: Path) -> str | None:
        """Why ``path`` must not be ingested, or None when it may be."""
        try:
            inbox.checked_inbox_path(self.settings, path)
        except inbox.InboxPathError as exc:
            return str(exc)
        return None

    @staticmethod
    def wanted(path: Path) -> bool:
        """A name that looks like a finished export (not ``.part``, ``~$x``, dotfiles...)."""
        return inbox.is_candidate(path)

    @staticmethod
    def looks_complete(path: Path) -> bool:
        """An ``.xlsx`` is complete once its ZIP central directory is there; others: True."""
        if path.suffix.lower() != ".xlsx":
            return True
        try:
            return zipfile.is_zipfile(path)
        except OSError:
            return False

    # ------------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop`` is set; scan what is already there once watching has begun."""
        from watchfiles import Change, awatch

        self.inbox.mkdir(parents=True, exist_ok=True)
        started = asyncio.Event()

        async def watch() -> None:
            async for changes in awatch(self.inbox, stop_event=stop, recursive=False,
                                        watch_filter=None,
                                        debounce=DEBOUNCE_MS, step=50, yield_on_timeout=True,
                                        rust_timeout=500):
                started.set()
                for change, raw in changes:
                    path = Path(raw)
                    if change == Change.deleted:
                        self._announced.pop(str(path), None)
                        self._last_write.pop(str(path), None)
                        continue
                    if change == Change.modified:
                        self._last_write[str(path)] = time.monotonic()
                    self.consider(path)

        watcher = asyncio.create_task(watch(), name="inbox-watch")
        # awatch yields (empty) on its first timeout once the OS watch is in place.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(started.wait(), timeout=5)
        self.scan()
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.rescan_s)
                if not stop.is_set():
                    self.scan()
        finally:
            await watcher
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def scan(self) -> int:
        """Consider every file in the inbox now; return how many were looked at."""
        try:
            entries = sorted(self.inbox.iterdir(), key=lambda p: p.lstat().st_mtime_ns)
        except FileNotFoundError:
            return 0
        for path in entries:
            self.consider(path)
        return len(entries)

    def consider(self, path: Path) -> None:
        """Start settling ``path`` unless it is ignored, already settling or announced."""
        if not self.wanted(path) or str(path) in self._settling:
            return
        try:
            st = path.lstat()
        except FileNotFoundError:
            self._announced.pop(str(path), None)
            return
        if self._announced.get(str(path)) == _key(st):
            return
        self._settling.add(str(path))
        task = asyncio.get_running_loop().create_task(self._settle(path))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, path: Path) -> None:
        try:
            key = await self.wait_complete(path)
            if key is None or self._announced.get(str(path)) == key:
                return
            reason = self.refusal(path)
            if reason is not None:
                self._refuse(path, reason)
                return
            self._announce(path, key)
        except Exception:  # a watcher must outlive any one file
            log.exception("inbox: could not handle %s", path)
        finally:
            self._settling.discard(str(path))

    async def wait_complete(self, path: Path) -> FileKey | None:
        """Wait until ``path`` looks complete (module docstring); None if it went away."""
        start = time.monotonic()
        try:
            before = _key(path.lstat())
            while True:
                await asyncio.sleep(self.settle_s)
                now = _key(path.lstat())
                if now != before:
                    before = now
                    continue
                quiet = time.monotonic() - self._last_write.get(str(path), float("-inf"))
                if quiet < self.busy_settle_s:
                    continue
                if inbox.open_for_writing(path):
                    continue  # still being written, however long the writer pauses
                if not self.looks_complete(path) and time.monotonic() - start < self.max_wait_s:
                    continue  # after max_wait_s the flow gets it, and says why it is unreadable
                return now
        except FileNotFoundError:
            return None

    def _announce(self, path: Path, key: FileKey) -> None:
        payload = {"path": str(path), "name": path.name, "size": key[0]}
        if self.emit(INBOX_FILE_ARRIVED, INBOX_RESOURCE_PREFIX + path.name, payload):
            self._announced[str(path)] = key
            log.info("inbox: %s arrived (%d bytes)", path.name, key[0])
        else:
            log.error("inbox: could not emit the arrival of %s; will retry on the next scan", path)

    def _refuse(self, path: Path, reason: str) -> None:
        log.warning("inbox: refused %s: %s", path, reason)
        self.emit(INBOX_FILE_REFUSED, INBOX_RESOURCE_PREFIX + path.name,
                  {"path": str(path), "reason": reason})
        if path.is_symlink():
            with contextlib.suppress(OSError):
                inbox.reject(self.settings, path, reason)  # moves the link, never its target
