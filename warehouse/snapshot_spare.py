"""Publishing without copying the whole file: the snapshot before last, brought up to date.

Why: a byte copy of the main file costs the whole file at every publish (and its fsync writes
it all to disk again), however small the load (docs/performance.md, bench/publish_growth.py).
So the snapshot that readers had before the current one (the *spare*) is kept in the private
folder by the publish that replaces it, and the next publish brings it up to the writer's
committed state with SQL, then renames it into place:

- the tables declared ``stamped`` (core, quarantine, the raw files' list, the check results:
  only loads write them, and every write stamps the row with its ``load_id``) take the rows of
  the loads the spare does not hold yet: for a merged table their keys deleted first (not when
  those loads only added keys), then their rows inserted;
- every other table (audit, alerts, dimensions: small) is replaced whole;
- views whose text or comment differ (the raw layer's name the files of each load) are made
  again;
- then the spare must match the main database: the same tables, columns, views, macros,
  comments and row counts. Otherwise nothing of it is kept and the file is copied as before.
  So is a spare that lists a load the warehouse does not (the warehouse file restored from an
  older backup): only a spare that is behind the warehouse can be brought up to date.

Nobody may have the spare open: a reader still on the old snapshot would see it change under
it. Linux tells: a write lease (``F_SETLEASE``) is refused while any other descriptor of the
file is open, in this process or another. The spare lives in the private folder (0700), so no
reader can open it after the check. Where leases are not available, the publish copies.

What changes rows in a way the stamps do not show — undoing a load (it rebuilds core rows under
older load ids), a schema migration — discards the spare first (:func:`discard`); the next two
publishes then copy the file.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import duckdb

from warehouse.ddl import literal, quote
from warehouse.schema import Strategy, Table
from warehouse.tables import ALL_TABLES, ETL_LOADS

log = logging.getLogger(__name__)

SPARE_NAME = "snapshot-spare.duckdb"
ALIAS = "cchc_spare"
# A spare this many times the main file's size is copied anew: deleted rows stay in its blocks
# (the writer's checkpoints do not vacuum: warehouse.writer.connect).
MAX_GROWTH = 1.5
# Loads since the spare that brought more rows than both of these are published by a copy:
# taking 200,000 dossiers' rows into the spare of a 1M-dossier warehouse took 0.80 s where the
# copy took 0.11 s (bench/publish_growth.py's filling, docs/performance.md).
COPY_ABOVE_ROWS = 50_000
COPY_ABOVE_SHARE = 0.05


def spare_path(source: Path) -> Path:
    """Where the spare of the warehouse file ``source`` is kept (its private folder)."""
    return source.with_name(SPARE_NAME)


def discard(source: Path) -> None:
    """Forget the spare: the next publishes copy the file. For changes the stamps do not show."""
    spare = spare_path(source)
    for path in (spare, spare.with_name(spare.name + ".wal")):
        path.unlink(missing_ok=True)


def nobody_has_open(path: Path) -> bool:
    """True when no descriptor of ``path`` is open anywhere (a write lease is granted)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
    except OSError:  # open elsewhere (EAGAIN), or leases not available here
        return False
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return True
    finally:
        os.close(fd)


def update(con: duckdb.DuckDBPyConnection, source: Path) -> Path | None:
    """The spare brought to the committed state of ``con``'s main database (file ``source``),
    checkpointed and closed; None when there is no usable spare (the caller copies the file)."""
    spare = spare_path(source)
    if not spare.is_file():
        return None
    if spare.stat().st_size > MAX_GROWTH * source.stat().st_size + (64 << 20):
        log.info("publish: the spare has grown past %.1f× the warehouse file: copied anew", MAX_GROWTH)
        discard(source)
        return None
    if not nobody_has_open(spare):
        log.info("publish: the previous snapshot is still open somewhere: the file is copied")
        return None
    main = quote(con.execute("SELECT current_database()").fetchone()[0])
    try:
        con.execute(f"ATTACH {literal(str(spare))} AS {ALIAS}")
    except duckdb.Error as exc:
        log.warning("publish: the spare %s cannot be opened (%s): copied anew", spare, exc)
        discard(source)
        return None
    try:
        done = _bring_up_to_date(con, main)
        if done:
            con.execute(f"CHECKPOINT {ALIAS}")
    except duckdb.Error as exc:
        log.warning("publish: the spare could not be brought up to date (%s): copied anew", exc)
        done = False
    finally:
        con.execute(f"DETACH {ALIAS}")
    if not done or spare.with_name(spare.name + ".wal").exists():
        discard(source)  # the next publish keeps the snapshot it replaces as the spare
        return None
    return spare


