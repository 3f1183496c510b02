"""SIGKILL a load at random moments, in the default run: the pipeline's own steps (stage, load,
publish) in a subprocess, without Prefect, so one kill costs seconds, not a server start
(``test_kill.py`` kills the real CLI, under ``-m slow``). After each kill the snapshot is
readable, the next writer finishes or undoes the interrupted load, and loading the same file
again ends with exactly the figures of one clean load."""

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

from cchc.config import load_settings
from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from warehouse.form06 import form06
from warehouse.reader import SnapshotMissing, open_snapshot

pytestmark = pytest.mark.integration

SIM = simulator_options(scenario="scale", dossiers=600, seed=21, unknown_status=3)
PERIOD = dict(date_from=date(2021, 1, 1), date_to=date(2021, 6, 30))
FINGERPRINT = """
SELECT (SELECT count(*) FROM core_onestop__dossiers),
       (SELECT coalesce(sum(hash(dossier_code || '|' || row_hash)), 0) FROM core_onestop__dossiers),
       (SELECT count(*) FROM raw_onestop__dossier_versions),
       (SELECT count(*) FROM quarantine_onestop__dossiers)
"""
LOAD = """
import sys
import time
from pathlib import Path
from cchc import pipeline
from cchc.config import load_settings
from sources.files import file_sha256
s = load_settings()
path = Path(sys.argv[1])
batch = pipeline.stage_file(s, path, file_sha256(path))
summary = pipeline.load_batch(s, batch)
assert summary.status == "succeeded", summary
pipeline.publish(s)
pipeline.cleanup(batch)
"""
# Moments as shares of a clean run's duration (imports, staging, parts, publish), so every
# kill lands inside the run however fast the machine is.
MOMENTS = sorted(round(random.Random(11).uniform(0.15, 0.9), 2) for _ in range(3))


def _load(data: Path, export: Path) -> subprocess.Popen:
    (data.parent / "cchc.toml").write_text("chunk_rows = 100\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(CCHC_DATA_DIR=str(data), GX_ANALYTICS_ENABLED="false")
    env.pop("CCHC_CONFIG", None)
    return subprocess.Popen([sys.executable, "-c", LOAD, str(export)], env=env, cwd=data.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _figures(data: Path) -> tuple:
    os.environ["CCHC_DATA_DIR"] = str(data)
    try:
        con = open_snapshot(load_settings())
    finally:
        del os.environ["CCHC_DATA_DIR"]
    try:
        total = form06(con, PERIOD["date_from"], PERIOD["date_to"]).tail(1).rows()
        return con.execute(FINGERPRINT).fetchone(), total
    finally:
        con.close()


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return export_dossiers(tmp_path_factory.mktemp("kill-export") / "export.csv", options=SIM,
                           **PERIOD).path


@pytest.fixture(scope="module")
def clean(export: Path, tmp_path_factory) -> tuple[tuple, float]:
    """The figures of one clean load, and how long it took."""
    data = tmp_path_factory.mktemp("clean") / "data"
    started = time.monotonic()
    out, _ = _load(data, export).communicate(timeout=300)
    took = time.monotonic() - started
    assert _figures(data)[0][0] > 0, out
    return _figures(data), took


@pytest.mark.parametrize("share", MOMENTS)
def test_a_load_killed_at_a_moment_ends_as_one_clean_load(share, export, clean, tmp_path) -> None:
    figures, took = clean
    data = tmp_path / "data"
    proc = _load(data, export)
    with pytest.raises(subprocess.TimeoutExpired):  # still running: the kill lands inside it
        proc.wait(timeout=share * took)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with contextlib.suppress(SnapshotMissing):  # a snapshot that exists is whole and readable
        _figures(data)
    out, _ = _load(data, export).communicate(timeout=300)  # the next start, the same file again
    assert _figures(data) == figures, out
