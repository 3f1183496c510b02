"""Staging folders: where a batch waits on disk between its stage and its load.

Each batch gets a fresh folder under ``data/staging`` with its parquet parts, the batch's
description (``batch.json``, so an interrupted load can be finished from it), the id of the load
reading it (``load.json``) and the process working on it (``owner.json``: pid and start time, so
a reused pid is not taken for the owner). Folders whose owner is gone and that no unfinished load
needs are removed at the next writer open.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cchc.config import Settings

log = logging.getLogger(__name__)

MANIFEST = "batch.json"  # the StagedBatch, written once staging is complete
LOAD_FILE = "load.json"  # the load id of the load that reads this batch
OWNER_FILE = "owner.json"  # the process that stages or loads this batch


@dataclass
class StagedBatch:
    """A batch on disk, ready to load: what a flow passes from the stage step to the load step."""

    system: str  # the source system (sources.registry)
    kind: str  # "pull" or "file"
    source: str  # the API window or the file path
    parts: list[str]
    rows: int
    reported_total: int | None = None  # pull: the API's total; file: "Tổng số: N hồ sơ"
    window_from: str | None = None  # ISO UTC, pulls only
    window_to: str | None = None
    file_sha256: str | None = None
    notes: list[str] = field(default_factory=list)
    fields_seen: list[str] | None = None  # raw fields the source sent (None: not known)


def _process_token(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux /proc), so a reused pid is not taken for it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def _alive(owner: dict) -> bool:
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    token = owner.get("token")
    return token is None or _process_token(pid) == token


def claim(folder: Path) -> None:
    """Record this process as the one working on a staging folder."""
    (folder / OWNER_FILE).write_text(json.dumps({"pid": os.getpid(),
                                                 "token": _process_token(os.getpid())}))


def new_staging_dir(settings: Settings, label: str) -> Path:
    """A fresh folder under data/staging for one batch, claimed by this process."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = settings.staging_dir / f"{stamp}-{label}"
    path.mkdir(parents=True, exist_ok=False)
    claim(path)
    return path


def staging_folder(batch: StagedBatch) -> Path | None:
    return Path(batch.parts[0]).parent if batch.parts else None


def write_manifest(batch: StagedBatch) -> StagedBatch:
    """Keep the batch's description beside its parts: an interrupted load is finished from it."""
    folder = staging_folder(batch)
    if folder is not None:
        tmp = folder / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(asdict(batch), ensure_ascii=False))
        os.replace(tmp, folder / MANIFEST)
    return batch


def staged_batch_of(settings: Settings, load_id: str) -> StagedBatch | None:
    """The staged batch an (interrupted) load was reading, if its parts are all still there."""
    if not settings.staging_dir.is_dir():
        return None
    for folder in settings.staging_dir.iterdir():
        try:
            if json.loads((folder / LOAD_FILE).read_text()).get("load_id") != load_id:
                continue
            batch = StagedBatch(**json.loads((folder / MANIFEST).read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if batch.parts and all(Path(p).is_file() for p in batch.parts):
            return batch
    return None


def clean_staging(settings: Settings, keep: set[str], *, legacy_age_s: float = 3600.0) -> list[Path]:
    """Remove staging folders no live process works on and no unfinished load needs.

    ``keep``: load ids still unfinished. A folder without an owner file (older versions) is
    removed once it is ``legacy_age_s`` old."""
    removed: list[Path] = []
    if not settings.staging_dir.is_dir():
        return removed

    for folder in settings.staging_dir.iterdir():
        if not folder.is_dir():
            continue
        try:
            owner = json.loads((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            owner = None
        if owner is None:
            try:
                if time.time() - folder.stat().st_mtime < legacy_age_s:
                    continue
            except OSError:
                continue
        elif _alive(owner):
            continue
        try:
            load = json.loads((folder / LOAD_FILE).read_text()).get("load_id")
        except (OSError, ValueError):
            load = None
        if load in keep:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
