"""Write the dashboard page beside the published snapshot, atomically, after every publish.

The page is ``dashboard.html`` in the snapshot's folder (``data/published/``), mode 0640 like
the snapshot (``warehouse.permissions``): a temporary file in the same folder, fsync, then an
atomic rename, so a reader (a browser, ``cchc serve``) sees the old page or the new one, never
half of one. :func:`refresh_after_publish` is what the pipeline calls: it never raises, because a
page that cannot be drawn must not fail a load that succeeded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from pathlib import Path

from cchc.config import Settings

log = logging.getLogger("cchc.dashboard")

DASHBOARD_FILE = "dashboard.html"
NOT_PUBLISHED = ("Chưa có số liệu: kho dữ liệu chưa được công bố lần nào. Trang này sẽ có số "
                 "liệu sau lần nạp đầu tiên (cchc run, cchc ingest hoặc cchc demo).")


def dashboard_path(settings: Settings) -> Path:
    """Where the page lives: beside the published snapshot."""
    return settings.published_path.parent / DASHBOARD_FILE


def build_page(settings: Settings, snapshot: Path | None = None) -> str:
    """The page's HTML from the published snapshot (read-only); a page saying there is no data
    yet when nothing has been published."""
    from cchc.dashboard.data import read_dashboard_data
    from cchc.dashboard.page import render_page
    from warehouse.reader import SnapshotMissing, open_snapshot

    snapshot = snapshot or settings.published_path
    try:
        con = open_snapshot(settings, snapshot)
    except SnapshotMissing:
        return render_page(None, message=NOT_PUBLISHED)
    try:
        data = read_dashboard_data(con, settings, snapshot=snapshot)
    finally:
        con.close()
    message = None if data.has_data else (
        "Kho dữ liệu đã công bố nhưng chưa có hồ sơ hay văn bản nào: các mục dưới đây sẽ có số "
        "liệu sau lần nạp đầu tiên có dữ liệu.")
    return render_page(data, message=message, snapshot=snapshot)


STALE_TEMP_S = 600.0  # a temporary page this old was left by a process that died


def remove_stale_temporaries(path: Path, now: float | None = None) -> None:
    """Temporary pages a killed process left beside ``path`` (never one being written now)."""
    now = time.time() if now is None else now
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > STALE_TEMP_S:
                tmp.unlink()


def write_atomically(path: Path, content: str) -> None:
    """``content`` to ``path`` through a temporary file in the same folder: mode as the
    snapshot's (0640), fsync, rename."""
    from warehouse.permissions import PUBLISHED_FILE_MODE

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.chmod(PUBLISHED_FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_dashboard(settings: Settings, path: Path | None = None) -> Path:
    """Draw the page from the current snapshot and write it; returns its path."""
    path = path or dashboard_path(settings)
    write_atomically(path, build_page(settings))
    return path


def refresh_after_publish(settings: Settings) -> float | None:
    """Rewrite the page after a publish; returns the seconds it took, or None when it failed
    (logged, never raised: the load it follows has succeeded)."""
    started = time.perf_counter()
    try:
        path = write_dashboard(settings)
    except Exception:
        log.exception("the dashboard could not be written (the load itself succeeded)")
        return None
    elapsed = time.perf_counter() - started
    log.info("dashboard written in %.2f s: %s", elapsed, path)
    return elapsed
