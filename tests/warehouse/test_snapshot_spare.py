"""Publishing by bringing the snapshot before last up to date (warehouse.snapshot_spare):
the published file must hold exactly the warehouse's committed state, and readers of an older
snapshot must never see it change."""

from __future__ import annotations

import logging
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
from warehouse_fixtures import core_frame, dossier

from cchc.config import Settings
from cchc.recovery import undo_load
from sources.registry import source
from warehouse import publish as publishing
from warehouse import snapshot_spare
from warehouse.ddl import literal, quote
from warehouse.reader import open_snapshot
from warehouse.tables import (
    CORE_ONESTOP_DOSSIERS,
    QUARANTINE_ONESTOP_DOSSIERS,
    RAW_ONESTOP_DOSSIER_VERSIONS,
)
from warehouse.writer import Warehouse

T0 = datetime(2023, 1, 1, tzinfo=UTC)


def _load(wh: Warehouse, versions: dict[str, int], status: str = "succeeded",
          raw: bool = True) -> str:
    """One load: each code at version ``n`` (a newer version updates the core row); its raw
    versions and quarantined rows too unless not ``raw``."""
    load = wh.begin_load("onestop", "pull", "test")
    with wh.transaction(load):
        rows = [dossier(c, status=10 + n % 3, updated_at=T0 + timedelta(days=n),
                        row_hash=f"{c}@{n}") for c, n in versions.items()]
        core = wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*rows), load)
        if raw:
            texts = pl.DataFrame({"MaHoSo": list(versions),
                                  "row_hash": [r["row_hash"] for r in rows]})
            wh.write(RAW_ONESTOP_DOSSIER_VERSIONS, texts, load)
            bad = texts.with_columns(row_hash=pl.col("row_hash") + "#q",
                                     reasons=pl.lit(["MaTTHC='x': made-up rule"]))
            wh.write(QUARANTINE_ONESTOP_DOSSIERS, bad, load)
    wh.finish_load(load, status, rows_in=len(versions), core_inserted=core.inserted,
                   core_updated=core.updated)
    return load


def _differences(wh: Warehouse, settings: Settings) -> list[str]:
    """What the published file holds that the writer's committed state does not, or lacks."""
    con = wh.con
    main = quote(con.execute("SELECT current_database()").fetchone()[0])
    con.execute(f"ATTACH {literal(str(settings.published_path))} AS pub (READ_ONLY)")
    try:
        out = []
        relations = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = "
            "current_database() AND table_schema = 'main' ORDER BY ALL").fetchall()
        published = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'pub' "
            "AND table_schema = 'main' ORDER BY ALL").fetchall()
        assert len(relations) > 20 and relations == published
        for (name,) in relations:  # tables and views: a view's rows, whatever its text
            q = quote(name)
            for a, b in ((main, "pub"), ("pub", main)):
                n = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a}.main.{q} EXCEPT ALL "
                                f"SELECT * FROM {b}.main.{q})").fetchone()[0]
                if n:
                    out.append(f"{name}: {n} rows in {a} only")
        comments = ("SELECT table_name, column_name, comment FROM duckdb_columns() "
                    "WHERE database_name = ? ORDER BY ALL")
        if con.execute(comments, [main.strip('"')]).fetchall() != \
                con.execute(comments, ["pub"]).fetchall():
            out.append("column comments differ")
        return out
    finally:
        con.execute("DETACH pub")


def _inode(path: Path) -> int:
    return path.stat().st_ino


def _publish(wh: Warehouse, caplog) -> str:
    """Publish; returns how the snapshot was made: "updated" (the spare) or "copied"."""
    caplog.set_level(logging.INFO, logger=publishing.__name__)
    caplog.clear()
    wh.publish()
    how = {r.getMessage() for r in caplog.records} & {publishing.UPDATED, publishing.COPIED}
    assert len(how) == 1, how
    return "updated" if how == {publishing.UPDATED} else "copied"


