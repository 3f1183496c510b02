"""One writer at a time across processes: a lock file next to the private DuckDB file.

DuckDB itself never waits for its file lock: a second writer would fail at once with "Could not
set lock on file". The lock file makes a second writer wait (up to a timeout) and then fail with
a message that says who holds it. ``is_singleton`` makes the lock re-entrant inside a process,
so ``publish`` can run while ``Warehouse.open`` holds it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


class WarehouseBusy(RuntimeError):
    """Another process kept the writer lock longer than we were willing to wait."""


def lock_path(warehouse_path: Path) -> Path:
    return warehouse_path.with_name(warehouse_path.name + ".lock")


def _owner_path(warehouse_path: Path) -> Path:
    return warehouse_path.with_name(warehouse_path.name + ".lock.owner")


def _describe_owner(warehouse_path: Path) -> str:
    try:
        return _owner_path(warehouse_path).read_text(encoding="utf-8").strip()
    except OSError:
        return "unknown process"


@contextmanager
def writer_lock(warehouse_path: Path, timeout_s: float) -> Iterator[None]:
    """Hold the writer lock of ``warehouse_path``; wait at most ``timeout_s`` seconds."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path(warehouse_path), is_singleton=True)
    outermost = not lock.is_locked
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        raise WarehouseBusy(
            f"another process is writing the warehouse {warehouse_path} "
            f"({_describe_owner(warehouse_path)}); waited {timeout_s:g} s for {lock.lock_file}"
        ) from None
    try:
        if outermost:
            _owner_path(warehouse_path).write_text(
                f"pid {os.getpid()} on {socket.gethostname()} since "
                f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n",
                encoding="utf-8",
            )
        yield
    finally:
        lock.release()
