"""Benchmark: the same districts loaded by one worker and by two, against the embedded default.

One run, one machine (the figures are ratios of runs made side by side):

- the scale scenario exported per unit, one unit per district folder (``cchc.work_items``);
- **embedded**: ``cchc ingest`` of all the files on the default DuckDB backend (a fresh data
  folder; its wall time includes the temporary Prefect server that command starts);
- **pool, 1 worker / 2 workers**: a Prefect server on a fresh PostgreSQL database, a DuckLake
  whose catalog is a fresh schema there, N ``cchc worker`` processes (each with its own data
  folder, ``--limit 1``), and one ``load-scope`` run over the districts, timed from its start
  to its end (the server and the workers are up before).

Per-row cost = wall time / rows in the exports. On a 2-core machine two workers share the same
two cores, so the ratio shows what the narrowed writer slot lets overlap, not what two machines
would give.

    python bench/workers.py [--dossiers 120000] [--units 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "service"))

from pg_helpers import fresh_database  # noqa: E402

from cchc.config import load_settings  # noqa: E402
from cchc.service.prefect_server import start_prefect_server  # noqa: E402

POOL = "cchc-bench-pool"


def export(scope: Path, dossiers: int, units: int) -> tuple[list[Path], int]:
    from simulator.units import scale_units

    files, rows = [], 0
    for unit in scale_units(units):
        out = scope / f"d{unit.code}" / f"dossiers-{unit.code}.csv"
        out.parent.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "cchc.cli", "simulate", "export", "--scenario",
                        "scale", "--dossiers", str(dossiers), "--units", str(units), "--unit",
                        unit.code, "--out", str(out)], check=True, capture_output=True)
        files.append(out)
        with out.open("rb") as fh:
            rows += sum(1 for _ in fh) - 1
    return files, rows


def env_for(config: Path, data_dir: Path, api_url: str | None = None,
            auth: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CCHC_"))}
    # every machine of one installation hashes identity numbers with the same key
    env.update(CCHC_CONFIG=str(config), CCHC_DATA_DIR=str(data_dir),
               CCHC_ID_HASH_KEY=os.environ.get("CCHC_ID_HASH_KEY", "cchc-bench-identity-key-0123"))
    if api_url:
        env.update(CCHC_PREFECT_API_URL=api_url, CCHC_PREFECT_AUTH_STRING=auth or "",
                   PREFECT_API_URL=api_url, PREFECT_API_AUTH_STRING=auth or "")
    return env


def lake_config(path: Path, db_url: str, schema: str, files_dir: Path) -> Path:
    import asyncpg

    async def create():
        conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await conn.close()

    asyncio.run(create())
    dbname = db_url.rsplit("/", 1)[1]
    path.write_text(
        "[warehouse]\n"
        'backend = "ducklake"\n'
        f'catalog = "postgres:dbname={dbname} host=127.0.0.1 port=5432 user=postgres"\n'
        f'metadata_schema = "{schema}"\n'
        f'data_path = "{files_dir}/"\n'
        f'[service]\nwork_pool = "{POOL}"\n', encoding="utf-8")
    return path


async def register(settings, names: set[str]) -> None:
    from prefect import get_client

    from cchc.service.pool import register_in_pool
    from flows.deployments import DEFAULT_FLOWS, deployment_specs

    specs = [s for s in deployment_specs(settings) if s.flow_ref == DEFAULT_FLOWS.district]
    await register_in_pool(specs, POOL)
    async with get_client() as client:
        for _ in range(480):
            seen = {w.name for w in await client.read_workers_for_work_pool(POOL)}
            if names <= seen:
                return
            await asyncio.sleep(0.25)
    raise RuntimeError(f"workers {names} did not show up")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pool_run(tmp: Path, db_url: str, api: str, auth: str, scope: Path, n: int) -> float:
    """Wall time of one load-scope run with ``n`` workers, on a fresh lake."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    round_dir = tmp / f"pool{n}"
    round_dir.mkdir()
    config = lake_config(round_dir / "cchc.toml", db_url, f"bench_{uuid.uuid4().hex[:8]}",
                         round_dir / "lake-files")
    settings = load_settings(config, env={"CCHC_DATA_DIR": str(round_dir / "reader")})
    names = {f"bench{n}-w{i}" for i in range(1, n + 1)}
    workers = []
    for name in sorted(names):
        log = (round_dir / f"{name}.log").open("wb")
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "cchc.cli", "worker", "--name", name, "--limit", "1"],
            env=env_for(config, round_dir / name, api, auth), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True))
    try:
        with temporary_settings({PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: auth}):
            asyncio.run(register(settings, names))
        code = ("import sys, time; from flows.scope import load_scope; t = time.perf_counter(); "
                "load_scope(sys.argv[1]); print('WALL', time.perf_counter() - t)")
        done = subprocess.run([sys.executable, "-c", code, str(scope)],
                              env=env_for(config, round_dir / "parent", api, auth),
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
        return float(done.stdout.rsplit("WALL", 1)[1].split()[0])
    finally:
        for w in workers:
            stop(w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=120_000)
    parser.add_argument("--units", type=int, default=4, help="districts (one unit each)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cchc-bench-workers-") as tmp_s:
        tmp = Path(tmp_s)
        files, rows = export(tmp / "scope", args.dossiers, args.units)
        print(f"{len(files)} districts, {rows:,} rows ({args.dossiers:,} dossiers in the scenario)")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cchc.cli", "ingest", *map(str, files)],
                       env=env_for(tmp / "none.toml", tmp / "embedded"), check=True,
                       capture_output=True)
        embedded = time.perf_counter() - t0
        walls = {}
        with fresh_database("cchc_bench") as db_url, \
                start_prefect_server(tmp / "home", database_url=db_url) as server:
            for n in (1, 2):
                walls[n] = pool_run(tmp, db_url, server.api_url, server.auth_string,
                                    tmp / "scope", n)
        print("\n| set-up | wall | per row | against embedded |\n|---|---|---|---|")
        print(f"| embedded (cchc ingest, DuckDB file) | {embedded:.1f} s | "
              f"{embedded / rows * 1e6:.0f} µs | 1.00× |")
        for n, wall in walls.items():
            print(f"| pool, {n} worker{'s' if n > 1 else ''} (DuckLake on PostgreSQL) | "
                  f"{wall:.1f} s | {wall / rows * 1e6:.0f} µs | {wall / embedded:.2f}× |")
        print(f"\n2 workers / 1 worker wall time: {walls[2] / walls[1]:.2f}")


if __name__ == "__main__":
    main()
