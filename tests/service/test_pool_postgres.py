"""The distributed set-up end to end: a Prefect server on PostgreSQL, a process work pool, and
`cchc worker` in its own process running the pool's flow runs."""

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

pytestmark = [pytest.mark.server,
              pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL on 127.0.0.1:5432")]

HERE = Path(__file__).parent
POOL = "cchc-test-pool"


def _worker(data_dir: Path, api_url: str, auth: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, CCHC_DATA_DIR=str(data_dir), CCHC_PREFECT_API_URL=api_url,
               CCHC_PREFECT_AUTH_STRING=auth, CCHC_WORK_POOL=POOL,
               PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "cchc.cli", "worker", "--name", "w1"],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


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


def test_a_worker_runs_the_pool_deployment_recorded_in_postgres(tmp_path: Path) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings
    from prefect.types.entrypoint import EntrypointType

    from cchc.service.pool import register_in_pool

    data = tmp_path / "data"
    with fresh_database() as db_url, \
            start_prefect_server(tmp_path / "home", database_url=db_url) as server:
        assert not (tmp_path / "home" / "prefect.db").exists()  # the database is PostgreSQL
        worker = _worker(data, server.api_url, server.auth_string, tmp_path / "worker.log")
        try:
            with temporary_settings({PREFECT_API_URL: server.api_url,
                                     PREFECT_API_AUTH_STRING: server.auth_string}):
                sys.path.insert(0, str(HERE))
                try:
                    spec = DeploymentSpec("pool_standin_flows:pool_probe",
                                          {"entrypoint_type": EntrypointType.MODULE_PATH})
                    asyncio.run(register_in_pool([spec], POOL))
                finally:
                    sys.path.remove(str(HERE))
                run = run_deployment("pool-probe/cchc", parameters={"label": "a"}, timeout=90)
            assert run.state.is_completed(), (run.state, (tmp_path / "worker.log").read_text())
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        calls = [json.loads(line) for line in (data / "pool-calls.jsonl").read_text().splitlines()]
        assert [c["label"] for c in calls] == ["a"]
        assert calls[0]["pid"] != os.getpid()  # ran in the worker's child, not here
        assert ("pool-probe", "COMPLETED") in _runs_in_postgres(db_url)
