"""`cchc scope list|load`: the local folder checks and table, the pool-mode requirement, and the
exit codes of `load` with the submission and the following replaced (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cchc import scope_run
from cchc.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def scope(tmp_path: Path) -> Path:
    root = tmp_path / "scope"
    for name, files in {"637": ["b.xlsx", "a.csv"], "638": ["c.CSV"],
                        "639": ["notes.txt"], "640": []}.items():
        (root / name).mkdir(parents=True)
        for f in files:
            (root / name / f).write_text("x", encoding="utf-8")
    (root / "stray.csv").write_text("x", encoding="utf-8")  # not in a district folder
    return root


@pytest.fixture
def pool_mode(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_WORK_POOL", "cchc-pool")
    monkeypatch.setenv("CCHC_PREFECT_API_URL", "http://server.example:4200/api/")


def test_list_shows_each_district_with_its_export_count(scope: Path) -> None:
    result = runner.invoke(app, ["scope", "list", str(scope)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "2 district(s), 3 file(s)" in result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines()
            if line.count("│") >= 3}
    assert set(rows) == {"637", "638"}  # 639 holds no export, 640 nothing
    assert rows["637"].split("│")[2].strip() == "2"
    assert "a.csv, b.xlsx" in rows["637"]
    assert rows["638"].split("│")[2].strip() == "1"


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: p, "does not exist"),
    (lambda p: (p.mkdir(), p)[1], "no district sub-folder with exports"),
    (lambda p: (p.write_text("x"), p)[1], "not a folder"),
])
def test_list_refuses_a_missing_empty_or_file_folder(tmp_path: Path, make, says: str) -> None:
    folder = make(tmp_path / "scope")
    result = runner.invoke(app, ["scope", "list", str(folder)], env=WIDE)
    assert result.exit_code == 1
    assert says in result.output
    assert str(folder) in result.output


def test_load_checks_the_folder_before_anything_else(tmp_path: Path, pool_mode: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scope_run, "submit_scope", _must_not_submit)
    result = runner.invoke(app, ["scope", "load", str(tmp_path / "nowhere")], env=WIDE)
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_load_outside_pool_mode_says_what_to_set(scope: Path, data_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CCHC_WORK_POOL", raising=False)
    monkeypatch.setenv("CCHC_PREFECT_API_URL", "http://server.example:4200/api")
    monkeypatch.setattr(scope_run, "submit_scope", _must_not_submit)
    result = runner.invoke(app, ["scope", "load", str(scope)], env=WIDE)
    assert result.exit_code == 1
    assert "[service] work_pool" in result.output and "CCHC_WORK_POOL" in result.output


def test_load_without_a_known_server_says_what_to_set(scope: Path, data_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCHC_WORK_POOL", "cchc-pool")
    monkeypatch.delenv("CCHC_PREFECT_API_URL", raising=False)
    monkeypatch.setattr(scope_run, "submit_scope", _must_not_submit)
    result = runner.invoke(app, ["scope", "load", str(scope)], env=WIDE)
    assert result.exit_code == 1
    assert "[service] prefect_api_url" in result.output and "cchc serve" in result.output


@pytest.mark.parametrize(("final", "code"), [("COMPLETED", 0), ("FAILED", 1), ("CRASHED", 1),
                                              ("CANCELLED", 1)])
def test_load_waits_and_exits_by_the_final_state(scope: Path, pool_mode: None,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 final: str, code: int) -> None:
    submitted, followed = _fakes(monkeypatch, final)
    result = runner.invoke(app, ["scope", "load", str(scope), "--max-attempts", "5"], env=WIDE)
    assert result.exit_code == code, result.output
    assert submitted == [("http://server.example:4200/api", scope, 5)]
    assert followed == ["run-1"]
    assert "flow run run-1" in result.output
    assert "http://server.example:4200/runs/flow-run/run-1" in result.output
    assert "load-scope running: 637 completed, 638 running" in result.output
    assert f"load-scope {final.lower()}" in result.output


def test_load_no_wait_returns_once_submitted(scope: Path, pool_mode: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    submitted, followed = _fakes(monkeypatch, "FAILED")
    result = runner.invoke(app, ["scope", "load", str(scope), "--no-wait"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert len(submitted) == 1 and followed == []
    assert "flow run run-1" in result.output


def test_load_reports_a_server_that_refuses(scope: Path, pool_mode: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(scope_run, "submit_scope", refuse)
    result = runner.invoke(app, ["scope", "load", str(scope)], env=WIDE)
    assert result.exit_code == 1
    assert "could not start load-scope" in result.output and "connection refused" in result.output


def test_the_run_url_is_beside_the_api() -> None:
    assert (scope_run.run_url("http://h:4200/api", "abc")
            == "http://h:4200/runs/flow-run/abc")


def _must_not_submit(*args, **kwargs):
    raise AssertionError("submitted although the command should have stopped")


def _fakes(monkeypatch: pytest.MonkeyPatch, final: str) -> tuple[list, list]:
    submitted: list = []
    followed: list = []

    def submit(settings, api_url, folder, max_attempts):
        submitted.append((api_url, folder, max_attempts))
        return scope_run.SubmittedRun("run-1", scope_run.run_url(api_url, "run-1"))

    def follow(settings, api_url, flow_run_id, on_progress, poll_s=0):
        followed.append(flow_run_id)
        on_progress(scope_run.Progress("RUNNING", {"638": "RUNNING", "637": "COMPLETED"}))
        on_progress(scope_run.Progress(final, {"637": "COMPLETED", "638": final}, final=True))
        return final

    monkeypatch.setattr(scope_run, "submit_scope", submit)
    monkeypatch.setattr(scope_run, "follow", follow)
    return submitted, followed
