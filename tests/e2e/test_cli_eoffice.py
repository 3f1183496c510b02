"""The command line end to end for the e-document system: pull it alone, then its report."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from simulator.testing import running_simulator, simulated_documents
from warehouse.documents_report import HEADERS, TOTAL_LABEL

pytestmark = pytest.mark.integration

SIM = dict(scenario="scale", dossiers=2000, seed=21)


def cchc(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cchc.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_run_eoffice_then_report_documents_as_csv(data_dir: Path) -> None:
    env = dict(os.environ, CCHC_DATA_DIR=str(data_dir), COLUMNS="200")
    for key in ("PREFECT_API_URL", "PREFECT_HOME"):  # the CLI brings its own Prefect home
        env.pop(key, None)
    with running_simulator(**SIM) as url:
        run = cchc("run", "--system", "eoffice", "--since", "2020-01-01T00:00:00Z",
                   env=dict(env, CCHC_EOFFICE_URL=url, CCHC_ONESTOP_URL="http://127.0.0.1:9"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert "succeeded" in run.stdout

    report = cchc("report", "documents", "--from", "2021-01-01", "--to", "2021-12-31", "--format", "csv", env=env)
    assert report.returncode == 0, report.stderr[-3000:]
    header = report.stdout.splitlines()[0]
    for i in range(1, 13):
        assert f"({i})" in header, (i, header)
    frame = pl.read_csv(io.StringIO(report.stdout), infer_schema=False)
    subject = next(c for c in frame.columns if c.startswith("(2)"))
    totals = frame.filter(pl.col(subject) == TOTAL_LABEL)
    assert totals.height == 1, frame
    total = totals.row(0, named=True)
    expected = simulated_documents(**SIM).expected_total(date(2021, 1, 1), date(2021, 12, 31))
    assert {c: int(total[HEADERS[c]]) for c in expected} == expected
    assert expected["c3"] > 0 and expected["c10"] > 0
    # One-stop was not pulled: only the e-document system's load is in the audit.
    systems = cchc("sql", "SELECT DISTINCT source_system FROM etl_loads", "--format", "csv", env=env)
    assert systems.returncode == 0, systems.stderr
    assert systems.stdout.splitlines() == ["source_system", "eoffice"]
