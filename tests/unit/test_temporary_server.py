"""The temporary Prefect server a command starts for itself (cchc.temporary_server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from cchc.prefect_env import orphaned_servers
from cchc.prefect_template import start_from_template
from cchc.temporary_server import OWNER_ENV, start_temporary_server, wanted

pytestmark = pytest.mark.server


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "prefect"
    home.mkdir()
    start_from_template(home)  # as configure_prefect does: no migrations at the server's start
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("CCHC_TEMPORARY_SERVER", raising=False)
    return home


def test_no_server_when_one_is_configured(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert wanted(None)
    assert not wanted("http://127.0.0.1:4200/api")
    assert start_temporary_server("http://127.0.0.1:4200/api") is None
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert not wanted(None)
    monkeypatch.delenv("PREFECT_API_URL")
    monkeypatch.setenv("CCHC_TEMPORARY_SERVER", "0")
    assert start_temporary_server(None) is None


def test_the_server_answers_and_belongs_to_this_process(home: Path) -> None:
    server = start_temporary_server(None)
    assert server is not None
    try:
        # Prefect is pointed at it before the server is even up; requests wait for it
        assert os.environ["PREFECT_API_URL"] == server.api_url
        assert server.wait_ready() > 0
        assert httpx.get(f"{server.api_url}/health", timeout=10).json() is True
        env = Path(f"/proc/{server.proc.pid}/environ").read_bytes().split(b"\0")
        assert f"{OWNER_ENV}={os.getpid()}".encode() in env
        assert orphaned_servers(home) == []  # its owner (this process) is alive
    finally:
        server.stop()
        os.environ.pop("PREFECT_API_URL", None)
    assert server.proc.poll() is not None


def test_the_server_dies_with_a_killed_command(home: Path, tmp_path: Path) -> None:
    """A command killed with SIGKILL runs no exit handler: the kernel stops its server."""
    pid_file = tmp_path / "server.pid"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from cchc.temporary_server import start_temporary_server
        server = start_temporary_server(None)
        server.wait_ready()
        Path({str(pid_file)!r}).write_text(str(server.proc.pid))
        time.sleep(600)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 180
        while not pid_file.exists():
            assert owner.poll() is None, "the command ended before its server was ready"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        server_pid = int(pid_file.read_text())
        assert Path(f"/proc/{server_pid}").exists()
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    deadline = time.monotonic() + 20
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(server_pid)


@pytest.mark.parametrize("quiet", [True, False])
def test_flow_runs_on_the_temporary_server_send_no_heartbeats(home: Path, quiet: bool) -> None:
    """Inside a flow run, Prefect's heartbeat interval is unset: no heartbeat thread for the
    run to wait for at its end. Without ``without_heartbeats``, Prefect's default (180 s)."""
    script = textwrap.dedent(f"""
        from cchc.temporary_server import start_temporary_server, without_heartbeats
        server = start_temporary_server(None)
        if {quiet!r}:
            without_heartbeats()
            without_heartbeats()  # once is enough; twice changes nothing
        from prefect import flow
        from prefect.settings import get_current_settings

        @flow
        def interval():
            return get_current_settings().flows.heartbeat_frequency

        server.wait_ready()
        print("heartbeat", interval())
    """)
    done = subprocess.run([sys.executable, "-c", script], env=dict(os.environ), timeout=300,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert ("heartbeat None" if quiet else "heartbeat 180") in done.stdout


def _alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"
