"""The distributed set-up end to end: a Prefect server on PostgreSQL, a process work pool, and
two `cchc worker`s in processes of their own sharing the pool's runs, one writer at a time
through the server's writer slot (what the local file lock cannot do across machines)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pg_helpers import fresh_database, postgres_available

from cchc.service.prefect_server import start_prefect_server
from flows.deployments import DeploymentSpec

# ~25 s (a server, two workers, four flow-run processes on two cores): a slow variant.
pytestmark = [pytest.mark.server, pytest.mark.slow,
              pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL on 127.0.0.1:5432")]

HERE = Path(__file__).parent
POOL = "cchc-test-pool"
RUNS = 4
HOLD_S = 1.0


def _worker(name: str, data_dir: Path, api_url: str, auth: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, CCHC_DATA_DIR=str(data_dir), CCHC_PREFECT_API_URL=api_url,
               CCHC_PREFECT_AUTH_STRING=auth, CCHC_WORK_POOL=POOL,
               PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "cchc.cli", "worker", "--name", name,
                                 "--limit", "1"],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _runs_in_postgres(db_url: str) -> list[tuple[str, str]]:
    import asyncpg

    async def fetch():
        conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            rows = await conn.fetch("SELECT f.name, r.state_type FROM flow_run r "
                                    "JOIN flow f ON f.id = r.flow_id")
        finally:
            await conn.close()
        return [(r["name"], r["state_type"]) for r in rows]

    return asyncio.run(fetch())


async def _register_and_run(api_url: str, auth: str) -> list:
    from prefect import get_client
    from prefect.flow_runs import wait_for_flow_run
    from prefect.types.entrypoint import EntrypointType

    from cchc.service.pool import register_in_pool

    spec = DeploymentSpec("pool_standin_flows:pool_probe",
                          {"entrypoint_type": EntrypointType.MODULE_PATH})
    (deployment_id,) = await register_in_pool([spec], POOL)
    async with get_client() as client:
        for _ in range(240):  # both workers polling before any run exists: both get work
            if len(await client.read_workers_for_work_pool(POOL)) == 2:
                break
            await asyncio.sleep(0.25)
        runs = [await client.create_flow_run_from_deployment(
                    deployment_id, parameters={"label": f"d{i}", "hold_s": HOLD_S})
                for i in range(RUNS)]
        return await asyncio.gather(*(wait_for_flow_run(r.id, timeout=120, client=client,
                                                        log_states=False) for r in runs))


def test_two_workers_share_the_pool_one_writer_at_a_time(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    data = tmp_path / "data"
    with fresh_database() as db_url, \
            start_prefect_server(tmp_path / "home", database_url=db_url) as server:
        assert not (tmp_path / "home" / "prefect.db").exists()  # the database is PostgreSQL
        workers = [_worker(f"w{i}", data, server.api_url, server.auth_string,
                           tmp_path / f"worker{i}.log") for i in (1, 2)]
        try:
            with temporary_settings({PREFECT_API_URL: server.api_url,
                                     PREFECT_API_AUTH_STRING: server.auth_string}):
                sys.path.insert(0, str(HERE))
                try:
                    finished = asyncio.run(_register_and_run(server.api_url, server.auth_string))
                finally:
                    sys.path.remove(str(HERE))
            logs = "\n".join(p.read_text() for p in tmp_path.glob("worker*.log"))
            assert all(run.state.is_completed() for run in finished), ([r.state for r in finished], logs)
        finally:
            for worker in workers:
                _stop(worker)
        calls = [json.loads(line) for line in (data / "pool-calls.jsonl").read_text().splitlines()]
        assert sorted(c["label"] for c in calls) == [f"d{i}" for i in range(RUNS)]
        assert {c["worker_pid"] for c in calls} == {w.pid for w in workers}  # both took work
        spans = sorted((c["start"], c["end"]) for c in calls)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
        assert sorted(_runs_in_postgres(db_url)) == [("pool-probe", "COMPLETED")] * RUNS
