"""The warehouse writer: the only code that opens DuckDB read-write.

``with Warehouse.open(settings) as wh:`` takes the inter-process writer lock, opens the private
file with the configured memory limit and threads, brings the schema up to date, reloads the
seeds and recreates the views. A load then runs in ``wh.transaction(load_id)``; the audit trail
(``etl_loads``, ``dq_results``, ``dq_alerts``) is written on a second cursor, i.e. in its own
DuckDB transaction, so that a load whose data rolled back is still recorded as failed.

Personal data goes to a separate file (``personal.duckdb``, attached as ``personal``, see
``warehouse.personal``), written on a third cursor: a DuckDB transaction can write only one
attached database. ``transaction()`` opens both, rolls both back on error, and on success commits
the personal one first, then the main one. Only a failure of the main COMMIT itself (disk full,
crash) can leave companion rows the main file does not have; they are harmless (the lookup joins
on the main row's ``row_hash``) and the next load of the same input writes the main rows again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from cchc.config import Settings
from warehouse import audit, lake, raw_files, snapshot_spare
from warehouse.admin_units import build_admin_units
from warehouse.ddl import ensure_schema, literal, quote
from warehouse.lock import writer_lock
from warehouse.permissions import PUBLISHED_DIR_MODE
from warehouse.personal import COMPANIONS, PERSONAL_DB, personal_path, personal_rows
from warehouse.publish import build_snapshot, record_snapshot
from warehouse.reference import write_reference_tables
from warehouse.schema import Table
from warehouse.seeds import ADMIN_UNITS_CSV, load_admin_units
from warehouse.strategies import PreparedWrite, WriteResult, prepare_write, write_prepared
from warehouse.tables import DIM_ADMIN_UNIT
from warehouse.tables import table as declared_table
from warehouse.views import create_views

if TYPE_CHECKING:
    from warehouse.alerts import Finding

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT_S = 600.0
NO_VACUUM = 0  # max_vacuum_tasks of the writer: row groups are merged by Warehouse.compact only
VACUUM_TASKS = 100  # DuckDB's default, for Warehouse.compact


_SESSION = threading.local()  # the Warehouse of an active ``Warehouse.session`` in this thread


def _session_warehouse(settings: Settings) -> Warehouse | None:
    wh = getattr(_SESSION, "warehouse", None)
    if wh is not None and wh.settings.warehouse_path == settings.warehouse_path:
        return wh
    return None


class UnfinishedLoadError(RuntimeError):
    """Publishing now would show a load that committed only some of its parts."""


def unpublished_marker(settings: Settings) -> Path:
    """Present from the start of a load until the next publish: committed, not yet published."""
    path = settings.warehouse_path
    return path.with_name(path.name + ".unpublished")


def connect(path: Path, settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-write connection with the configured limits; timestamps handled in UTC."""
    from warehouse.permissions import secure_private

    secure_private(settings, path)  # umask 077; private folders 0700, files 0600
    path.parent.mkdir(parents=True, exist_ok=True)
    if lake.is_lake(settings) and path == settings.warehouse_path:
        con = lake.connect_writer(settings)  # the lake attached and USEd; UTC
    else:
        con = duckdb.connect(
            str(path),
            config={
                "memory_limit": settings.duckdb_memory_limit,
                "threads": settings.duckdb_threads,
            },
        )
        con.execute("SET TimeZone = 'UTC'")  # the polars schema's timestamps are UTC
        # No row-group merging at checkpoints: after a bulk load it rewrites every row group
        # the load appended (3–5 s per million rows, on the publish's CHECKPOINT); the
        # upkeep compacts instead (``Warehouse.compact``).
        con.execute(f"SET max_vacuum_tasks = {NO_VACUUM}")
    con.execute(f"ATTACH {literal(str(personal_path(settings)))} AS {PERSONAL_DB}")
    return con


