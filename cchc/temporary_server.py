"""The temporary Prefect server of a command that runs flows here, started first thing.

Without a configured server, Prefect starts a temporary one when the first flow calls its API:
the command then imports Prefect's server modules itself (≈ 5 s of CPU, only to start a child
process), and the child imports them again and registers every block type in the database (≈ 5 s
more) before it answers: ≈ 14 s before a flow could begin on a 2-core machine, longer than most
small loads. cchc starts the same child (Prefect's own application factory, in its ephemeral
mode, with write transactions that wait for SQLite's lock: ``cchc.prefect_sqlite``) before it
imports the flows, so the child boots on one core while the command imports polars, DuckDB and
the flows on the other, and points Prefect at it with ``PREFECT_API_URL``. Block types are not
registered: the temporary server has no UI (Prefect turns it off) and cchc's flows use no
blocks; ``cchc serve``'s server registers them as usual.

The child dies with the command (``PR_SET_PDEATHSIG`` on Linux; stopped at exit otherwise), and
records its owner's pid, so the next command stops it only if its owner is gone
(``cchc.prefect_env.stop_orphaned_servers``). Its listening socket is bound here and handed to
the child (uvicorn's ``--fd``): the port is the command's from the first moment, no other
process can take it while the child boots, and a request made before the child is ready waits
in the socket's queue instead of failing.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cchc.processes import die_with_parent, terminate, wait_until_healthy

EPHEMERAL_APP = "cchc.prefect_sqlite:create_app"  # Prefect's factory, immediate transactions
PREFECT_EPHEMERAL_APP = "prefect.server.api.server:create_app"  # Prefect's own temporary server
OWNER_ENV = "CCHC_TEMPORARY_SERVER_OWNER"  # the pid of the command the server belongs to
STARTUP_TIMEOUT_S = 180.0
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


def _prefect_dir() -> Path:
    """The folder that holds the ``prefect`` package (uvicorn's ``--app-dir``), found without
    importing Prefect."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Prefect is not installed")
    return Path(next(iter(spec.submodule_search_locations))).parent


def wanted(configured_api_url: str | None) -> bool:
    """True when flows run here would make Prefect start a temporary server: no API named by
    cchc's settings or Prefect's environment, and ``CCHC_TEMPORARY_SERVER`` not ``0``."""
    if configured_api_url or os.environ.get("PREFECT_API_URL"):
        return False
    return os.environ.get("CCHC_TEMPORARY_SERVER", "1") != "0"


@dataclass
class TemporaryServer:
    """A booting or running temporary server; :meth:`wait_ready` before the first flow."""

    proc: subprocess.Popen
    port: int
    started: float

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> float:
        """Block until the API answers (fails at once if the child exits); returns the
        seconds since the start."""
        wait_until_healthy(f"{self.api_url}/health", self.proc, timeout_s,
                           "the temporary Prefect server")
        return time.monotonic() - self.started

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        terminate(self.proc, timeout_s)


def _spawn(listening: socket.socket) -> subprocess.Popen:
    """Prefect's own temporary-server command line, serving on ``listening``."""
    env = {**os.environ, **SERVER_ENV, OWNER_ENV: str(os.getpid())}
    env.setdefault("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "false")
    env.pop("PREFECT_API_URL", None)
    fd = listening.fileno()
    cmd = [sys.executable, "-m", "uvicorn", "--app-dir", str(_prefect_dir()), "--factory",
           EPHEMERAL_APP, "--fd", str(fd), "--log-level", "error", "--lifespan", "on"]
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, pass_fds=[fd],
                            preexec_fn=die_with_parent if sys.platform == "linux" else None)


def start_temporary_server(configured_api_url: str | None) -> TemporaryServer | None:
    """Start the temporary server in the background and point Prefect at it (None when a
    server is configured). Call after ``cchc.prefect_env.configure_prefect``, before Prefect's
    settings are first read; it is stopped at exit."""
    if not wanted(configured_api_url):
        return None
    with socket.socket() as listening:  # the child keeps its own copy
        listening.bind(("127.0.0.1", 0))
        listening.listen(128)
        server = TemporaryServer(_spawn(listening), listening.getsockname()[1], time.monotonic())
    os.environ["PREFECT_API_URL"] = server.api_url
    atexit.register(server.stop)
    return server


_NO_HEARTBEATS: list[object] = []  # the entered settings context, kept for the process


def without_heartbeats() -> None:
    """The flow runs of this process send no heartbeats (call once the temporary server runs).

    Heartbeats let a server's automation find crashed runs; a temporary server dies with its
    command, so here they only cost time: Prefect's heartbeat thread sleeps in 1-s steps and a
    flow run waits for it at its end (0.84 s of a 9-s ingest of a small file, py-spy). Prefect's
    settings cannot say "none" from the environment (an integer ≥ 30 or unset, which means
    180 s), so this enters its ``temporary_settings`` for the rest of the process."""
    if _NO_HEARTBEATS:
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    context = temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    context.__enter__()
    _NO_HEARTBEATS.append(context)
