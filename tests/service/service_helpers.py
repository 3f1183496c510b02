"""Helpers for the service tests: run ``cchc serve`` as a separate process group (so a test can
stop it with Ctrl-C or kill it outright) and read the Prefect server back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from cchc.processes import wait_until_healthy
from cchc.service.prefect_server import free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SECRET = "test-hook-secret"

# API URL -> the auth string its server requires (registered by the server fixture).
AUTH: dict[str, str] = {}


def register_auth(api_url: str, auth_string: str | None) -> None:
    if auth_string:
        AUTH[api_url.rstrip("/")] = auth_string


def auth_headers(api_url: str) -> dict[str, str]:
    from cchc.service.prefect_server import auth_headers as headers

    return headers(AUTH.get(api_url.rstrip("/")))


def _toml(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def write_config(path: Path, data_dir: Path, api_url: str, hook_port: int,
                 extra: dict[str, dict[str, object]] | None = None) -> Path:
    sections: dict[str, dict[str, object]] = {
        "service": {"prefect_api_url": api_url, "hook_port": hook_port, "hook_secret": SECRET}}
    for name, values in (extra or {}).items():
        sections.setdefault(name, {}).update(values)
    lines = [f"data_dir = {_toml(str(data_dir))}"]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Serve:
    """A ``cchc serve`` process (its own process group) and where to reach it."""

    cmd: list[str]
    env: dict[str, str]
    data_dir: Path
    api_url: str
    hook_port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    ready_s: float = 0.0
    starts: list[float] = field(default_factory=list)

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.hook_port}/hooks/onestop"

    def start(self, timeout_s: float = 120.0) -> Serve:
        log = self.log_path.open("ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.data_dir.parent, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()
        try:
            wait_until_healthy(f"http://127.0.0.1:{self.hook_port}/health", self.proc, timeout_s, "cchc serve")
        except (RuntimeError, TimeoutError) as exc:
            self.kill()
            raise type(exc)(f"{exc}:\n{self.log()}") from None
        self.ready_s = time.monotonic() - t0
        self.starts.append(self.ready_s)
        return self

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 60.0) -> int:
        """Send ``sig`` to the serve process only (as a terminal's Ctrl-C would reach it)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group: serve and its flow-run children (a power cut)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""


def make_serve(tmp: Path, api_url: str, *, standins: bool, catch_up: bool = False,
               extra_config: dict[str, dict[str, object]] | None = None) -> Serve:
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    hook_port = free_port()
    # the simulator's address is a free port: the service must not start a simulator on the
    # default one (shared with whatever else runs here); stand-ins pull nothing, so their
    # sources point at a closed port (reported once at start)
    extra: dict[str, dict[str, object]] = {"simulator": {"port": free_port()}}
    if standins:
        dead = f"http://127.0.0.1:{free_port()}"
        extra |= {"sources.onestop": {"base_url": dead}, "sources.eoffice": {"base_url": dead}}
    extra |= extra_config or {}
    config = write_config(tmp / "cchc.toml", data_dir, api_url, hook_port, extra)
    env = dict(os.environ)
    for key in [k for k in env if k.startswith(("PREFECT_", "CCHC_"))]:
        env.pop(key)
    env.update({"CCHC_CONFIG": str(config), "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)]),
                "CCHC_TEST_CATCH_UP": "1" if catch_up else "0"})
    if api_url.rstrip("/") in AUTH:
        env["CCHC_PREFECT_AUTH_STRING"] = AUTH[api_url.rstrip("/")]
    if standins:
        cmd = [sys.executable, str(HERE / "serve_standins.py")]
    else:
        cmd = [sys.executable, "-m", "cchc.cli", "serve"] + ([] if catch_up else ["--no-catch-up"])
    return Serve(cmd, env, data_dir, api_url, hook_port, tmp / "serve.log")


# ------------------------------------------------------------------ reading the server back


def api(server_url: str, method: str, path: str, **kwargs) -> httpx.Response:
    """One call of the served API. A 503 is Prefect's "retry me" (its database was busy, e.g.
    SQLite locked under load): retried a few times with backoff, as Prefect's own client does."""
    headers = {**auth_headers(server_url), **kwargs.pop("headers", {})}
    for attempt in range(6):
        response = httpx.request(method, f"{server_url}{path}", timeout=30, headers=headers, **kwargs)
        if response.status_code != 503:
            break
        time.sleep(0.5 * 2**attempt)
    response.raise_for_status()
    return response


def flow_runs(api_url: str, flow_name: str, since: datetime | None = None) -> list[dict]:
    """Runs of a flow (oldest first), optionally only those created after ``since``."""
    runs = api(api_url, "POST", "/flow_runs/filter", json={
        "flows": {"name": {"any_": [flow_name]}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 200,
    }).json()
    if since is not None:
        runs = [r for r in runs if datetime.fromisoformat(r["created"]) >= since]
    return sorted(runs, key=lambda r: r["created"])


def events(api_url: str, name: str) -> list[dict]:
    return api(api_url, "POST", "/events/filter", json={
        "filter": {"event": {"name": [name]}}, "limit": 50}).json()["events"]


def wait_for(check: Callable[[], object], timeout_s: float = 60.0, every_s: float = 0.25,
             what: str = "condition") -> object:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(every_s)
