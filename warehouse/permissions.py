"""File permissions of what the pipeline keeps under ``data/`` (docs/security.md).

The private files are the service user's alone: the writer runs with umask 077 and
:func:`secure_private` (called by ``warehouse.writer.connect`` before the file is opened) sets
``data/warehouse/`` and ``data/staging/`` (and everything under them: the warehouse file,
``personal.duckdb``, their WAL and temporary files, the writer lock, staged parts) to 0700
directories and 0600 files. Files DuckDB creates later (a WAL, spill files) inherit the umask.

The published snapshot is for the analysts' group: :data:`PUBLISHED_FILE_MODE` 0640 on the file
(set on the temporary copy before the atomic rename, so the group never sees another mode) and
:data:`PUBLISHED_DIR_MODE` 0750 on ``data/published/``. The group is whatever group owns the
folder (``chgrp analysts data/published`` plus the setgid bit is the usual set-up); "other"
gets nothing.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

from cchc.config import Settings

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PUBLISHED_DIR_MODE = 0o750
PUBLISHED_FILE_MODE = 0o640


def private_dirs(settings: Settings, path: Path | None = None) -> list[Path]:
    """The folders only the service user may enter: the warehouse's and the staging folder."""
    from warehouse.personal import personal_path

    dirs = [(path or settings.warehouse_path).parent, personal_path(settings).parent,
            settings.staging_dir]  # fmt: skip
    return list(dict.fromkeys(dirs))


def _chmod(path: Path, mode: int) -> None:
    with suppress(FileNotFoundError):  # a staged part removed by another process meanwhile
        if stat.S_IMODE(path.lstat().st_mode) != mode and not path.is_symlink():
            path.chmod(mode)


def restrict_tree(root: Path) -> None:
    """``root`` and every folder under it 0700, every file 0600 (symlinks left alone)."""
    _chmod(root, PRIVATE_DIR_MODE)
    for here, dirs, files in os.walk(root):
        for name in dirs:
            _chmod(Path(here, name), PRIVATE_DIR_MODE)
        for name in files:
            _chmod(Path(here, name), PRIVATE_FILE_MODE)


def secure_private(settings: Settings, path: Path | None = None) -> None:
    """umask 077 for this (writer) process; the private folders created 0700 if missing and
    brought to 0700/0600 with everything in them if not."""
    os.umask(PRIVATE_UMASK)
    for folder in private_dirs(settings, path):
        if folder.exists():
            restrict_tree(folder)
    (path or settings.warehouse_path).parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True,
                                                   exist_ok=True)  # fmt: skip


def publish_modes(tmp_file: Path, folder: Path) -> None:
    """The snapshot's modes: the file (not yet renamed into place) 0640, its folder 0750."""
    tmp_file.chmod(PUBLISHED_FILE_MODE)
    folder.chmod(PUBLISHED_DIR_MODE)