def _bring_up_to_date(con: duckdb.DuckDBPyConnection, main: str) -> bool:
    """Apply the main database's changes to the spare in one transaction; False (and nothing
    written) when the two differ in anything but rows and view text."""
    before = _catalog(con, main, macros=True)
    if _shape(before[main]) != _shape(before[ALIAS]):
        return False  # a table, column, macro or view differs: a migration, a newer version
    since = _loads_since(con, main)
    if since is None:
        log.warning("publish: the spare holds loads the warehouse does not (a warehouse file "
                    "restored from a backup?): copied anew")
        return False
    new, only_added = since
    stamped = {t.name: t for t in ALL_TABLES if t.stamped and not t.files}
    if _worth_a_copy(con, main, new, [n for n in stamped if n in before[ALIAS]["tables"]]):
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        for name in before[main]["tables"]:
            table = stamped.get(name)
            if table is None:
                _replace_rows(con, main, name)
            elif new:
                _take_rows_of(con, main, table, new,
                              delete=table.strategy is Strategy.MERGE and not only_added)
        _copy_views(con, main, before[main]["views"], before[ALIAS]["views"])
        after = _catalog(con, main, macros=False)
        if _shape(after[main]) != _shape(after[ALIAS]) or \
                _counts(con, main, after[main]["tables"]) != _counts(con, ALIAS, after[main]["tables"]):
            log.warning("publish: the spare differs from the warehouse after its update: "
                        "copied anew")
            con.execute("ROLLBACK")
            return False
        con.execute("COMMIT")
        return True
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _loads_since(con: duckdb.DuckDBPyConnection, main: str) -> tuple[list[str], bool] | None:
    """The loads the warehouse lists and the spare does not, and whether they only added
    core keys (``succeeded`` with no core row updated); None when the spare lists a load the
    warehouse does not: it is not behind the warehouse."""
    loads = quote(ETL_LOADS.name)
    rows = con.execute(
        f"SELECT m.load_id, m.status = 'succeeded' AND coalesce(m.core_updated, 1) = 0 "
        f"FROM {main}.main.{loads} m FULL JOIN {ALIAS}.main.{loads} s ON m.load_id = s.load_id "
        f"WHERE m.load_id IS NULL OR s.load_id IS NULL").fetchall()
    if any(load_id is None for load_id, _ in rows):
        return None
    return [load_id for load_id, _ in rows], all(added for _, added in rows)


def _worth_a_copy(con: duckdb.DuckDBPyConnection, main: str, load_ids: list[str],
                  stamped: list[str]) -> bool:
    """True when the loads ``load_ids`` wrote more rows (core rows added or changed, rows
    quarantined: their own counts in ``etl_loads``) than :data:`COPY_ABOVE_ROWS` and
    :data:`COPY_ABOVE_SHARE` of the rows the spare holds: copying the file then costs less
    than taking the rows."""
    if not load_ids:
        return False
    brought = con.execute(
        "SELECT coalesce(sum(coalesce(core_inserted, 0) + coalesce(core_updated, 0) "
        "+ coalesce(rows_quarantined, 0)), 0) "
        f"FROM {main}.main.{quote(ETL_LOADS.name)} WHERE load_id IN (SELECT unnest(?::VARCHAR[]))",
        [load_ids]).fetchone()[0]
    held = sum(n for _, n in _counts(con, ALIAS, stamped))
    if brought <= max(COPY_ABOVE_ROWS, COPY_ABOVE_SHARE * held):
        return False
    log.info("publish: the loads since the snapshot before last brought %d rows, more than "
             "%.0f %% of the %d it holds: the file is copied", brought, 100 * COPY_ABOVE_SHARE, held)
    return True


def _replace_rows(con: duckdb.DuckDBPyConnection, main: str, name: str) -> None:
    """The spare's rows of table ``name`` replaced by the main's (a small table)."""
    q = quote(name)
    con.execute(f"DELETE FROM {ALIAS}.main.{q}")
    con.execute(f"INSERT INTO {ALIAS}.main.{q} SELECT * FROM {main}.main.{q}")


def _take_rows_of(con: duckdb.DuckDBPyConnection, main: str, table: Table, load_ids: list[str],
                  *, delete: bool) -> None:
    """The rows the loads ``load_ids`` wrote: older versions of their keys deleted first."""
    q = quote(table.name)
    mine = f"SELECT * FROM {main}.main.{q} WHERE load_id IN (SELECT unnest(?::VARCHAR[]))"
    if delete:
        keys = ", ".join(quote(k) for k in table.key)
        con.execute(f"DELETE FROM {ALIAS}.main.{q} WHERE ({keys}) IN "
                    f"(SELECT ({keys}) FROM ({mine}))", [load_ids])
    con.execute(f"INSERT INTO {ALIAS}.main.{q} {mine}", [load_ids])


