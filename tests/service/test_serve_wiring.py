"""``cchc serve`` against a real Prefect server, with stand-in flows: schedules stored with their
time zone, the hook and the inbox triggering the right deployments with the right parameters,
the missing-data alert, Ctrl-C, and recovery after a kill. (tests/service/test_serve_e2e.py does
the same with the real flows, the simulator and the warehouse.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from service_helpers import SECRET, Serve, api, events, make_serve, wait_for

from cchc.service.hooks import sign

pytestmark = pytest.mark.server

NOTE = json.dumps({"event": "dossier.changed", "changed_since": "2026-11-25T17:00:00Z",
                   "count": 3}).encode()


@pytest.fixture(scope="module")
def service(prefect_server, tmp_path_factory) -> Iterator[Serve]:
    tmp = tmp_path_factory.mktemp("serve-wiring")
    serve = make_serve(tmp, prefect_server.api_url, standins=True)
    inbox = serve.data_dir / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "waiting-at-start.csv").write_text("STT\n1\n", encoding="utf-8")
    serve.start()
    print(f"\ncchc serve (stand-ins) ready in {serve.ready_s:.1f} s")
    yield serve
    serve.kill()


def calls(serve: Serve, flow: str) -> list[dict]:
    path = serve.data_dir / "standin-calls.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [c for c in lines if c["flow"] == flow]


def test_file_waiting_at_start_is_ingested(service: Serve) -> None:
    found = wait_for(lambda: calls(service, "ingest-file"), 60, what="ingest of the waiting file")
    assert found[0]["params"] == {"path": str(service.data_dir / "inbox" / "waiting-at-start.csv"),
                                  "from_inbox": True}


def test_nightly_schedule_is_stored_in_local_time(service: Serve) -> None:
    d = api(service.api_url, "GET", "/deployments/name/onestop-pull/cchc").json()
    assert d["status"] == "READY"
    [schedule] = d["schedules"]
    assert schedule["schedule"]["cron"] == "0 2 * * *"
    assert schedule["schedule"]["timezone"] == "Asia/Ho_Chi_Minh"
    assert schedule["active"] is True

    def next_run():
        runs = api(service.api_url, "POST", "/flow_runs/filter", json={
            "deployments": {"id": {"any_": [d["id"]]}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "sort": "EXPECTED_START_TIME_ASC", "limit": 5}).json()
        return [r for r in runs if r["auto_scheduled"]]

    runs = wait_for(next_run, 90, every_s=1, what="the scheduler to plan nightly runs")
    first = datetime.fromisoformat(runs[0]["expected_start_time"]).astimezone(UTC)
    local = first.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (first.hour, first.minute) == (19, 0)  # 02:00 +07 is 19:00 UTC the day before
    assert (local.hour, local.minute) == (2, 0) and local.date() == first.date() + timedelta(days=1)
    assert first > datetime.now(UTC)


def test_every_deployment_is_served_by_one_process(service: Serve) -> None:
    for name in ("onestop-pull/cchc", "ingest-file/cchc", "freshness-check/cchc"):
        assert api(service.api_url, "GET", f"/deployments/name/{name}").json()["status"] == "READY"
    hourly = api(service.api_url, "GET", "/deployments/name/freshness-check/cchc").json()
    assert hourly["schedules"][0]["schedule"]["timezone"] == "Asia/Ho_Chi_Minh"


def test_the_prefect_api_refuses_requests_without_the_auth_string(service: Serve) -> None:
    """A local user cannot start an ingest of any file they like through the API."""
    d = api(service.api_url, "GET", "/deployments/name/ingest-file/cchc").json()
    before = len(calls(service, "ingest-file"))
    for headers in ({}, {"Authorization": "Basic d3Jvbmc="}):  # none, and "wrong"
        refused = httpx.post(f"{service.api_url}/deployments/{d['id']}/create_flow_run",
                             json={"parameters": {"path": "/etc/passwd"}}, headers=headers)
        assert refused.status_code == 401
        assert httpx.post(f"{service.api_url}/flow_runs/filter", json={},
                          headers=headers).status_code == 401
    assert httpx.get(f"{service.api_url}/health").status_code == 200  # probes stay open
    time.sleep(2)
    assert len(calls(service, "ingest-file")) == before


def test_an_unreachable_source_is_one_line_at_start(service: Serve) -> None:
    log = (service.data_dir / "logs" / "serve.log").read_text()
    [line] = [x for x in log.splitlines() if "source onestop unreachable" in x]
    assert "[sources.onestop] base_url / CCHC_ONESTOP_URL" in line


def test_signed_notification_pulls_and_badly_signed_does_not(service: Serve) -> None:
    before = len(calls(service, "onestop-pull"))
    bad = httpx.post(service.hook_url, content=NOTE, headers={"X-Signature": sign(NOTE, "wrong")})
    unsigned = httpx.post(service.hook_url, content=NOTE)
    assert (bad.status_code, unsigned.status_code) == (401, 401)
    time.sleep(4)  # ample for a trigger to fire (it takes ~1-3 s)
    assert len(calls(service, "onestop-pull")) == before

    t0 = datetime.now(UTC)
    good = httpx.post(service.hook_url, content=NOTE, headers={"X-Signature": sign(NOTE, SECRET)})
    assert good.status_code == 202
    pulls = wait_for(lambda: calls(service, "onestop-pull")[before:], 60, what="the triggered pull")
    latency = (datetime.fromisoformat(pulls[0]["at"]) - t0).total_seconds()
    print(f"\nnotify -> pull flow running: {latency:.1f} s")
    assert pulls[0]["params"] == {"since": None, "until": None}  # from the watermark
    time.sleep(2)
    assert len(calls(service, "onestop-pull")) == before + 1
    # events are stored by a background persister: wait for it
    [event] = wait_for(lambda: [e for e in events(service.api_url, "cchc.onestop.changed")
                                if e["payload"]["count"] == 3][-1:], 30, what="the stored event")
    assert event["resource"]["prefect.resource.id"] == "cchc.source.onestop"


def test_dropped_file_is_ingested_with_its_path(service: Serve) -> None:
    inbox = service.data_dir / "inbox"
    before = len(calls(service, "ingest-file"))
    t0 = time.monotonic()
    (inbox / "dropped.csv.part").write_text("STT\n1\n", encoding="utf-8")
    (inbox / "dropped.csv.part").rename(inbox / "dropped.csv")
    new = wait_for(lambda: calls(service, "ingest-file")[before:], 60, what="the ingest run")
    print(f"\ndrop -> ingest flow running: {time.monotonic() - t0:.1f} s")
    assert new[0]["params"] == {"path": str(inbox / "dropped.csv"), "from_inbox": True}
    time.sleep(1)
    assert len(calls(service, "ingest-file")) == before + 1  # the .part file started nothing


def test_stale_source_raises_the_alert_event(service: Serve) -> None:
    d = api(service.api_url, "GET", "/deployments/name/freshness-check/cchc").json()
    run = api(service.api_url, "POST", f"/deployments/{d['id']}/create_flow_run", json={}).json()

    def finished():
        state = api(service.api_url, "GET", f"/flow_runs/{run['id']}").json()["state"]
        return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

    assert wait_for(finished, 90, what="the freshness check")["type"] == "COMPLETED"
    # Each enabled system is judged on its own: both have never loaded here.
    alerts = wait_for(lambda: (found := events(service.api_url, "cchc.alert.stale-source"))
                      and len({a["resource"]["prefect.resource.id"] for a in found}) >= 2 and found,
                      30, what="a stale-source event per system")
    assert {a["resource"]["prefect.resource.id"] for a in alerts} == {"cchc.source.onestop",
                                                                      "cchc.source.eoffice"}
    assert all(a["payload"]["last_success"] is None for a in alerts)  # nothing was ever loaded


def test_backfill_runs_month_by_month_through_the_deployment_and_resumes(service: Serve) -> None:
    cmd = [sys.executable, "-m", "cchc.cli", "backfill", "--from", "2021-01-01", "--to", "2021-02-28"]
    before = len(calls(service, "onestop-pull"))
    done = subprocess.run(cmd, env=service.env, cwd=service.data_dir.parent, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "through deployment onestop-pull/cchc" in done.stderr
    windows = [c["params"] for c in calls(service, "onestop-pull")[before:]]
    assert windows == [{"since": "2020-12-31T17:00:00Z", "until": "2021-01-31T17:00:00Z"},
                       {"since": "2021-01-31T17:00:00Z", "until": "2021-02-28T17:00:00Z"}]
    again = subprocess.run(cmd, env=service.env, cwd=service.data_dir.parent, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and "2 already done" in again.stderr
    assert len(calls(service, "onestop-pull")) == before + 2


def test_killed_during_a_run_then_restarted_the_run_is_done_again(service: Serve) -> None:
    (service.data_dir / "slow-pull").touch()
    d = api(service.api_url, "GET", "/deployments/name/onestop-pull/cchc").json()
    params = {"since": "2021-01-01T00:00:00Z", "until": "2021-02-01T00:00:00Z"}
    run = api(service.api_url, "POST", f"/deployments/{d['id']}/create_flow_run",
              json={"parameters": params}).json()

    def running():
        return api(service.api_url, "GET", f"/flow_runs/{run['id']}").json()["state_type"] == "RUNNING"

    wait_for(running, 60, what="the pull to run")
    time.sleep(2)  # inside the writer slot
    limit = api(service.api_url, "GET", "/v2/concurrency_limits/cchc-warehouse-writer").json()
    assert limit["active_slots"] == 1
    service.kill()
    os.remove(service.data_dir / "slow-pull")
    assert api(service.api_url, "GET", f"/flow_runs/{run['id']}").json()["state_type"] == "RUNNING"

    service.start()  # the second start finds the state the first one left
    old = api(service.api_url, "GET", f"/flow_runs/{run['id']}").json()
    assert old["state_type"] == "CRASHED"
    again = wait_for(lambda: [c for c in calls(service, "onestop-pull") if c["params"] == params],
                     60, what="the recovered pull")
    assert len(again) == 1
    recovered = api(service.api_url, "GET", f"/flow_runs/{again[0]['flow_run_id']}").json()
    assert "recovered" in recovered["tags"]


def test_ctrl_c_stops_everything_cleanly(service: Serve) -> None:
    t0 = time.monotonic()
    assert service.stop(signal.SIGINT) == 0
    print(f"\nCtrl-C -> stopped in {time.monotonic() - t0:.1f} s")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{service.hook_port}/health", timeout=1)
    assert "stopped" in Path(service.data_dir / "logs" / "serve.log").read_text()
    # pause_on_shutdown=False: the schedule stays active and its planned runs stay on the server,
    # so a night missed while the service is down runs when it starts again
    d = api(service.api_url, "GET", "/deployments/name/onestop-pull/cchc").json()
    assert d["paused"] is False
    planned = api(service.api_url, "POST", "/flow_runs/filter", json={
        "deployments": {"id": {"any_": [d["id"]]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}).json()
    assert [r for r in planned if r["auto_scheduled"]]