def test_publishes_alternate_two_files_that_hold_the_committed_state(
        settings: Settings, units_csv: Path, caplog) -> None:
    """From the third publish on, the snapshot before last is brought up to date and renamed
    into place: the two files alternate, and each publish holds exactly what was committed,
    through new keys, newer versions, older versions that lose and loads of nothing new."""
    rng = random.Random(7)
    versions: dict[str, int] = {}
    inodes, hows = [], []
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        for step in range(12):
            batch = {}
            for _ in range(rng.randint(1, 6)):
                code = f"D{rng.randint(0, 15):02d}"
                batch[code] = max(versions.get(code, 0) + rng.randint(-1, 2), 0)
            _load(wh, batch)
            for code, n in batch.items():
                versions[code] = max(versions.get(code, 0), n)
            hows.append(_publish(wh, caplog))
            inodes.append(_inode(settings.published_path))
            assert _differences(wh, settings) == [], f"step {step}"
        published = wh.query("SELECT dossier_code, updated_at FROM core_onestop__dossiers")
    assert dict(published.rows()) == {c: T0 + timedelta(days=n) for c, n in versions.items()}
    assert hows == ["copied"] * 2 + ["updated"] * 10
    assert inodes[2:] == [inodes[0], inodes[1]] * 5  # two files, alternating
    spare = snapshot_spare.spare_path(settings.warehouse_path)
    assert spare.stat().st_mode & 0o777 == 0o600  # private while it waits
    assert settings.published_path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in settings.published_path.parent.iterdir()) == [
        settings.published_path.name]


def test_a_reader_still_on_the_previous_snapshot_makes_the_publish_copy(
        settings: Settings, units_csv: Path, caplog) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        _load(wh, {"A": 1})
        wh.publish()
        _load(wh, {"B": 1})
        wh.publish()  # copied again; the first snapshot is now the spare
        reader = open_snapshot(settings)  # the second snapshot, A and B
        _load(wh, {"C": 1})
        # the spare (first snapshot) brought up to date; the reader's file is the spare now
        assert _publish(wh, caplog) == "updated"
        _load(wh, {"A": 2, "D": 1})
        assert _publish(wh, caplog) == "copied"  # the spare is open in the reader
        assert _differences(wh, settings) == []
        assert reader.execute("SELECT list(dossier_code ORDER BY dossier_code), max(updated_at) "
                              "FROM core_onestop__dossiers").fetchone() == (
            ["A", "B"], T0 + timedelta(days=1))
        reader.close()
        _load(wh, {"E": 1})
        assert _publish(wh, caplog) == "updated"  # nobody holds the spare any more
        assert _differences(wh, settings) == []


def test_undoing_a_load_discards_the_spare(settings: Settings, units_csv: Path,
                                           caplog) -> None:
    """Undo rebuilds core rows under older load ids: the stamps no longer tell what changed."""
    spare = snapshot_spare.spare_path(settings.warehouse_path)
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        for n in range(3):
            _load(wh, {"A": n, "B": n})
            wh.publish()
        assert spare.is_file()
        load = _load(wh, {"Z": 5}, status="failed")
        undo_load(wh, settings, source("onestop"), load)
        assert not spare.exists()
        assert _publish(wh, caplog) == "copied"
        assert _differences(wh, settings) == []
        assert wh.query("SELECT count(*) FROM core_onestop__dossiers WHERE load_id = ?",
                        [load]).item() == 0


def test_a_table_the_spare_lacks_makes_the_publish_copy(settings: Settings, units_csv: Path,
                                                        caplog) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        for n in range(3):
            _load(wh, {"A": n})
            wh.publish()
        wh.con.execute("CREATE TABLE scratch AS SELECT 1 AS n")
        _load(wh, {"B": 1})
        assert _publish(wh, caplog) == "copied"  # the spare's shape differed
        assert _differences(wh, settings) == []


def test_the_spare_never_reaches_a_reader_half_updated(settings: Settings, units_csv: Path,
                                                       monkeypatch, caplog) -> None:
    """A failure while the spare is updated leaves it unpublished and discarded: the publish
    copies the file, and readers see the committed state."""
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        for n in range(3):
            _load(wh, {"A": n})
            wh.publish()
        _load(wh, {"B": 1})

        def broken(con, main, table, load_ids, *, delete):
            raise duckdb.IOException("disk full (simulated)")

        monkeypatch.setattr(snapshot_spare, "_take_rows_of", broken)
        assert _publish(wh, caplog) == "copied"
        assert _differences(wh, settings) == []
        assert duckdb.connect(str(settings.published_path), read_only=True).execute(
            "SELECT count(*) FROM core_onestop__dossiers").fetchone() == (2,)


def test_what_a_killed_publish_leaves_is_cleared(settings: Settings, units_csv: Path,
                                                 caplog) -> None:
    """A publish killed between keeping the old snapshot and renaming leaves a ``.next`` link;
    the next publish removes it and still publishes the committed state."""
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        for n in range(3):
            _load(wh, {"A": n})
            wh.publish()
        spare = snapshot_spare.spare_path(settings.warehouse_path)
        stale = spare.with_name(f".{spare.name}.99999.next")
        stale.write_bytes(b"left by a killed publish")
        _load(wh, {"B": 1})
        assert _publish(wh, caplog) == "updated"
        assert not stale.exists()
        assert _differences(wh, settings) == []


