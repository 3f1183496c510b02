"""The raw layer kept as immutable Parquet files, each raw-versions table a view over them.

Why: the raw layer is append-only, read rarely (audit, the moved-due-date check, undoing a
load) and never updated, and writing it through DuckDB's own storage was the largest cost of a
bulk load: ≈ 1.9 CPU s to take 250,000 rows of 27 text columns (string copies, compression
analysis), where polars writes the same rows to a zstd Parquet file in ≈ 0.4 s
(docs/performance.md). Tables declared with ``files=True`` (``warehouse.layers``) are kept so
on the ``duckdb`` backend; on ``ducklake`` every table is Parquet already and nothing here runs.

- **Layout.** ``data/raw/<table>/<load_id>-<random>.parquet``: one file per write and load,
  never changed once written. ``etl_raw_files`` lists the files that count.
- **Visible at commit.** The table's name is a view over exactly the listed files, replaced in
  the writing transaction: a file counts from the commit of its manifest row, and a rolled-back
  write leaves only a file nobody lists, removed at the next writer open
  (:func:`remove_orphans`). The file is written, flushed and renamed into place before that
  commit.
- **Shared with readers.** The published snapshot is the DuckDB file's committed state: it holds
  the view as it was at the publish, so it reads the files committed then and none written
  since. Readers may open ``data/raw/`` in safe mode (``warehouse.reader``); the folder has the
  published snapshot's modes (0750, files 0640), its files hold no personal data (masked as in
  the main file; ``warehouse.personal``).
- **Columns.** The view selects the declared columns in order; a column declared after a file
  was written reads as NULL in that file.
- **Undoing a load** drops its files from the list (:func:`drop_load`).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from warehouse.ddl import existing_columns, literal, quote
from warehouse.permissions import PUBLISHED_DIR_MODE, PUBLISHED_FILE_MODE
from warehouse.schema import Table
from warehouse.strategies import unseen_rows
from warehouse.tables import ALL_TABLES, ETL_RAW_FILES

MANIFEST = ETL_RAW_FILES.name
SUFFIX = ".parquet"
COMPRESSION = "zstd"


def folder(root: Path, table: Table) -> Path:
    """Where ``table``'s files live."""
    return root / table.name


def _mkdir(path: Path) -> None:
    for d in (path.parent, path):
        d.mkdir(mode=PUBLISHED_DIR_MODE, exist_ok=True)
        os.chmod(d, PUBLISHED_DIR_MODE)  # the umask of the writer (077) would hide it


def _listed(con: duckdb.DuckDBPyConnection, table: Table) -> list[tuple[str, list[str]]]:
    return con.execute(
        f"SELECT file, columns FROM {MANIFEST} WHERE table_name = ? ORDER BY written_at, file",
        [table.name]).fetchall()


def _declared(table: Table, held) -> str:
    """The declared columns, in order: those ``held`` as they are, the others NULL."""
    return ", ".join(quote(c.name) if c.name in held else f"CAST(NULL AS {c.type}) AS {quote(c.name)}"
                     for c in table.columns)


def view_sql(table: Table, root: Path, files: list[tuple[str, list[str]]]) -> str:
    """The view over ``files`` (name, columns held): the declared columns, in order."""
    name = quote(table.name)
    cols = _declared(table, {c for _, columns in files for c in columns or ()})
    if not files:
        return f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} WHERE false"
    paths = ", ".join(literal(str(folder(root, table) / f)) for f, _ in files)
    mixed = len({tuple(c or ()) for _, c in files}) > 1
    options = ", union_by_name = true" if mixed else ""
    return f"CREATE OR REPLACE VIEW {name} AS SELECT {cols} FROM read_parquet([{paths}]{options})"


def refresh_view(con: duckdb.DuckDBPyConnection, table: Table, root: Path) -> None:
    """Replace the view with one over the files listed now (in the caller's transaction),
    with the declaration's comments: one call, the GIL taken once (a load's other thread
    holds it often)."""
    statements = [view_sql(table, root, _listed(con, table)),
                  f"COMMENT ON VIEW {quote(table.name)} IS {literal(table.description)}"]
    statements += [f"COMMENT ON COLUMN {quote(table.name)}.{quote(c.name)} IS "
                   f"{literal(c.description)}" for c in table.columns]
    con.execute(";\n".join(statements))


def _kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_name = ?", [name]).fetchone()
    return row[0] if row else None


def ensure(con: duckdb.DuckDBPyConnection, table: Table, root: Path) -> list[str]:
    """The view of ``table`` up to date with its declaration and ``root``; a table of an
    earlier version (rows in DuckDB's storage) moved to files first. Returns what it did."""
    kind = _kind(con, table.name)
    actions = []
    if kind == "BASE TABLE":
        moved = _move_table(con, table, root)
        actions.append(f"moved {moved} rows of {table.name} to Parquet files in {folder(root, table)}")
    elif kind == "VIEW" and _current(con, table, root):
        return actions
    refresh_view(con, table, root)
    if kind is None:
        actions.append(f"created view {table.name} over {folder(root, table)}")
    return actions


