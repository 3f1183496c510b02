"""A Prefect server as a child process, on loopback, with its own PREFECT_HOME.

Schedules and event triggers need a real server (the temporary one Prefect starts per process
runs neither). ``cchc serve`` starts one here unless the configuration names an existing one,
and the service tests start exactly one per session through the same code.

The server is started in its own session, so a Ctrl-C in the terminal reaches ``cchc serve``
only: the runner can still report its runs' final states before the server is stopped, last.
On Linux the child also gets SIGTERM if its parent dies (``PR_SET_PDEATHSIG``), so a killed
service does not leave a server holding the port.

The API is protected: loopback is not a trust boundary (any local user could otherwise create
flow runs, e.g. an ingest of a file outside the inbox). The server gets
``PREFECT_SERVER_API_AUTH_STRING``; every client (the runner, flow-run processes, ``cchc
backfill``) sends the same string as ``PREFECT_API_AUTH_STRING`` (HTTP Basic). Only ``GET
/api/health`` and ``/api/ready`` answer without it. The string comes from
``CCHC_PREFECT_AUTH_STRING`` or is generated at the first start and kept, mode 0600, in
``<prefect home>/api-auth``.

A new SQLite home gets the migrated template database first (``cchc.prefect_template``), so the
first start does not run all of Prefect's migrations.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from cchc.prefect_env import PREFECT_DEFAULTS
from cchc.prefect_template import start_from_template
from cchc.processes import die_with_parent, free_port, terminate

# Server-only settings. Leases on disk survive a server restart, so a slot taken just before a
# restart is released by expiry instead of staying taken forever (the default keeps them in
# memory while the slot counters live in the database).
SERVER_ENV: dict[str, str] = {
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect.server.concurrency.lease_storage.filesystem",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}

STARTUP_TIMEOUT_S = 180.0

AUTH_ENV = "CCHC_PREFECT_AUTH_STRING"
AUTH_FILE = "api-auth"


def auth_string_path(home: Path) -> Path:
    return home / AUTH_FILE


def read_auth_string(home: Path, env: dict[str, str] | None = None) -> str | None:
    """``CCHC_PREFECT_AUTH_STRING``, else the string stored under ``home``, else None."""
    env = os.environ if env is None else env
    if env.get(AUTH_ENV):
        return env[AUTH_ENV]
    path = auth_string_path(home)
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        return value or None
    return None


def ensure_auth_string(home: Path, env: dict[str, str] | None = None) -> str:
    """The API auth string: ``CCHC_PREFECT_AUTH_STRING``, the stored one, or a new random one
    written to ``<home>/api-auth`` readable by its owner only (0600)."""
    existing = read_auth_string(home, env)
    if existing:
        return existing
    home.mkdir(parents=True, exist_ok=True)
    path = auth_string_path(home)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return read_auth_string(home, {}) or value
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def auth_headers(auth_string: str | None) -> dict[str, str]:
    """The Authorization header a Prefect client sends for ``auth_string`` ({} for None)."""
    if not auth_string:
        return {}
    token = base64.b64encode(auth_string.encode("utf-8")).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def api_healthy(api_url: str, timeout_s: float = 2.0) -> bool:
    """True when a Prefect API answers its health check."""
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def wait_healthy(api_url: str, timeout_s: float, proc: subprocess.Popen | None = None,
                 log_path: Path | None = None) -> float:
    """Block until the API answers; return the seconds waited. Fails early if ``proc`` exits."""
    start = time.monotonic()
    while not api_healthy(api_url):
        if proc is not None and proc.poll() is not None:
            where = f"; see {log_path}" if log_path else ""
            raise RuntimeError(f"the Prefect server exited with code {proc.returncode}{where}")
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"no Prefect API at {api_url} after {timeout_s:.0f} s")
        time.sleep(0.25)
    return time.monotonic() - start


@dataclass
class PrefectServer:
    """A running ``prefect server start`` child; use ``start_prefect_server`` to get one."""

    proc: subprocess.Popen
    api_url: str
    home: Path
    log_path: Path
    startup_s: float
    auth_string: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """What a client must send (``Authorization``)."""
        return auth_headers(self.auth_string)

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        terminate(self.proc, timeout_s)


DATABASE_ENV = "PREFECT_API_DATABASE_CONNECTION_URL"


def server_env(home: Path, base: dict[str, str] | None = None,
               auth_string: str | None = None, database_url: str | None = None) -> dict[str, str]:
    """The child's environment: cchc's Prefect defaults, its own home, no client API URL, the
    API auth string (None: an open API) and the database (None: SQLite under ``home``)."""
    env = dict(os.environ if base is None else base)
    env.pop("PREFECT_API_URL", None)
    env.pop("PREFECT_SERVER_API_AUTH_STRING", None)
    env.pop(DATABASE_ENV, None)
    env.update(PREFECT_DEFAULTS)
    env.update(SERVER_ENV)
    env["PREFECT_HOME"] = str(home)
    if database_url:
        env[DATABASE_ENV] = database_url
    if auth_string:
        env["PREFECT_SERVER_API_AUTH_STRING"] = auth_string
        env["PREFECT_API_AUTH_STRING"] = auth_string
    return env


@contextlib.contextmanager
def start_prefect_server(home: Path, host: str = "127.0.0.1", port: int = 0,
                         log_path: Path | None = None,
                         startup_timeout_s: float = STARTUP_TIMEOUT_S,
                         auth_string: str | None = None,
                         database_url: str | None = None) -> Iterator[PrefectServer]:
    """Start a Prefect server on ``host:port`` (0: a free port) and stop it on exit. Its API
    requires ``auth_string`` (default: the one of ``ensure_auth_string(home)``); its database
    is ``database_url`` (PostgreSQL, ``postgresql+asyncpg://``) or SQLite under ``home``."""
    auth_string = auth_string or ensure_auth_string(home)
    home.mkdir(parents=True, exist_ok=True)
    if not database_url:  # the child's database is SQLite under home whatever the environment
        start_from_template(home)
    port = port or free_port(host)
    if port_in_use(host, port):
        raise RuntimeError(
            f"port {port} on {host} is already in use: stop what listens there, set "
            "[service] prefect_port to a free port, or set prefect_api_url to use that server")
    log_path = log_path or home / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    api_url = f"http://{host}:{port}/api"
    cmd = [sys.executable, "-m", "cchc.prefect_sqlite", "server", "start", "--host", host, "--port", str(port),
           "--analytics-off"]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=server_env(home, auth_string=auth_string, database_url=database_url),
            start_new_session=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    server = PrefectServer(proc, api_url, home, log_path, startup_s=0.0, auth_string=auth_string)
    try:
        server.startup_s = wait_healthy(api_url, startup_timeout_s, proc, log_path)
        yield server
    finally:
        server.stop()
