"""SIGKILL a load at random moments: the pipeline's own steps (stage, load, publish) of a file
ingest and of a pull, in a subprocess without Prefect, so one kill costs seconds, not a server
start (``test_kill.py`` kills the real CLI under ``-m slow``; ``tests/service`` kills ``cchc
serve`` mid-pull). After each kill a snapshot that exists is whole and readable, the next writer
finishes or undoes the interrupted load, and running the same input again ends with exactly the
figures of one clean run. One moment per kind in the default run, twenty under ``-m slow``."""

from __future__ import annotations

import contextlib
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

from simulator.exports import export_dossiers
from simulator.testing import running_simulator, simulator_options
from warehouse.reader import SnapshotMissing

pytestmark = pytest.mark.integration

SIM = dict(scenario="scale", dossiers=600, seed=21, unknown_status=3)
PERIOD = dict(date_from=date(2021, 1, 1), date_to=date(2021, 6, 30))
# argv: "file PATH" or "pull" (the one-stop system at CCHC_ONESTOP_URL, a fixed window).
RUN = """
import sys
from pathlib import Path
from cchc import pipeline
from cchc.config import load_settings
from sources.files import file_sha256
from sources.registry import source
s = load_settings()
if sys.argv[1] == "file":
    path = Path(sys.argv[2])
    batch = pipeline.stage_file(s, path, file_sha256(path))
else:
    since, until = pipeline.resolve_window(s, source("onestop"), "2020-01-01T00:00:00Z",
                                           "2026-01-01T00:00:00Z")
    batch = pipeline.stage_pull(s, source("onestop"), pipeline.parse_instant(since),
                                pipeline.parse_instant(until))
summary = pipeline.load_batch(s, batch)
assert summary.status == "succeeded", summary
pipeline.publish(s)
pipeline.cleanup(batch)
"""
# Moments as shares of a clean run's duration (imports, staging, parts, publish), so every
# kill lands inside the run however fast the machine is.
SHARES = [round(random.Random(11).uniform(0.15, 0.9), 2) for _ in range(20)]


def _run(data: Path, args: list[str], url: str) -> subprocess.Popen:
    data.parent.mkdir(parents=True, exist_ok=True)
    (data.parent / "cchc.toml").write_text("chunk_rows = 100\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(CCHC_DATA_DIR=str(data), GX_ANALYTICS_ENABLED="false", CCHC_ONESTOP_URL=url)
    env.pop("CCHC_CONFIG", None)
    return subprocess.Popen([sys.executable, "-c", RUN, *args], env=env, cwd=data.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _figures(data: Path) -> tuple:
    return published_figures(data, PERIOD["date_from"], PERIOD["date_to"])


@pytest.fixture(scope="module")
def simulator() -> str:
    with running_simulator(**SIM) as url:
        yield url


@pytest.fixture(scope="module", params=["file", "pull"])
def kind(request, tmp_path_factory, simulator) -> tuple[list[str], tuple, float]:
    """The run's arguments, the figures of one clean run, and how long it took."""
    args = ["pull"]
    if request.param == "file":
        export = export_dossiers(tmp_path_factory.mktemp("kill-export") / "export.csv",
                                 options=simulator_options(**SIM), **PERIOD).path
        args = ["file", str(export)]
    data = tmp_path_factory.mktemp(f"clean-{request.param}") / "data"
    started = time.monotonic()
    out, _ = _run(data, args, simulator).communicate(timeout=300)
    took = time.monotonic() - started
    assert _figures(data)[0][0] > 0, out
    return args, _figures(data), took


def _kill_then_run_again(share: float, kind, simulator: str, tmp_path: Path) -> None:
    args, figures, took = kind
    data = tmp_path / "data"
    proc = _run(data, args, simulator)
    with pytest.raises(subprocess.TimeoutExpired):  # still running: the kill lands inside it
        proc.wait(timeout=share * took)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with contextlib.suppress(SnapshotMissing):  # a snapshot that exists is whole and readable
        _figures(data)
    out, _ = _run(data, args, simulator).communicate(timeout=300)  # the next start, same input
    assert _figures(data) == figures, out


@pytest.mark.parametrize("share", SHARES[:1])
def test_a_load_killed_at_a_moment_ends_as_one_clean_run(share, kind, simulator, tmp_path) -> None:
    _kill_then_run_again(share, kind, simulator, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("share", SHARES)
def test_a_load_killed_at_any_of_20_moments_ends_as_one_clean_run(share, kind, simulator,
                                                                  tmp_path) -> None:
    _kill_then_run_again(share, kind, simulator, tmp_path)
