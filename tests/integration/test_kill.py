"""SIGKILL `cchc ingest FILE` at a moment, then: the warehouse opens, the snapshot is readable
(`cchc sql`), and ingesting the same file again ends with exactly the figures of one clean load
(core fingerprint, raw/quarantine counts, form-06 totals, compared with a clean run in another
data folder); the temporary Prefect server the killed command started is stopped and the
staging leftovers are removed by the next start.

All under ``-m slow`` (each CLI run starts its own Prefect server: ≈ 60 s on a loaded 2-core
machine, so even one kill exceeds the default run's budget): one moment, then all 20."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from warehouse_state import published_figures

from cchc.prefect_env import orphaned_servers
from simulator.exports import export_dossiers
from simulator.testing import simulator_options

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a CLI run is ≈ 60 s here

SIM = simulator_options(scenario="scale", dossiers=600, seed=21, unknown_status=3)
PERIOD = dict(date_from=date(2021, 1, 1), date_to=date(2021, 6, 30))
MOMENTS = [round(random.Random(7).uniform(0.5, 25.0), 2) for _ in range(20)]


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(CCHC_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    env.pop("CCHC_CONFIG", None)
    (data.parent / "cchc.toml").write_text("chunk_rows = 100\n", encoding="utf-8")
    return env


def _cchc(data: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cchc.cli", *args], env=_env(data),
                          cwd=data.parent, capture_output=True, text=True, timeout=timeout)


def _figures(data: Path) -> tuple:
    return published_figures(data, PERIOD["date_from"], PERIOD["date_to"])


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return export_dossiers(tmp_path_factory.mktemp("kill-export") / "export.csv", options=SIM,
                           **PERIOD).path


@pytest.fixture(scope="module")
def clean(export: Path, tmp_path_factory) -> tuple:
    data = tmp_path_factory.mktemp("clean") / "data"
    done = _cchc(data, "ingest", str(export))
    assert done.returncode == 0, done.stdout + done.stderr
    return _figures(data)


def _kill_ingest_at(moment: float, export: Path, clean: tuple, tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "cchc.cli", "ingest", str(export)],
                            env=_env(data), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=False)
    try:
        proc.wait(timeout=moment)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The next start: the warehouse opens, the snapshot is readable, the same file again.
    again = _cchc(data, "ingest", str(export))
    assert again.returncode == 0, again.stdout + again.stderr
    readable = _cchc(data, "sql", "SELECT count(*) FROM etl_loads")
    assert readable.returncode == 0, readable.stdout + readable.stderr
    assert _figures(data) == clean
    prefect_home = data / "prefect"
    deadline = time.monotonic() + 10
    while orphaned_servers(prefect_home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert orphaned_servers(prefect_home) == []
    staging = data / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []


@pytest.mark.parametrize("moment", MOMENTS[:1])
def test_an_ingest_killed_at_a_moment_ends_as_one_clean_load(moment, export, clean,
                                                            tmp_path) -> None:
    _kill_ingest_at(moment, export, clean, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("moment", MOMENTS)
def test_an_ingest_killed_at_any_of_20_moments_ends_as_one_clean_load(moment, export, clean,
                                                                     tmp_path) -> None:
    _kill_ingest_at(moment, export, clean, tmp_path)
