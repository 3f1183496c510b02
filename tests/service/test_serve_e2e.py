"""``cchc serve`` end to end with the real flows, the simulator and the warehouse: a dropped
export's rows become queryable, a badly signed notification starts nothing, a signed one starts
the pull, and the service killed in the middle of that pull ends, after a restart, with a
complete warehouse without duplicates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from service_helpers import SECRET, Serve, api, flow_runs, make_serve, wait_for

from cchc.config import Settings
from cchc.service.hooks import sign

pytestmark = [pytest.mark.server, pytest.mark.integration]

SIM = {"scenario": "scale", "dossiers": 3000, "dirt": "clean", "seed": 11}
NOTE = json.dumps({"event": "dossier.changed", "changed_since": "2021-01-01T00:00:00Z",
                   "count": 3000}).encode()


@dataclass
class World:
    base_url: str
    truth_codes: set[str]
    dataset: object


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from simulator.testing import running_simulator, simulated_dataset

    ds = simulated_dataset(**SIM)
    # every page answered after 0.5 s (the faults are seeded: no chance in it), so a pull of
    # the 15 pages takes 7.5 s at least and a test can kill the service mid-pull, 3 s in; a
    # quarter of the pages slow left a fast machine finishing before the kill
    with running_simulator(**SIM, rate_slow=1.0, slow_seconds=0.5) as base_url:
        yield World(base_url, set(ds.truth["MaHoSo"].to_list()), ds)


def serve_for(tmp: Path, api_url: str, world: World, *, catch_up: bool = False) -> Serve:
    return make_serve(tmp, api_url, standins=False, catch_up=catch_up, extra_config={
        "source": {"base_url": world.base_url, "page_size": 200, "initial_since": "2020-01-01T00:00:00Z"},
    })


def core_codes(data_dir: Path) -> list[str]:
    """Dossier codes in the published snapshot's core table ([] before the first publish)."""
    from warehouse.reader import SnapshotMissing, open_snapshot

    try:
        con = open_snapshot(Settings(data_dir=data_dir))
    except SnapshotMissing:
        return []
    try:
        return [r[0] for r in con.execute("select dossier_code from core_onestop__dossiers").fetchall()]
    finally:
        con.close()


def notify(serve: Serve, secret: str = SECRET) -> httpx.Response:
    return httpx.post(serve.hook_url, content=NOTE, headers={"X-Signature": sign(NOTE, secret)})


@pytest.fixture(scope="module")
def service(prefect_server, world, tmp_path_factory) -> Iterator[Serve]:
    serve = serve_for(tmp_path_factory.mktemp("serve-e2e"), prefect_server.api_url, world).start()
    print(f"\ncchc serve (real flows) ready in {serve.ready_s:.1f} s")
    yield serve
    serve.kill()


def test_dropped_export_becomes_queryable(service: Serve, world: World) -> None:
    from simulator.exports import export_dossiers

    staged = service.data_dir.parent / "export-2021-01.xlsx"
    result = export_dossiers(staged, dataset=world.dataset, date_from=date(2021, 1, 1),
                             date_to=date(2021, 1, 31))
    t0 = time.monotonic()
    os.rename(staged, service.data_dir / "inbox" / staged.name)  # a completed file appears
    codes = wait_for(lambda: core_codes(service.data_dir), 180, every_s=0.5, what="rows in the snapshot")
    print(f"\ndrop -> {len(codes)} rows queryable: {time.monotonic() - t0:.1f} s")
    assert len(codes) == result.rows
    assert set(codes) <= world.truth_codes
    # The flow publishes, then moves the file: the archive may follow the rows by a moment.
    archived = service.data_dir / "archive" / staged.name
    wait_for(archived.exists, 60, every_s=0.2, what="the file in archive/")
    assert not (service.data_dir / "inbox" / staged.name).exists()


def test_cchc_ingest_hands_the_file_to_the_running_service(service: Serve, world: World) -> None:
    """With the service up, `cchc ingest` starts no Prefect server of its own: the service's
    ingest deployment loads the file (from a private hand-off copy, removed afterwards) and the
    command prints the same summary; the load names the file it was given."""
    from simulator.exports import export_dossiers

    export = service.data_dir.parent / "handed-2021-02.xlsx"
    result = export_dossiers(export, dataset=world.dataset, date_from=date(2021, 2, 1),
                             date_to=date(2021, 2, 10))
    before = set(core_codes(service.data_dir))
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "cchc.cli", "ingest", str(export)],
                          env={**service.env, "COLUMNS": "250"}, cwd=service.data_dir.parent,
                          capture_output=True,
                          text=True, timeout=180)
    print(f"\ncchc ingest handed to the service: {time.monotonic() - t0:.1f} s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "handing the work to cchc serve" in done.stdout
    assert "succeeded" in done.stdout
    added = set(core_codes(service.data_dir)) - before
    assert added and added <= world.truth_codes  # (some rows are January dossiers, changed)
    from warehouse.reader import open_snapshot

    con = open_snapshot(Settings(data_dir=service.data_dir))
    try:  # the load names the file the user gave, not the hand-off copy
        loads = con.execute("select status, rows_in from etl_loads where source = ?",
                            [str(export.resolve())]).fetchall()
    finally:
        con.close()
    assert loads == [("succeeded", result.rows)]
    assert export.exists()  # the user's file stays where it was
    assert not any((service.data_dir / "handoff").iterdir())


def test_badly_signed_notification_starts_nothing(service: Serve) -> None:
    before = {r["id"] for r in flow_runs(service.api_url, "onestop-pull")}
    assert notify(service, secret="wrong").status_code == 401
    time.sleep(4)
    assert {r["id"] for r in flow_runs(service.api_url, "onestop-pull")} == before


def test_signed_notification_pulls_and_a_kill_mid_pull_still_ends_complete(
        service: Serve, world: World) -> None:
    t0 = time.monotonic()
    assert notify(service).status_code == 202

    def pulling():
        runs = [r for r in flow_runs(service.api_url, "onestop-pull") if r["state_type"] == "RUNNING"]
        return runs[-1] if runs else None

    killed = wait_for(pulling, 120, what="the pull the notification triggers")
    print(f"\nnotify -> pull running: {time.monotonic() - t0:.1f} s")
    time.sleep(3)  # in the middle of paging through the API
    service.kill()  # SIGKILL to serve and its flow-run children: a power cut
    assert set(core_codes(service.data_dir)) != world.truth_codes  # not finished when killed

    service.start()  # catch-up off: the recovered run alone must complete the warehouse
    assert api(service.api_url, "GET", f"/flow_runs/{killed['id']}").json()["state_type"] == "CRASHED"
    wait_for(lambda: set(core_codes(service.data_dir)) == world.truth_codes, 240, every_s=1,
             what="a complete warehouse after the restart")
    codes = core_codes(service.data_dir)
    assert len(codes) == len(set(codes)) == len(world.truth_codes)
    recovered = [r for r in flow_runs(service.api_url, "onestop-pull") if "recovered" in r["tags"]]
    assert recovered and recovered[-1]["parameters"] == killed["parameters"]
    from warehouse.reader import open_snapshot

    con = open_snapshot(Settings(data_dir=service.data_dir))
    try:
        dupes = con.execute("select count(*) - count(distinct row_hash) "
                            "from raw_onestop__dossier_versions").fetchone()[0]
    finally:
        con.close()
    assert dupes == 0
    assert service.stop() == 0
