"""Readers and the writer never block each other, and a reader never sees half a load."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from cchc import pipeline
from cchc.config import load_settings
from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from sources.onestop.files import file_sha256
from warehouse.reader import open_snapshot

pytestmark = pytest.mark.integration

SIM = simulator_options(scenario="scale", dossiers=25_000, seed=3)

LOAD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from cchc import pipeline
    from cchc.config import load_settings
    from sources.onestop.files import file_sha256
    s = load_settings()
    path = Path(sys.argv[1])
    batch = pipeline.stage_file(s, path, file_sha256(path))
    print("loading", flush=True)
    summary = pipeline.load_batch(s, batch)
    pipeline.publish(s)
    print(summary.status, flush=True)
    """
)


def _counts() -> tuple[int, int]:
    con = open_snapshot(load_settings())
    try:
        return con.execute(
            "SELECT (SELECT count(*) FROM core_onestop__dossiers),"
            " (SELECT count(*) FROM etl_loads WHERE status = 'succeeded')"
        ).fetchone()
    finally:
        con.close()


def test_queries_during_a_load_see_the_old_or_the_new_snapshot_never_half(data_dir: Path, tmp_path: Path) -> None:
    settings = load_settings()
    first = export_dossiers(tmp_path / "h1.csv", options=SIM, date_from=date(2021, 1, 1), date_to=date(2021, 3, 31)).path
    second = export_dossiers(tmp_path / "h2.csv", options=SIM, date_from=date(2021, 4, 1), date_to=date(2022, 12, 31)).path
    batch = pipeline.stage_file(settings, first, file_sha256(first))
    assert pipeline.load_batch(settings, batch).status == "succeeded"
    pipeline.publish(settings)
    old = _counts()

    writer = subprocess.Popen([sys.executable, "-c", LOAD, str(second)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "loading"
    seen: list[tuple[int, int]] = []
    cli_ok = False
    while writer.poll() is None:
        seen.append(_counts())
        if not cli_ok:  # the command-line reader works during the load too
            out = subprocess.run([sys.executable, "-m", "cchc.cli", "sql", "SELECT count(*) AS n FROM etl_loads",
                                  "--format", "csv"], capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            cli_ok = True
    rest = writer.stdout.read()
    errors = writer.stderr.read() if writer.stderr else ""
    assert writer.wait() == 0 and "succeeded" in rest, errors[-3000:]
    new = _counts()
    assert new[0] > old[0] and new[1] == old[1] + 1
    assert seen, "the load finished before any query ran"
    assert set(seen) <= {old, new}, f"a reader saw a half-finished load: {set(seen) - {old, new}}"
    assert cli_ok
