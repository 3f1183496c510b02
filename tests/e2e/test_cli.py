"""The command line end to end, as a user runs it: separate processes, real Prefect, real files."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from cli_helpers import cchc

from simulator.exports import export_dossiers
from simulator.testing import running_simulator, simulated_documents, simulator_options
from warehouse.documents_report import HEADERS as DOCUMENT_HEADERS
from warehouse.documents_report import TOTAL_LABEL as DOCUMENTS_TOTAL

pytestmark = pytest.mark.integration

SIM = dict(scenario="scale", dossiers=2000, seed=21)


def test_help_lists_the_commands(env: dict[str, str]) -> None:
    out = cchc("--help", env=env)
    assert out.returncode == 0
    for command in ("run", "ingest", "demo", "sql", "report", "simulate", "serve", "backfill", "status"):
        assert command in out.stdout


def test_queries_before_any_load_say_what_to_do(env: dict[str, str]) -> None:
    out = cchc("sql", "SELECT 1", env=env)
    assert out.returncode != 0
    assert "cchc run" in (out.stdout + out.stderr)


def test_run_then_query_report_and_status(env: dict[str, str], data_dir: Path, tmp_path: Path) -> None:
    """`cchc run` pulls every system; one failing (a refused e-document token: not retried for
    minutes) does not stop the other and leaves an alert; then each reader command."""
    with running_simulator(**SIM) as url:
        urls = dict(CCHC_ONESTOP_URL=url, CCHC_EOFFICE_URL=url)
        out = cchc("run", "--since", "2020-01-01T00:00:00Z", timeout=300,
                   env=dict(env, **urls, CCHC_EOFFICE_TOKEN="wrong-token"))
        assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-2000:]
        assert "succeeded" in out.stdout and "eoffice: pull failed" in out.stdout
        assert "CCHC_EOFFICE_TOKEN" in out.stdout + out.stderr
        again = cchc("run", "--system", "eoffice", "--since", "2020-01-01T00:00:00Z",
                     env=dict(env, **urls))
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-3000:]
    assert "succeeded" in again.stdout
    assert (data_dir / "prefect").is_dir(), "Prefect's state belongs under the data folder"

    count = cchc("sql", "SELECT count(*) AS n FROM core_onestop__dossiers", "--format", "csv", env=env)
    assert count.returncode == 0, count.stderr
    assert count.stdout.splitlines() == ["n", "2000"]
    alerts = cchc("sql", "SELECT source_system, kind, message FROM dq_alerts WHERE kind = 'pull_failed'",
                  "--format", "json", env=env)
    assert alerts.returncode == 0, alerts.stderr
    [alert] = json.loads(alerts.stdout)
    assert alert["source_system"] == "eoffice" and "401" in alert["message"]

    refused = cchc("sql", "DELETE FROM core_onestop__dossiers", env=env)
    assert refused.returncode != 0
    assert "2000" in cchc("sql", "SELECT count(*) FROM core_onestop__dossiers", "--format", "json", env=env).stdout

    report = cchc("report", "form06", "--from", "2021-01-01", "--to", "2022-12-31", "--by", "field",
                  "--format", "csv", env=env)
    assert report.returncode == 0, report.stderr
    assert "Tổng cộng" in report.stdout and "(3) Tổng số nhận" in report.stdout

    xlsx = tmp_path / "form06.xlsx"
    made = cchc("report", "form06", "--from", "2021-01-01", "--to", "2022-12-31", "--format", "xlsx",
                "--out", str(xlsx), env=env)
    assert made.returncode == 0 and xlsx.stat().st_size > 0

    documents = cchc("report", "documents", "--from", "2021-01-01", "--to", "2021-12-31",
                     "--format", "csv", env=env)
    assert documents.returncode == 0, documents.stderr[-3000:]
    header = documents.stdout.splitlines()[0]
    assert all(f"({i})" in header for i in range(1, 13)), header
    frame = pl.read_csv(io.StringIO(documents.stdout), infer_schema=False)
    subject = next(c for c in frame.columns if c.startswith("(2)"))
    total = frame.filter(pl.col(subject) == DOCUMENTS_TOTAL).row(0, named=True)
    expected = simulated_documents(**SIM).expected_total(date(2021, 1, 1), date(2021, 12, 31))
    assert {c: int(total[DOCUMENT_HEADERS[c]]) for c in expected} == expected
    assert expected["c3"] > 0 and expected["c10"] > 0

    status = cchc("status", env=env)
    assert status.returncode == 0 and "succeeded" in status.stdout


def test_ingest_goes_on_past_rejected_files_and_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    """A file that is no workbook and one whose name and header are rich markup ([/b]) are
    rejected, printed literally, and the good file between them still loads."""
    markup = tmp_path / "hdr[red].csv"
    markup.write_text("[/b],[bold]x\n1,2\n", encoding="utf-8")
    good = export_dossiers(tmp_path / "good.csv", options=simulator_options(**SIM),
                           date_from=date(2021, 1, 1), date_to=date(2021, 2, 28)).path
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    out = cchc("ingest", str(markup), str(good), str(bad), env=env)
    assert out.returncode == 1, out.stderr[-3000:]
    assert "MarkupError" not in out.stderr, out.stderr[-3000:]
    assert "succeeded" in out.stdout and out.stdout.count("rejected") >= 2
    assert "bad.xlsx" in out.stdout and "hdr[red].csv" in out.stdout  # shown as it is


def test_ingest_runs_its_flows_on_the_server_it_started_first(env: dict[str, str],
                                                              tmp_path: Path) -> None:
    """``cchc ingest`` starts its temporary Prefect server before Prefect is imported
    (cchc.temporary_server); had Prefect been imported first, it would start one of its own at
    the first API call and say so at INFO."""
    good = export_dossiers(tmp_path / "good.csv", options=simulator_options(**SIM),
                           date_from=date(2021, 1, 1), date_to=date(2021, 1, 31)).path
    out = cchc("ingest", str(good), env={**env, "PREFECT_LOGGING_ROOT_LEVEL": "INFO"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "succeeded" in out.stdout
    assert "Beginning flow run" in out.stdout + out.stderr  # INFO reached the output
    assert "Starting temporary server" not in out.stdout + out.stderr


def test_print_summary_shows_markup_in_data_literally(capsys) -> None:
    from cchc.console import print_summary

    print_summary({"system": "onestop", "load_id": "[/b]", "status": "rejected", "rows_in": 1,
                   "message": "unknown header [/b] in C:\\exports\\[x]\\a.xlsx",
                   "notes": ["[/i] note"], "quarantine_reasons": {"bad [/u] value": 1}})
    shown = capsys.readouterr().out
    for literal in ("unknown header [/b]", "[/i] note", "bad [/u] value"):
        assert literal in shown


def test_run_against_a_closed_port_fails_fast_and_names_the_setting(env: dict[str, str]) -> None:
    """An outage leaves a trace at once: no minutes of retries on a refused connection."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    t0 = time.monotonic()
    out = cchc("run", "--system", "onestop", env=dict(env, CCHC_ONESTOP_URL=dead), timeout=120)
    took = time.monotonic() - t0
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-2000:]
    assert "onestop: pull failed" in out.stdout
    assert "CCHC_ONESTOP_URL" in out.stdout
    assert took < 60, f"took {took:.0f} s"