def _copy_views(con: duckdb.DuckDBPyConnection, main: str, ours: dict, theirs: dict) -> None:
    """Make again, in the spare, each view whose text or comments differ from the main's."""
    changed = [name for name, view in ours.items() if theirs.get(name) != view]
    if not changed:
        return
    statements = []
    for name in changed:
        view = ours[name]
        statements += [f"DROP VIEW IF EXISTS {quote(name)}", view["sql"].rstrip().rstrip(";")]
        if view["comment"] is not None:
            statements.append(f"COMMENT ON VIEW {quote(name)} IS {literal(view['comment'])}")
        statements += [f"COMMENT ON COLUMN {quote(name)}.{quote(column)} IS {literal(note)}"
                       for column, note in view["columns"] if note is not None]
    con.execute(f"USE {ALIAS}")
    try:
        con.execute(";\n".join(statements))  # one call: a statement's round trip costs more
    finally:
        con.execute(f"USE {main}")


class _View(dict):
    """A view as the catalog shows it; equal to another when all but the text's double quotes
    are: DuckDB writes a type as ``"DATE"`` in a view it created in this session and as
    ``DATE`` in one it read from a file, the same view."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _View) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def _key(self) -> tuple:
        return self["sql"].replace('"', ""), self["comment"], self["columns"]


def _catalog(con: duckdb.DuckDBPyConnection, main: str, *, macros: bool) -> dict[str, dict]:
    """Both databases' tables (SQL, comment), their columns, views and (``macros``) macros,
    read in one query each (the catalog functions cost a few milliseconds a call)."""
    names = {_unquoted(main): main, ALIAS: ALIAS}
    out: dict[str, dict] = {db: {"tables": {}, "columns": [], "views": {}, "macros": []}
                            for db in names.values()}
    where = "database_name IN (?, ?) AND schema_name = 'main'"
    for db, table, sql, comment in con.execute(
            f"SELECT database_name, table_name, sql, comment FROM duckdb_tables() WHERE {where} "
            "AND NOT temporary ORDER BY table_name", list(names)).fetchall():
        out[names[db]]["tables"][table] = (sql, comment)
    view_columns: dict[tuple[str, str], list] = {}
    for db, table, column, kind, comment in con.execute(
            f"SELECT database_name, table_name, column_name, data_type, comment FROM "
            f"duckdb_columns() WHERE {where} ORDER BY table_name, column_index",
            list(names)).fetchall():
        if table in out[names[db]]["tables"]:
            out[names[db]]["columns"].append((table, column, kind, comment))
        else:
            view_columns.setdefault((db, table), []).append((column, comment))
    for db, view, sql, comment in con.execute(
            f"SELECT database_name, view_name, sql, comment FROM duckdb_views() WHERE {where} "
            "AND NOT internal AND NOT temporary ORDER BY view_name", list(names)).fetchall():
        out[names[db]]["views"][view] = _View(sql=sql, comment=comment,
                                              columns=tuple(view_columns.get((db, view), ())))
    if macros:
        for db, *macro in con.execute(  # without double quotes, as the views' text
                "SELECT database_name, function_name, function_type, "
                "replace(macro_definition, '\"', '') FROM duckdb_functions() "
                f"WHERE {where} AND NOT internal ORDER BY ALL", list(names)).fetchall():
            out[names[db]]["macros"].append(tuple(macro))
    return out


def _shape(found: dict) -> tuple:
    """What must match besides the rows. A view's text is not compared: DuckDB renders a view
    read back from a file differently (``true`` as ``CAST('t' AS BOOLEAN)``), so its name,
    columns and comments are."""
    views = {name: (v["comment"], v["columns"]) for name, v in found["views"].items()}
    return found["tables"], found["columns"], found["macros"], views


def _counts(con: duckdb.DuckDBPyConnection, db: str, tables: Iterable[str]) -> list[tuple[str, int]]:
    """Each table's row count in ``db``, in one query."""
    tables = list(tables)
    if not tables:
        return []
    counts = " UNION ALL ".join(
        f"SELECT {literal(n)}, count(*) FROM {db}.main.{quote(n)}" for n in tables)
    return sorted(con.execute(counts).fetchall())


def _unquoted(db: str) -> str:
    return db[1:-1].replace('""', '"') if db.startswith('"') else db