def test_real_loads_publish_what_was_committed(settings: Settings, tmp_path: Path,
                                               caplog) -> None:
    """Exports of a simulated system loaded by the pipeline — new dossiers, newer versions of
    loaded ones, dirty rows quarantined, check results — each published: every publish from
    the third on updates the spare, and each holds the committed state."""
    from cchc import pipeline
    from simulator.exports import export_dossiers
    from simulator.testing import simulated_dataset
    from sources.files import file_sha256

    ds = simulated_dataset(scenario="scale", years=1, seed=5, dossiers=1500)
    start, hows, export = ds.period[0], [], None
    with Warehouse.session(settings) as wh:
        for n in range(5):
            if n % 2:  # the previous export again, 200 of its dossiers updated a day later
                rows = pl.read_csv(export, infer_schema_length=0).head(200).with_columns(
                    pl.col("Ngày cập nhật").str.strptime(pl.Datetime, "%d/%m/%Y %H:%M")
                    .dt.offset_by("1d").dt.strftime("%d/%m/%Y %H:%M"),
                    pl.lit("Hài lòng").alias("Đánh giá"))
                export = tmp_path / f"updated-{n}.csv"
                rows.write_csv(export)
            else:
                export = export_dossiers(
                    tmp_path / f"part-{n}.csv", dataset=ds,
                    date_from=start + timedelta(days=60 * n),
                    date_to=start + timedelta(days=60 * n + 90)).path
            batch = pipeline.stage_file(settings, export, file_sha256(export))
            summary = pipeline.load_batch(settings, batch)
            assert summary.status == "succeeded", summary.message
            hows.append(_publish(wh, caplog))
            assert _differences(wh, settings) == [], f"export {n}"
        loaded = wh.query("SELECT count(*) AS n, sum(core_updated) AS updated, "
                          "sum(rows_quarantined) AS q FROM etl_loads").row(0, named=True)
        checks = wh.query("SELECT count(*) FROM dq_results").item()
    assert loaded["n"] == 5 and loaded["updated"] > 100 and loaded["q"] > 0 and checks > 0
    assert hows == ["copied", "copied", "updated", "updated", "updated"]


def test_a_warehouse_restored_from_an_older_backup_is_copied(
        settings: Settings, units_csv: Path, caplog) -> None:
    """The spare may then hold newer versions than the warehouse (same row counts: updates):
    a spare that lists a load the warehouse does not is never brought up to date."""
    backup = settings.warehouse_path.with_name("backup.duckdb")
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        for n in range(3):
            _load(wh, {"A": n, "B": n})
            wh.publish()
        wh.con.execute("CHECKPOINT")
        shutil.copyfile(settings.warehouse_path, backup)
        for n in (3, 4):  # core updates only: every row count stays
            _load(wh, {"A": n, "B": n}, raw=False)
            wh.publish()
    shutil.copyfile(backup, settings.warehouse_path)  # restored, writer closed
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        _load(wh, {"C": 1})
        assert _publish(wh, caplog) == "copied"
        assert _differences(wh, settings) == []
        published = duckdb.connect(str(settings.published_path), read_only=True)
        try:
            assert published.execute("SELECT max(updated_at) FROM core_onestop__dossiers "
                                     "WHERE dossier_code = 'A'").fetchone() == (
                T0 + timedelta(days=2),)
        finally:
            published.close()


def test_loads_that_bring_much_are_published_by_a_copy(settings: Settings, units_csv: Path,
                                                       monkeypatch, caplog) -> None:
    """Taking many rows into the spare costs more than copying the file: above both limits
    (rows brought, share of the rows held) the publish copies."""
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        for n in range(3):
            _load(wh, {f"D{i}": n for i in range(20)})
            wh.publish()
        monkeypatch.setattr(snapshot_spare, "COPY_ABOVE_ROWS", 30)
        # the spare is two loads behind: 20 + 5 core rows, under both limits: updated
        _load(wh, {f"D{i}": 5 for i in range(5)})
        assert _publish(wh, caplog) == "updated"
        _load(wh, {f"E{i}": 1 for i in range(30)})  # 5 + 30: above 30 and 5 % of the rows
        assert _publish(wh, caplog) == "copied"
        assert _differences(wh, settings) == []
