"""The distributed set-up's settings: the server's database, the work pool, `cchc worker`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc.config import load_settings
from cchc.service.pool import configured_pool, run_worker, worker_name
from cchc.service.prefect_server import DATABASE_ENV, server_env

PG = "postgresql+asyncpg://cchc@db.example:5432/prefect"


def test_the_server_gets_the_configured_database_and_sqlite_by_default(tmp_path: Path) -> None:
    assert server_env(tmp_path, base={}, database_url=PG)[DATABASE_ENV] == PG
    # default: no URL, and one inherited from the caller's shell does not leak in
    assert DATABASE_ENV not in server_env(tmp_path, base={DATABASE_ENV: "sqlite+aiosqlite:///x"})


def test_database_and_pool_come_from_the_file_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "cchc.toml"
    config.write_text(f'[service]\nprefect_database_url = "{PG}"\nwork_pool = "district-pool"\n',
                      encoding="utf-8")
    from_file = load_settings(config, env={})
    assert from_file.service.prefect_database_url == PG
    assert configured_pool(from_file) == "district-pool"
    from_env = load_settings(tmp_path / "absent.toml",
                             env={"CCHC_PREFECT_DATABASE_URL": PG, "CCHC_WORK_POOL": "p2"})
    assert (from_env.service.prefect_database_url, configured_pool(from_env)) == (PG, "p2")
    default = load_settings(tmp_path / "absent.toml", env={})
    assert (default.service.prefect_database_url, configured_pool(default)) == (None, None)


def test_a_worker_refuses_to_start_without_a_pool_or_a_server(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml", env={"CCHC_DATA_DIR": str(tmp_path)})
    with pytest.raises(RuntimeError, match="work_pool"):
        run_worker(settings)
    with pytest.raises(RuntimeError, match="prefect_api_url"):
        run_worker(settings, pool="p")
    assert worker_name("w1") == "w1" and worker_name().startswith("cchc-")


class _FakeClient:
    """Records what start_in_pool asks of the server."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def upsert_global_concurrency_limit_by_name(self, name: str, limit: int) -> None:
        self.calls.append(("limit", name, limit))

    async def read_automations_by_name(self, name: str) -> list:
        return [name] if ("automation", name) in [c[:2] for c in self.calls] else []

    async def create_automation(self, automation) -> None:
        self.calls.append(("automation", automation.name,
                           automation.trigger.within.total_seconds(),
                           [a.type for a in automation.actions]))

    async def create_flow_run_from_deployment(self, deployment_id, tags=None):
        from types import SimpleNamespace

        self.calls.append(("run", deployment_id, tuple(tags or ())))
        return SimpleNamespace(id=f"run-of-{deployment_id}")

    def __getattr__(self, name: str):  # anything else (crash runs, free slots) is a failure
        raise AssertionError(f"start_in_pool must not call {name}")


def test_serve_in_pool_mode_keeps_the_writer_limit_and_leaves_workers_runs_alone() -> None:
    import asyncio

    from cchc.names import WRITER_LIMIT
    from cchc.service.pool import CRASHED_RUNS_AUTOMATION, start_in_pool

    client = _FakeClient()
    done = asyncio.run(start_in_pool(client, WRITER_LIMIT, ["d1", "d2"], catch_up=True,
                                     crashed_after_s=75))
    crashed = ("automation", CRASHED_RUNS_AUTOMATION, 75.0, ["change-flow-run-state"])
    assert client.calls == [("limit", WRITER_LIMIT, 1), crashed, ("run", "d1", ("catch-up",)),
                            ("run", "d2", ("catch-up",))]
    assert done.catch_up == ["run-of-d1", "run-of-d2"] and not done.crashed
    client = _FakeClient()
    asyncio.run(start_in_pool(client, WRITER_LIMIT, ["d1"], catch_up=False))
    asyncio.run(start_in_pool(client, WRITER_LIMIT, ["d1"], catch_up=False))  # a restart
    assert client.calls == [("limit", WRITER_LIMIT, 1), (*crashed[:2], 90.0, crashed[3]),
                            ("limit", WRITER_LIMIT, 1)]  # the automation is created once


def test_pool_mode_adds_work_items_heartbeats_and_the_slot_lease(tmp_path: Path) -> None:
    from cchc.service.runtime import prefect_environment
    from cchc.writer_slot import MIN_LEASE_S
    from flows.deployments import deployment_specs

    embedded = load_settings(tmp_path / "none.toml", env={"CCHC_DATA_DIR": str(tmp_path)})
    pooled = load_settings(tmp_path / "none.toml", env={
        "CCHC_DATA_DIR": str(tmp_path), "CCHC_WORK_POOL": "p", "CCHC_WRITER_LEASE_S": "75"})
    refs = [s.flow_ref for s in deployment_specs(pooled)]
    assert refs[-2:] == ["flows.scope:load_district", "flows.scope:load_scope"]
    assert not any("scope" in s.flow_ref for s in deployment_specs(embedded))
    assert prefect_environment(pooled, None)["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
    assert "PREFECT_FLOWS_HEARTBEAT_FREQUENCY" not in prefect_environment(embedded, None)
    assert pooled.service.writer_lease_s == 75.0 and embedded.service.writer_lease_s == 300.0
    assert MIN_LEASE_S == 60.0
