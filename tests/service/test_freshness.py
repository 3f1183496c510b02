"""The missing-data alert logic, without a server (the server test proves the event arrives)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cchc.config import ServiceSettings, Settings
from cchc.service.events import STALE_SOURCE
from cchc.service.freshness import check, find_stale

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def settings(tmp_path: Path, hours: float = 26) -> Settings:
    return Settings(data_dir=tmp_path, service=ServiceSettings(stale_after_hours=hours))


def test_fresh_source_is_not_stale() -> None:
    assert find_stale({"onestop": NOW - timedelta(hours=25, minutes=59)}, NOW, 26) == []


def test_old_or_missing_sources_are_stale() -> None:
    stale = find_stale({"onestop": NOW - timedelta(hours=30), "eoffice": None}, NOW, 26)
    assert [(s.source_system, s.hours_since) for s in stale] == [("eoffice", None), ("onestop", 30.0)]
    assert "30.0 h" in stale[1].message


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict]] = []

    def __call__(self, event: str, resource: str, payload: dict) -> bool:
        self.events.append((event, resource, payload))
        return True


def test_check_emits_and_records_once_per_episode(tmp_path: Path) -> None:
    emitted, recorded = Recorder(), []
    last = {"onestop": NOW - timedelta(hours=40)}

    def run(now: datetime = NOW):
        return check(settings(tmp_path), ["onestop"], emit=emitted, lookup=lambda s, src: last,
                     record=recorded.append, now=now)

    assert [s.source_system for s in run()] == ["onestop"]
    run(NOW + timedelta(hours=1))  # an hour later: still stale, alert again, no second record
    assert [e[0] for e in emitted.events] == [STALE_SOURCE, STALE_SOURCE]
    assert emitted.events[0][1] == "cchc.source.onestop"
    assert emitted.events[0][2]["source_system"] == "onestop"
    assert len(recorded) == 1

    last["onestop"] = NOW + timedelta(hours=1)  # a load succeeded: fresh, nothing emitted
    assert run(NOW + timedelta(hours=2)) == []
    assert len(emitted.events) == 2

    last["onestop"] = NOW - timedelta(hours=1)  # a new episode later on
    run(NOW + timedelta(hours=30))
    assert len(recorded) == 2


def test_a_failing_record_does_not_stop_the_alert(tmp_path: Path) -> None:
    emitted = Recorder()

    def broken(_):
        raise RuntimeError("warehouse busy")

    stale = check(settings(tmp_path), ["onestop"], emit=emitted, lookup=lambda s, src: {"onestop": None},
                  record=broken, now=NOW)
    assert len(stale) == 1 and len(emitted.events) == 1


def test_against_the_real_warehouse_fresh_then_stale_and_recorded(tmp_path: Path) -> None:

    from cchc.service.freshness import read_last_success, record_in_warehouse
    from warehouse.reader import open_snapshot
    from warehouse.writer import Warehouse

    s = settings(tmp_path)
    assert read_last_success(s, ["onestop"]) == {"onestop": None}  # nothing published yet
    with Warehouse.open(s) as wh:
        load_id = wh.begin_load("onestop", "pull", "test window")
        wh.finish_load(load_id, "succeeded")
        wh.publish()
    last = read_last_success(s, ["onestop"])["onestop"]
    assert last is not None and abs((datetime.now(UTC) - last).total_seconds()) < 600

    emitted = Recorder()
    assert check(s, ["onestop"], emit=emitted) == []  # fresh: no alert
    assert emitted.events == []

    later = datetime.now(UTC) + timedelta(hours=27)
    stale = check(s, ["onestop"], emit=emitted, now=later,
                  record=record_in_warehouse(s, writer_slot=False))
    assert [x.source_system for x in stale] == ["onestop"] and len(emitted.events) == 1
    con = open_snapshot(s)
    try:
        rows = con.execute("select kind, severity, source_system from dq_alerts").fetchall()
    finally:
        con.close()
    assert ("stale_source", "warning", "onestop") in rows
