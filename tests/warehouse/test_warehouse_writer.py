"""The writer session: transactions, the audit trail that survives a rollback, the lock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from warehouse_fixtures import core_frame, dossier, hold_writer

from cchc.config import Settings
from warehouse.lock import WarehouseBusy
from warehouse.reader import open_snapshot, run_query
from warehouse.seeds import load_admin_units
from warehouse.tables import CORE_ONESTOP_DOSSIERS, RAW_ONESTOP_DOSSIER_VERSIONS
from warehouse.writer import Warehouse

T1 = datetime(2022, 5, 1, tzinfo=UTC)


def test_seed_loader_types_codes_dates_and_aliases(units_csv: Path) -> None:
    units = load_admin_units(units_csv)
    assert units.schema["aliases"] == pl.List(pl.String)
    row = units.filter(pl.col("unit_code") == "24082").row(0, named=True)
    assert row["aliases"] == ["Ia RSươm", "IaRsươm"] and row["district_code"] == "637"
    assert units.filter(pl.col("unit_code") == "24076")["aliases"].to_list() == [[]]


def test_open_prepares_schema_seeds_and_views(settings: Settings, units_csv: Path) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        assert wh.units()["unit_code"].to_list() == ["24076", "24079", "24082", "637"]
        views = wh.query("SELECT view_name FROM duckdb_views() WHERE NOT internal")
        assert "out_onestop__dossiers" in views["view_name"].to_list()
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:  # reopen: nothing breaks
        assert wh.units().height == 4


def test_failed_load_rolls_back_data_and_watermark_but_keeps_its_audit(
    settings: Settings, units_csv: Path
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        ok = wh.begin_load("onestop", "pull", "window 1")
        with wh.transaction(ok):
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A")), ok)
            wh.set_watermark("onestop.dossiers", T1, ok)
        wh.finish_load(ok, "succeeded", rows_in=1, rows_loaded=1, core_inserted=1)
        before = wh.query("SELECT * FROM core_onestop__dossiers")

        bad = wh.begin_load("onestop", "file", "broken.xlsx", file_sha256="abc")
        with pytest.raises(RuntimeError, match="gate failed"), wh.transaction(bad):
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A", status=4, row_hash="0")), bad)
            wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("B")), bad)
            wh.write(RAW_ONESTOP_DOSSIER_VERSIONS, pl.DataFrame({"row_hash": ["r"]}), bad)
            wh.set_watermark("onestop.dossiers", datetime(2030, 1, 1, tzinfo=UTC), bad)
            wh.record_dq_results(bad, [{"expectation": "e", "success": False}])
            wh.raise_alert("gate_failed", "critical", "onestop", "schema drift", bad)
            raise RuntimeError("gate failed: schema drift")

        assert wh.query("SELECT * FROM core_onestop__dossiers").equals(before)
        assert wh.query("SELECT count(*) AS n FROM raw_onestop__dossier_versions")["n"][0] == 0
        assert wh.get_watermark("onestop.dossiers") == T1
        loads = wh.query("SELECT load_id, status, message FROM etl_loads ORDER BY load_id")
        assert loads.rows() == [
            (ok, "succeeded", None),
            (bad, "failed", "RuntimeError: gate failed: schema drift"),
        ]
        assert wh.query("SELECT load_id FROM dq_results")["load_id"].to_list() == [bad]
        assert wh.query("SELECT kind FROM dq_alerts")["kind"].to_list() == ["gate_failed"]
        assert wh.load_for_file("abc") is None  # a failed load does not count as done
        assert wh.last_success("onestop") is not None and wh.last_success("eoffice") is None


def test_audit_helpers(settings: Settings, units_csv: Path) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        first = wh.begin_load("onestop", "file", "a.csv", file_sha256="f00")
        second = wh.begin_load("onestop", "file", "a.csv", file_sha256="f00")
        assert first < second  # time-sortable ids
        wh.finish_load(
            first, "succeeded", rows_in=3, rows_duplicate=1, rows_loaded=2, rows_quarantined=0
        )
        assert wh.load_for_file("f00") == first
        with pytest.raises(TypeError, match="unknown counters"):
            wh.finish_load(second, "succeeded", rows_typo=1)
        with pytest.raises(ValueError, match="unknown load status"):
            wh.finish_load(second, "done")
        with pytest.raises(KeyError):
            wh.finish_load("nope", "failed")
        assert wh.get_watermark("s") is None
        wh.set_watermark("s", T1, first)
        wh.set_watermark("s", datetime(2022, 6, 1, tzinfo=UTC), second)
        assert wh.get_watermark("s") == datetime(2022, 6, 1, tzinfo=UTC)
        balanced = wh.query(
            "SELECT rows_balanced FROM out_quality__loads WHERE load_id = ?", [first]
        )
        assert balanced.item() is True  # 3 in = 1 duplicate + 2 loaded + 0 quarantined


def test_second_writer_waits_then_fails_clearly_while_readers_go_on(
    settings: Settings, units_csv: Path
) -> None:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A")), "L1")
        wh.publish()
    proc = hold_writer(units_csv, 30)
    try:
        reader = open_snapshot(settings)  # the writer holds the private file, not the snapshot
        assert run_query(reader, "SELECT count(*) FROM core_onestop__dossiers").item() == 1
        with (
            pytest.raises(WarehouseBusy, match=rf"another process.*pid {proc.pid}"),
            Warehouse.open(settings, admin_units_csv=units_csv, lock_timeout_s=0.5),
        ):
            pass
    finally:
        proc.kill()
        proc.wait()
    with Warehouse.open(settings, admin_units_csv=units_csv, lock_timeout_s=5) as wh:
        assert wh.units().height == 4


def test_a_load_left_running_by_a_dead_process_is_undone_at_the_next_open(
        settings: Settings, units_csv: Path) -> None:
    """Nothing was staged for it, so it cannot be finished: the next writer undoes it."""
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        orphan = wh.begin_load("onestop", "pull", "window")  # the process "dies" here
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        status, message = wh.query("SELECT status, message FROM etl_loads WHERE load_id = ?", [orphan]).row(0)
    assert status == "undone" and "staged batch is gone" in message


def test_a_load_runs_under_its_own_memory_limit_and_gives_it_back(settings, units_csv) -> None:
    """``[ingest] load_memory_limit`` holds while a load writes its parts; the configured
    ``duckdb_memory_limit`` is back afterwards, also when the load fails."""

    def limit(wh) -> str:
        return wh.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        configured = limit(wh)
        with wh.memory_limit("300MB"):
            assert limit(wh) == "286.1 MiB" != configured
        assert limit(wh) == configured
        with pytest.raises(RuntimeError), wh.memory_limit("300MB"):
            raise RuntimeError("the load failed")
        assert limit(wh) == configured
        with wh.memory_limit(""):
            assert limit(wh) == configured


def test_a_loads_publish_and_dashboard_run_under_the_load_memory_limit(settings, units_csv,
                                                                        monkeypatch) -> None:
    """The publish after a load (a checkpoint and a copy of the file) and the dashboard page it
    redraws keep ``[ingest] load_memory_limit``; the limit is given back afterwards."""
    import dataclasses

    from cchc import pipeline

    seen = []

    def publish_noting_the_limit(wh):
        seen.append(wh.con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return settings.published_path

    settings = dataclasses.replace(settings, ingest=dataclasses.replace(
        settings.ingest, load_memory_limit="300MB"))
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        configured = wh.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        monkeypatch.setattr(Warehouse, "publish", publish_noting_the_limit)
        pipeline.publish_loaded(wh, settings)
        assert seen == ["286.1 MiB"] != [configured]
        assert wh.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == configured
    assert pipeline.load_settings(settings).duckdb_memory_limit == "300MB"
    unlimited = dataclasses.replace(settings, ingest=dataclasses.replace(
        settings.ingest, load_memory_limit=""))
    assert pipeline.load_settings(unlimited) is unlimited
