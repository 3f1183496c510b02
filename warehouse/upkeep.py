"""The lake's upkeep (``ducklake`` backend): merge small files, expire snapshots, delete files.

Every load and publish adds snapshots and small Parquet files; left alone, the catalog and the
data folder only grow. Upkeep runs DuckLake's own maintenance in its order:

1. ``ducklake_merge_adjacent_files``: small files of a table rewritten as fewer larger ones
   (time travel to every kept snapshot still works: the merged file keeps each row's snapshot
   range);
2. ``ducklake_expire_snapshots`` with an explicit list chosen by :func:`expirable` — the
   retention rule that keeps ``--as-of`` working: every *published* snapshot of the last
   ``[warehouse] keep_published_months`` months, the last publication whatever its age, the
   lake's head and everything younger than a day are kept; the rest goes;
3. ``ducklake_cleanup_old_files``: the files no kept snapshot needs any more are deleted.

It writes the lake, so it holds the writer lock like any writer (the Prefect flow also holds the
server's writer slot). Nothing is published: merging changes no figure, and a committed but
unpublished load must stay unpublished.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from cchc.config import LOCAL_TZ, Settings, utc_now
from warehouse import lake
from warehouse.lock import writer_lock

log = logging.getLogger(__name__)

KEEP_RECENT = timedelta(days=1)  # unpublished snapshots younger than this stay (a load's parts)
DEFAULT_LOCK_TIMEOUT_S = 600.0


class NotALake(RuntimeError):
    """Upkeep was asked of the file backend, which needs none."""


@dataclass(frozen=True)
class UpkeepReport:
    """What one upkeep did (or, with ``dry_run``, would do)."""

    dry_run: bool
    snapshots_before: int
    snapshots_after: int
    snapshots_expired: int
    files_before: int  # data and delete files in the catalog, every snapshot's
    files_after: int
    files_merged: int  # small files rewritten into larger ones
    files_deleted: int
    publications_kept: int
    publications_expired: int
    kept_since: datetime  # published snapshots from this instant on are kept

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in asdict(self).items()}


def months_before(moment: datetime, months: int) -> datetime:
    """The same local calendar day and time ``months`` months earlier (the month's last day
    when it is shorter): "the last 13 months" as an office counts them."""
    local = moment.astimezone(ZoneInfo(LOCAL_TZ))
    index = local.year * 12 + (local.month - 1) - months
    year, month = divmod(index, 12)
    day = local.day
    while True:
        try:
            return local.replace(year=year, month=month + 1, day=day)
        except ValueError:  # 31 March minus one month: 28/29 February
            day -= 1


def expirable(snapshots: Iterable[tuple[int, datetime]],
              publications: Iterable[tuple[int, datetime]], head: int, now: datetime,
              kept_since: datetime, keep_recent: timedelta = KEEP_RECENT) -> list[int]:
    """The snapshot ids to expire: every one except the head, those younger than
    ``keep_recent``, those published since ``kept_since`` and the last one published."""
    published = sorted(publications, key=lambda p: (p[1], p[0]))
    keep = {head} | {sid for sid, at in published if at >= kept_since}
    if published:
        keep.add(published[-1][0])  # readers open it: kept whatever its age
    return sorted(sid for sid, at in snapshots
                  if sid not in keep and at < now - keep_recent)


def _metadata_table(settings: Settings, name: str) -> str:
    schema = settings.warehouse.metadata_schema
    db = f"__ducklake_metadata_{lake.LAKE_DB}"
    return f"{db}.{schema}.{name}" if schema else f"{db}.{name}"


def _count_files(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    return sum(int(con.execute(f"SELECT count(*) FROM {_metadata_table(settings, t)}")
                   .fetchone()[0])
               for t in ("ducklake_data_file", "ducklake_delete_file"))


def _snapshots(con: duckdb.DuckDBPyConnection) -> list[tuple[int, datetime]]:
    return [(int(i), t) for i, t in con.execute(
        f"SELECT snapshot_id, snapshot_time FROM ducklake_snapshots('{lake.LAKE_DB}') "
        "ORDER BY snapshot_id").fetchall()]


def _publications(con: duckdb.DuckDBPyConnection) -> list[tuple[int, datetime]]:
    try:
        return [(int(i), t) for i, t in con.execute(
            f"SELECT snapshot_id, published_at FROM {lake.PUBLICATIONS}").fetchall()]
    except duckdb.CatalogException:  # never published
        return []


def upkeep(con: duckdb.DuckDBPyConnection, settings: Settings, *, now: datetime | None = None,
           kept_since: datetime | None = None, keep_recent: timedelta = KEEP_RECENT,
           dry_run: bool = False) -> UpkeepReport:
    """Merge, expire and clean up on the writer's connection (the caller holds the lock).

    ``kept_since`` defaults to ``keep_published_months`` before ``now``."""
    now = now or utc_now()
    kept_since = kept_since or months_before(now, settings.warehouse.keep_published_months)
    alias = lake.LAKE_DB
    snapshots_before = len(_snapshots(con))
    files_before = _count_files(con, settings)
    merged = 0
    if not dry_run:
        merged = sum(int(r[2]) for r in con.execute(
            f"SELECT * FROM ducklake_merge_adjacent_files('{alias}')").fetchall())
    snapshots = _snapshots(con)
    publications = _publications(con)
    known = {sid for sid, _ in snapshots}
    expire = expirable(snapshots, publications, lake.current_snapshot(con, alias), now,
                       kept_since, keep_recent)
    if expire:
        con.execute(f"SELECT count(*) FROM ducklake_expire_snapshots('{alias}', dry_run => ?, "
                    "versions => ?::UBIGINT[])", [dry_run, expire]).fetchall()
    gone = set(expire)
    deleted = len(con.execute(
        f"SELECT * FROM ducklake_cleanup_old_files('{alias}', dry_run => ?, cleanup_all => true)",
        [dry_run]).fetchall())
    pubs = [sid for sid, _ in publications if sid in known]
    report = UpkeepReport(
        dry_run=dry_run,
        snapshots_before=snapshots_before,
        snapshots_after=len(_snapshots(con)) - (len(gone) if dry_run else 0),
        snapshots_expired=len(gone),
        files_before=files_before,
        files_after=_count_files(con, settings),
        files_merged=merged,
        files_deleted=deleted,
        publications_kept=sum(1 for sid in pubs if sid not in gone),
        publications_expired=sum(1 for sid in pubs if sid in gone),
        kept_since=kept_since,
    )
    log.info("lake upkeep: %s", report)
    return report


def compact_file(settings: Settings, *,
                 lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> dict[str, float | int]:
    """The file backend's upkeep: merge the row groups loads left partly filled
    (``Warehouse.compact``), holding the writer lock. The writer's own checkpoints skip that
    merging, which after a bulk load rewrote every row group it had appended on the publish's
    critical path. Returns the files' sizes before and after, and the seconds it took."""
    import time

    from warehouse.personal import personal_path
    from warehouse.writer import Warehouse

    if lake.is_lake(settings):
        raise ValueError("compact_file is for the DuckDB file backend")
    files = (settings.warehouse_path, personal_path(settings))
    before = sum(f.stat().st_size for f in files if f.exists())
    start = time.monotonic()
    with Warehouse.open(settings, lock_timeout_s=lock_timeout_s) as wh:
        wh.compact()
    seconds = round(time.monotonic() - start, 2)
    after = sum(f.stat().st_size for f in files if f.exists())
    log.info("warehouse compacted in %.1f s: %d → %d bytes", seconds, before, after)
    return {"bytes_before": before, "bytes_after": after, "seconds": seconds}


def run_upkeep(settings: Settings, *, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
               **options) -> UpkeepReport:
    """Hold the writer lock, attach the lake read-write, run :func:`upkeep`."""
    if not lake.is_lake(settings):
        raise NotALake("lake upkeep is for the ducklake backend ([warehouse] backend = "
                       "\"ducklake\"); the DuckDB file backend's upkeep is compact_file")
    with writer_lock(settings.warehouse_path, lock_timeout_s):
        con = lake.connect_writer(settings)
        try:
            return upkeep(con, settings, **options)
        finally:
            con.close()
