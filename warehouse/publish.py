"""Publishing the readers' snapshot: a byte copy of the checkpointed main file, atomic rename.

DuckDB never shares a file between a writer and readers, so readers get their own copy. The
main warehouse file holds no personal data by construction (``warehouse.personal``): the
personal-data columns are always NULL there, their values live in ``personal.duckdb`` (never
published), and personal values quoted in reasons and messages were masked when written. So the
snapshot is the main file itself: record ``etl_snapshot``, CHECKPOINT (everything in the file,
the WAL empty), copy the bytes to a temporary file next to the published one, fsync, rename.
Publishing costs one sequential file copy, whatever the number of rows loaded since the last one;
nothing is re-encoded.

A reader that has the old file open keeps reading the old inode; a new reader sees the whole new
load. The snapshot is readable by the group (0640, folder 0750: ``warehouse.permissions``); the
private file it was copied from stays 0600.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from cchc.config import utc_now
from warehouse.permissions import PUBLISHED_DIR_MODE, publish_modes
from warehouse.personal import COMPANIONS

SNAPSHOT_TABLE = "etl_snapshot"


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
    """Copy the committed state of ``con``'s main database (file ``source``) to ``target``.

    ``con`` is the writer's connection (the caller holds the writer lock, no open transaction):
    nothing writes the file between the CHECKPOINT and the end of the copy.
    """
    target.parent.mkdir(mode=PUBLISHED_DIR_MODE, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    record_snapshot(con)
    con.execute("CHECKPOINT")  # the main database only: personal.duckdb is never published
    try:
        shutil.copyfile(source, tmp)  # copy_file_range/sendfile on Linux
        publish_modes(tmp, target.parent)  # 0640 for the analysts' group, before the rename
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