def _current(con: duckdb.DuckDBPyConnection, table: Table, root: Path) -> bool:
    """The view reads the declared columns from files under ``root``."""
    sql = con.execute("SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
                      "AND schema_name = 'main' AND view_name = ?", [table.name]).fetchone()[0]
    stored = list(existing_columns(con, table.name))
    no_files = "read_parquet" not in sql
    return stored == table.column_names and (no_files or str(folder(root, table)) in sql)


def _write_file(table: Table, root: Path, load_id: str | None,
                write: Callable[[Path], None]) -> str:
    """A new file in the table's folder, made by ``write(path)``, flushed and in place;
    returns its name."""
    target_dir = folder(root, table)
    _mkdir(target_dir)
    label = re.sub(r"[^A-Za-z0-9_-]", "_", load_id or "no-load")[:64]  # a file name, whatever the id
    name = f"{label}-{uuid.uuid4().hex[:16]}{SUFFIX}"
    tmp = target_dir / f".{name}.tmp"
    try:
        write(tmp)
        os.chmod(tmp, PUBLISHED_FILE_MODE)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # the commit that lists it must not outlive its bytes
        finally:
            os.close(fd)
        os.replace(tmp, target_dir / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return name


def append(con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame, root: Path, *,
           keys_new: bool = False) -> int:
    """Append the rows of ``frame`` (made ready by ``prepare_write``) whose key the table does
    not hold yet — all of them when ``keys_new`` (the caller vouches) — as one file per load,
    listed and visible from the caller's commit. Returns the rows written."""
    if frame.height and not keys_new:
        frame = unseen_rows(con, table, frame)
    if frame.height == 0:
        return 0
    groups = (frame.partition_by("load_id", maintain_order=True, as_dict=True)
              if "load_id" in frame.columns else {(None,): frame})
    for (load_id, *_), rows in groups.items():
        name = _write_file(table, root, load_id, lambda path, rows=rows: rows.write_parquet(
            path, compression=COMPRESSION, statistics=True))
        _list(con, table, name, load_id, rows.height)
    refresh_view(con, table, root)
    return frame.height


def drop_load(con: duckdb.DuckDBPyConnection, table: Table, root: Path, load_id: str) -> None:
    """Unlist the files of ``load_id`` (in the caller's transaction); the next writer open
    removes them (:func:`remove_orphans`)."""
    con.execute(f"DELETE FROM {MANIFEST} WHERE table_name = ? AND load_id = ?",
                [table.name, load_id])
    refresh_view(con, table, root)


def remove_orphans(con: duckdb.DuckDBPyConnection, root: Path) -> list[Path]:
    """Delete the files of the tables kept as files that no committed row lists: written by a
    transaction that rolled back or by a load since undone (never published: a load is
    published whole, after its commit). Call under the writer lock, outside a transaction."""
    removed = []
    for table in (t for t in ALL_TABLES if t.files):
        target_dir = folder(root, table)
        if not target_dir.is_dir():
            continue
        listed = {f for f, _ in _listed(con, table)}
        for path in target_dir.iterdir():
            if path.is_file() and path.name not in listed:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _move_table(con: duckdb.DuckDBPyConnection, table: Table, root: Path) -> int:
    """Move a raw-versions table of an earlier schema (rows in DuckDB's storage) to files,
    one per load, then drop it (in the caller's transaction)."""
    select = _declared(table, existing_columns(con, table.name))
    loads = [r[0] for r in con.execute(
        f"SELECT DISTINCT load_id FROM {quote(table.name)} ORDER BY ALL").fetchall()]
    moved = 0
    for load_id in loads:
        query = (f"SELECT {select} FROM {quote(table.name)} "
                 f"WHERE load_id IS NOT DISTINCT FROM {literal(load_id) if load_id else 'NULL'}")
        name = _write_file(table, root, load_id, lambda path, query=query: con.execute(
            f"COPY ({query}) TO {literal(str(path))} (FORMAT parquet, COMPRESSION {COMPRESSION})"))
        rows = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
        _list(con, table, name, load_id, rows)
        moved += rows
    con.execute(f"DROP TABLE {quote(table.name)}")
    return moved


def _list(con: duckdb.DuckDBPyConnection, table: Table, name: str, load_id: str | None,
          rows: int) -> None:
    """The manifest row of a file that holds every declared column of ``table``."""
    con.execute(f"INSERT INTO {MANIFEST} VALUES (?, ?, ?, ?, ?, now())",
                [table.name, name, load_id, rows, table.column_names])

