"""Publishing the readers' snapshot: the checkpointed main file's state, atomic rename.

DuckDB never shares a file between a writer and readers, so readers get their own copy. The
main warehouse file holds no personal data by construction (``warehouse.personal``): the
personal-data columns are always NULL there, their values live in ``personal.duckdb`` (never
published), and personal values quoted in reasons and messages were masked when written. So the
snapshot is the main file itself: record ``etl_snapshot``, CHECKPOINT (everything in the file,
the WAL empty), copy the bytes to a temporary file next to the published one, fsync, rename.
A first publish copies the file; later ones bring the snapshot before last up to date instead
(``warehouse.snapshot_spare``), so their cost follows the rows loaded since, not the warehouse's
size, and they fall back to the copy whenever that is not safe.

A reader that has the old file open keeps reading the old inode; a new reader sees the whole new
load. The snapshot is readable by the group (0640, folder 0750: ``warehouse.permissions``); the
private file it was copied from stays 0600.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import duckdb

from cchc.config import utc_now
from warehouse import snapshot_spare
from warehouse.permissions import PRIVATE_FILE_MODE, PUBLISHED_DIR_MODE, publish_modes
from warehouse.personal import COMPANIONS

log = logging.getLogger(__name__)

SNAPSHOT_TABLE = "etl_snapshot"
# How a publish made the snapshot (logged at INFO).
UPDATED = "published: the snapshot before last brought up to date"
COPIED = "published: the warehouse file copied"


def redacted_columns() -> list[str]:
    """``table.column`` of every personal-data column: NULL in the main file and the snapshot."""
    return [f"{name}.{c}" for name, comp in COMPANIONS.items() for c in comp.pii_columns]


def record_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    """Write ``etl_snapshot`` (when, which columns are redacted) in its own transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {SNAPSHOT_TABLE} AS SELECT ?::TIMESTAMPTZ AS published_at, "
            "?::VARCHAR[] AS redacted_columns",
            [utc_now(), redacted_columns()],
        )
        con.execute(
            f"COMMENT ON TABLE {SNAPSHOT_TABLE} IS 'When this snapshot was published, and which "
            "personal-data columns are always empty in it (their values are never published).'"
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def build_snapshot(con: duckdb.DuckDBPyConnection, source: Path, target: Path) -> Path:
    """Publish the committed state of ``con``'s main database (file ``source``) at ``target``:
    the snapshot before last brought up to date where possible (``warehouse.snapshot_spare``),
    else a byte copy of the file; the replaced snapshot is kept as the next spare.

    ``con`` is the writer's connection (the caller holds the writer lock, no open transaction):
    nothing writes the file between the CHECKPOINT and the end of the copy.
    """
    target.parent.mkdir(mode=PUBLISHED_DIR_MODE, parents=True, exist_ok=True)
    record_snapshot(con)
    con.execute("CHECKPOINT")  # the main database only: personal.duckdb is never published
    new = snapshot_spare.update(con, source)
    if new is not None:
        try:
            _put_in_place(new, target, source)
            log.info(UPDATED)
            return target
        except OSError as exc:  # e.g. data/published on another file system than the warehouse
            log.info("publish: the updated snapshot cannot be moved into place (%s): copied", exc)
            snapshot_spare.discard(source)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        shutil.copyfile(source, tmp)  # copy_file_range/sendfile on Linux
        _put_in_place(tmp, target, source)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info(COPIED)
    return target


def _put_in_place(new: Path, target: Path, source: Path) -> None:
    """``new`` renamed to ``target`` (modes first, flushed), the snapshot it replaces kept
    as the next spare, in the private folder."""
    publish_modes(new, target.parent)  # 0640 for the analysts' group, before the rename
    _fsync(new)
    spare = snapshot_spare.spare_path(source)
    for stale in spare.parent.glob(f".{spare.name}.*.next"):  # a publish killed midway
        stale.unlink(missing_ok=True)
    kept = spare.with_name(f".{spare.name}.{os.getpid()}.next")
    try:
        os.link(target, kept)  # the current snapshot, before it is replaced
    except OSError:  # none yet, or links not possible here: no spare
        kept = None
    try:
        os.replace(new, target)
    except BaseException:
        if kept is not None:
            kept.unlink(missing_ok=True)
        raise
    _fsync(target.parent)
    if kept is None:
        snapshot_spare.discard(source)
    else:
        os.replace(kept, spare)
        os.chmod(spare, PRIVATE_FILE_MODE)  # readers who still hold it keep reading it
    _fsync(spare.parent)