class Warehouse:
    """A read-write session on the private warehouse file (use ``Warehouse.open``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con = con
        self.settings = settings
        self._main_db = con.execute("SELECT current_database()").fetchone()[0]
        self._audit = self.cursor()  # its own transaction: audit rows survive a rollback
        self._personal = con.cursor()  # writes the personal-data file (one database per txn)
        self._personal.execute("SET TimeZone = 'UTC'")
        self._personal.execute(f"USE {PERSONAL_DB}")
        self._in_transaction = False
        self._new_keys: dict[str, tuple[bool, bool]] = {}  # new_keys_only: (main, personal)
        # where tables declared files=True keep their rows (warehouse.raw_files); lake: none
        self.raw_root = None if lake.is_lake(settings) else settings.raw_dir

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the main database (its own transaction), in UTC. A cursor starts in the
        connection's default database: the lake backend's is in-memory, so USE the lake."""
        cursor = self.con.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        cursor.execute(f"USE {quote(self._main_db)}")
        return cursor

    @classmethod
    @contextmanager
    def open(
        cls,
        settings: Settings,
        *,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
        admin_units_csv: Path | None = None,  # None: built for the scope
        publish_if_stale: bool = True,
    ) -> Iterator[Warehouse]:
        """Lock, open and prepare the private warehouse; close and unlock on exit.

        Before handing the warehouse over, put right what a killed writer left: finish or undo
        its unfinished load, remove its staging leftovers, and publish a committed state that
        was never published (``publish_if_stale``). Inside :meth:`session` on the same file
        (same thread), the session's warehouse is handed over as it is: nothing is opened."""
        current = _session_warehouse(settings)
        if current is not None:
            yield current
            return
        with writer_lock(settings.warehouse_path, lock_timeout_s):
            con = connect(settings.warehouse_path, settings)
            try:
                wh = cls(con, settings)
                wh._prepare(admin_units_csv)
                wh._recover(publish_if_stale)
                yield wh
            finally:
                con.close()

    @classmethod
    @contextmanager
    def session(cls, settings: Settings, **open_options: Any) -> Iterator[Warehouse]:
        """``open`` once for a whole step (a file's check, load and publish): every
        ``Warehouse.open`` of the same file in this thread meanwhile reuses this one, so the
        schema check, seeds and views run once and the writer lock is held throughout."""
        current = _session_warehouse(settings)
        if current is not None:
            yield current
            return
        with cls.open(settings, **open_options) as wh:
            _SESSION.warehouse = wh
            try:
                yield wh
            finally:
                _SESSION.warehouse = None

    @classmethod
    @contextmanager
    def open_for_audit(cls, settings: Settings, *,
                       lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> Iterator[Warehouse]:
        """Lock and open without preparing seeds and views or recovering loads (0.04 s rather
        than 0.3 s): for a few audit rows between loads, such as alert deliveries. The schema
        is whatever the last ``open`` left."""
        with writer_lock(settings.warehouse_path, lock_timeout_s):
            con = connect(settings.warehouse_path, settings)
            try:
                yield cls(con, settings)
            finally:
                con.close()

    def _prepare(self, admin_units_csv: Path | None) -> None:
        with self.transaction():
            changed = ensure_schema(self.con, raw_root=self.raw_root)
            for action in changed:
                log.info("warehouse schema: %s", action)
            if changed:  # rows a migration rewrote carry no new load id
                snapshot_spare.discard(self.settings.warehouse_path)
            for action in ensure_schema(self._personal, tuple(COMPANIONS.values())):
                log.info("personal-data schema: %s", action)
            if admin_units_csv is None:  # the scope's units, old and new (warehouse.admin_units)
                self.write_seed(DIM_ADMIN_UNIT,
                                build_admin_units(self.settings.scope, ADMIN_UNITS_CSV))
            elif admin_units_csv.is_file():
                self.write_seed(DIM_ADMIN_UNIT, load_admin_units(admin_units_csv))
            else:
                log.warning("seed %s is missing: dim_admin_unit left as it was", admin_units_csv)
            write_reference_tables(self)  # dim_calendar, dim_procedure
            create_views(self.con)
        self._close_interrupted_loads()

    def _close_interrupted_loads(self) -> None:
        """Loads left 'running' by a process that died: we hold the writer lock, so none runs."""
        # No RETURNING: a DuckLake UPDATE cannot return rows. Nothing else writes meanwhile.
        closed = self._audit.execute(
            "SELECT load_id FROM etl_loads WHERE status = 'running'").fetchall()
        if closed:
            self._audit.execute(
                "UPDATE etl_loads SET status = 'interrupted', finished_at = now(), "
                "message = 'the process ended before the load finished; its data was rolled "
                "back' WHERE status = 'running'")
        for (load_id,) in closed:
            log.warning("load %s was interrupted: marked so", load_id)

    def _recover(self, publish_if_stale: bool) -> None:
        """Finish or undo unfinished loads, clean staging, publish a committed-but-unpublished
        state (warehouse/README.md, "Loads are visible whole")."""
        unfinished = audit.unfinished_loads(self._audit)
        staging_dir = self.settings.staging_dir
        if unfinished or (staging_dir.is_dir() and any(staging_dir.iterdir())):
            # The load steps sit above the warehouse: imported late.
            from cchc import recovery, staging

            if unfinished:
                try:
                    recovery.recover_loads(self, self.settings, [(i, s) for i, s, _ in unfinished])
                except Exception:
                    log.exception("could not finish or undo the interrupted load(s): nothing "
                                  "will be published until they are")
            keep = {i for i, _, _ in audit.unfinished_loads(self._audit)}
            for folder in staging.clean_staging(self.settings, keep):
                log.info("removed staging leftovers %s", folder)
        if self.raw_root is not None:
            for path in raw_files.remove_orphans(self.con, self.raw_root):
                log.info("removed a raw-layer file no committed load lists: %s", path)
        if publish_if_stale and unpublished_marker(self.settings).exists():
            try:
                self.publish()
                log.warning("published the committed state a stopped process had not published")
            except UnfinishedLoadError as exc:
                log.error("%s", exc)

    # -- data ------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, load_id: str | None = None) -> Iterator[Warehouse]:
        """One transaction per load. On error: roll back, mark ``load_id`` failed, re-raise."""
        if self._in_transaction:
            raise RuntimeError("a warehouse transaction is already open (they do not nest)")
        self.con.execute("BEGIN TRANSACTION")
        self._personal.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield self
            self._personal.execute("COMMIT")  # first: a failed main commit leaves only orphans
        except BaseException as exc:
            for cursor in (self._personal, self.con):
                # the personal one may have committed (or failed to) already
                with suppress(duckdb.TransactionException):
                    cursor.execute("ROLLBACK")
            self._in_transaction = False
            if load_id is not None:
                self.finish_load(load_id, "failed", message=f"{type(exc).__name__}: {exc}")
            raise
        else:
            self._in_transaction = False
            self.con.execute("COMMIT")

    def memory_limit(self, limit: str) -> AbstractContextManager[None]:
        """DuckDB's memory limit set to ``limit`` (e.g. ``"512MB"``; empty: unchanged) for the
        block, then back to the configured ``duckdb_memory_limit``. A bulk load needs little
        cache: each part is appended and its decision scans the tables once."""
        return self._setting("memory_limit", literal(limit) if limit else None,
                             literal(self.settings.duckdb_memory_limit))

    def threads(self, count: int) -> AbstractContextManager[None]:
        """DuckDB's worker threads set to ``count`` for the block, then back to the configured
        ``duckdb_threads``. While a load's other threads transform and validate the next parts
        on the machine's other cores, DuckDB's extra workers only compete with them: one thread
        made a 5M-dossier load use 8 % less CPU (docs/performance.md, round 10)."""
        configured = str(int(self.settings.duckdb_threads))
        return self._setting("threads", str(int(count)), configured)

    @contextmanager
    def _setting(self, name: str, value: str | None, configured: str) -> Iterator[None]:
        """DuckDB's setting ``name`` at ``value`` (SQL text; None or ``configured``: unchanged)
        for the block, then at ``configured`` again, also when the block fails."""
        if value is None or value == configured:
            yield
            return
        self.con.execute(f"SET {name} = {value}")
        try:
            yield
        finally:
            self.con.execute(f"SET {name} = {configured}")

    def write(self, table: Table, frame: pl.DataFrame, load_id: str | None = None) -> WriteResult:
        """Write a frame by the table's strategy (see ``warehouse.strategies``).

        Inside ``transaction()`` the write joins the load's transaction; outside it, the write
        is its own transaction, so it is never applied in part.
        """
        return self.write_prepared(prepare_write(table, frame, load_id))

    def write_prepared(self, prepared: PreparedWrite) -> WriteResult:
        """Write what :func:`prepare_write` made ready (in another thread, say), as ``write``."""
        if self._in_transaction:
            return self._write(prepared)
        with self.transaction():
            return self._write(prepared)

    def write_seed(self, table: Table, frame: pl.DataFrame) -> bool:
        """Rewrite a seed table only when its content changed (its hash is kept in
        ``etl_seeds``); returns whether it was written. On the lake an unchanged open then
        writes no Parquet file and reads none, so a load can start, and record its failure,
        while the data storage is down."""
        fingerprint = audit.seed_fingerprint(table.name, frame)
        if audit.seed_fingerprint_of(self.con, table.name) == fingerprint:
            return False
        self.write(table, frame)
        audit.set_seed_fingerprint(self.con, table.name, fingerprint)
        return True

    @contextmanager
    def new_keys_only(self, table: Table) -> Iterator[None]:
        """APPEND_NEW writes to ``table`` in the block append without the check against stored
        keys, on each side (main file, personal file) that held no row when the block began.

        The caller vouches that the rows it writes in the block have distinct keys: a load's
        raw versions, whose exact duplicates are dropped before anything is written. A first
        bulk load then skips an anti-join that grows with the table (0.6 s a part at 8M
        versions); any later load, or a load resumed after a crash, still decides."""
        companion = COMPANIONS.get(table.name)
        self._new_keys[table.name] = (
            not _holds_rows(self.con, table),
            companion is not None and not _holds_rows(self._personal, companion))
        try:
            yield
        finally:
            del self._new_keys[table.name]

    def _write(self, prepared: PreparedWrite) -> WriteResult:
        """Personal-data columns to the companion table, the rest (them NULL) to the main one."""
        main_new, personal_new = self._new_keys.get(prepared.table.name, (False, False))
        if prepared.companion is not None:
            write_prepared(self._personal, COMPANIONS[prepared.table.name], prepared.companion,
                           keys_new=personal_new)
        if prepared.table.files and self.raw_root is not None:
            return WriteResult(raw_files.append(self.con, prepared.table, prepared.main,
                                                self.raw_root, keys_new=main_new), 0)
        return write_prepared(self.con, prepared.table, prepared.main, keys_new=main_new)

    def personal(self, table: Table | str, keys: list[Any]) -> pl.DataFrame:
        """The personal data of the given rows (authorised use only: never published).

        ``keys`` are key values (tuples for a composite key). Returns the key and the
        personal-data columns of the current main row of each key found; the companion row is
        matched on the main row's ``row_hash`` too, so a companion left ahead by a failed commit
        is never returned for another version.
        """
        decl = declared_table(table) if isinstance(table, str) else table
        cursor = self.cursor()
        try:
            return personal_rows(cursor, decl, keys)
        finally:
            cursor.close()

    def query(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pl.DataFrame:
        """Read from the private file (the pipeline's own checks and reconciliations)."""
        return self.con.execute(sql, params).pl()

    def units(self) -> pl.DataFrame:
        """The administrative units (dim_admin_unit), ordered by code."""
        return self.con.execute("SELECT * FROM dim_admin_unit ORDER BY unit_code").pl()

    # -- audit (own transaction) -----------------------------------------------------------

    def begin_load(self, source_system: str, kind: str, source: str, file_sha256: str | None = None,
                   window_from: datetime | None = None, window_to: datetime | None = None) -> str:
        marker = unpublished_marker(self.settings)
        marker.touch()  # first: a load that dies after committing is still published later
        return audit.begin_load(
            self._audit, source_system, kind, source, file_sha256, window_from, window_to
        )

    def finish_load(
        self, load_id: str, status: str, message: str | None = None, **counts: int
    ) -> None:
        audit.finish_load(self._audit, load_id, status, message, **counts)

    def load_for_file(self, sha256: str) -> str | None:
        return audit.load_for_file(self._audit, sha256)

    def last_success(self, source_system: str) -> datetime | None:
        return audit.last_success(self._audit, source_system)

    def record_dq_results(self, load_id: str, rows: list[dict[str, Any]]) -> int:
        return audit.record_dq_results(self._audit, load_id, rows)

    @property
    def audit_connection(self) -> duckdb.DuckDBPyConnection:
        """The audit cursor: its own transaction, so audit rows survive a load's rollback
        (``warehouse.alerts`` writes there)."""
        return self._audit

    def raise_alert(self, kind: str, severity: str, source_system: str | None, message: str,
                    load_id: str | None = None) -> str:
        """A one-off alert row, never sent nor resolved; checks use ``record_check``."""
        return audit.raise_alert(self._audit, kind, severity, source_system, message, load_id)

    def record_check(self, kind: str, source_system: str | None, scope: str,
                     findings: Sequence[Finding]) -> list[str]:
        """See ``warehouse.alerts.record_check``."""
        from warehouse.alerts import record_check

        return record_check(self, kind, source_system, scope, findings)

    # -- watermarks (data transaction: they move only with the data) -------------------------

    def get_watermark(self, stream: str) -> datetime | None:
        return audit.get_watermark(self.con, stream)

    def set_watermark(self, stream: str, value: datetime, load_id: str | None) -> None:
        audit.set_watermark(self.con, stream, value, load_id)

    # -- publish ---------------------------------------------------------------------------

    def publish(self) -> Path:
        """Publish the committed state as the readers' snapshot (see ``warehouse.publish``)."""
        if self._in_transaction:
            raise RuntimeError("publish after the load's transaction has committed")
        unfinished = audit.unfinished_loads(self._audit)
        if unfinished:
            listed = ", ".join(f"{i} ({s}, {st})" for i, s, st in unfinished)
            raise UnfinishedLoadError(
                f"not published: load {listed} may have committed only some of its parts, and "
                "a load is visible whole or not at all. The next writer start finishes it from "
                "its staged batch or removes its rows (etl_loads: recovered / undone); then "
                "publish again.")
        marker = unpublished_marker(self.settings)
        if lake.is_lake(self.settings):  # the committed snapshot itself, recorded: no copy
            record_snapshot(self.con)
            lake.record_publication(self.con)
            marker.unlink(missing_ok=True)
            # the dashboard page is still written beside where the snapshot file would be
            self.settings.published_path.parent.mkdir(mode=PUBLISHED_DIR_MODE, parents=True,
                                                      exist_ok=True)
            return self.settings.lake_dir
        published = build_snapshot(self.con, self.settings.warehouse_path,
                                   self.settings.published_path)
        marker.unlink(missing_ok=True)
        return published

    # -- storage ---------------------------------------------------------------------------

    def compact(self) -> None:
        """Merge the row groups that loads left partly filled and drop deleted rows, in the main
        and the personal file: the row-group merging the writer's checkpoints skip
        (``NO_VACUUM``). Seconds per million rows loaded since the last compaction; the upkeep
        runs it (``warehouse.upkeep.compact_file``). Figures do not change, nothing is
        published."""
        if self._in_transaction:
            raise RuntimeError("compact outside a transaction")
        main = self.con.execute("SELECT current_database()").fetchone()[0]
        self.con.execute(f"SET max_vacuum_tasks = {VACUUM_TASKS}")
        try:
            for db in (main, PERSONAL_DB):
                # DuckDB checkpoints a file only when something changed in it
                self.con.execute(f"CREATE TABLE {quote(db)}._cchc_compact (x INTEGER)")
                self.con.execute(f"DROP TABLE {quote(db)}._cchc_compact")
                self.con.execute(f"CHECKPOINT {quote(db)}")
        finally:
            self.con.execute(f"SET max_vacuum_tasks = {NO_VACUUM}")


def publish(settings: Settings, *, lock_timeout_s: float | None = None) -> Path:
    """Publish the private warehouse's committed state for readers (takes the writer lock)."""
    timeout = DEFAULT_LOCK_TIMEOUT_S if lock_timeout_s is None else lock_timeout_s
    with Warehouse.open(settings, lock_timeout_s=timeout, publish_if_stale=False) as wh:
        return wh.publish()


def _holds_rows(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table.name)})").fetchone()[0])
