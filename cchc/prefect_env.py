"""Prefect's environment for cchc, set before Prefect is imported.

cchc keeps Prefect's state (its SQLite database, logs) under the data folder, never in the
user's home, and talks to a configured server when there is one. Without a server Prefect starts
a temporary one per process; its first start migrates a new database, which can take longer than
Prefect's default 20 s on a slow machine, hence the generous timeout. A new home is therefore
given an already migrated database first (``cchc.prefect_template``): migrations are paid once
per machine and Prefect version, not once per data folder.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

from cchc.config import Settings
from cchc.prefect_template import start_from_template, template_applies
from cchc.temporary_server import EPHEMERAL_APP, OWNER_ENV, PREFECT_EPHEMERAL_APP

PREFECT_DEFAULTS: dict[str, str] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    "PREFECT_LOGGING_LOG_PRINTS": "true",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # Our own loggers (sources' retries, warehouse) show in Prefect's UI beside the flow's.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "cchc,sources,warehouse,expectations,transforms",
}


log = logging.getLogger(__name__)


def configure_prefect(settings: Settings) -> None:
    """Point Prefect at cchc's home (and server, if configured); keep explicit user settings.

    A new home whose temporary server would create SQLite ``prefect.db`` gets the migrated
    template copied in first. Also stops the temporary Prefect server a killed cchc command left
    running (≈190 MB)."""
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if settings.service.prefect_api_url:
        os.environ["PREFECT_API_URL"] = settings.service.prefect_api_url
    if template_applies(settings.service.prefect_api_url, os.environ):
        start_from_template(Path(os.environ["PREFECT_HOME"]))
    try:
        stopped = stop_orphaned_servers(Path(os.environ["PREFECT_HOME"]))
    except Exception:  # tidying must never stop a command
        log.exception("could not look for orphaned temporary Prefect servers")
    else:
        for pid in stopped:
            log.warning("stopped the temporary Prefect server (pid %d) a killed cchc command "
                        "left running", pid)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def orphaned_servers(prefect_home: Path) -> list[int]:
    """Temporary (ephemeral) Prefect servers of this Prefect home whose cchc process is gone.

    Ours only: same user, Prefect's own ephemeral command line and marker variable, our
    PREFECT_HOME; orphaned: its parent is no longer a process of this Prefect home (it was
    re-parented to init or a subreaper when the cchc command was killed). A server cchc started
    itself names its owner's pid; one Prefect started is judged by its parent's environment."""
    home = str(prefect_home)
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    uid = os.getuid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            if entry.stat().st_uid != uid:
                continue
            cmdline = _cmdline(pid)
            if EPHEMERAL_APP not in cmdline and PREFECT_EPHEMERAL_APP not in cmdline:
                continue
            env = _environ(pid)
            if env.get("PREFECT__SERVER_EPHEMERAL") != "1" or env.get("PREFECT_HOME") != home:
                continue
            parent = _ppid(pid)
            owner = env.get(OWNER_ENV)
            if owner is not None:  # started by cchc.temporary_server: alive while its owner is
                if str(parent) == owner:
                    continue
                found.append(pid)
                continue
            try:
                if _environ(parent).get("PREFECT_HOME") == home:
                    continue  # its cchc process is alive
            except OSError:
                pass
        except (OSError, ValueError, IndexError):
            continue
        found.append(pid)
    return found


def stop_orphaned_servers(prefect_home: Path, timeout_s: float = 5.0) -> list[int]:
    """SIGTERM each orphaned temporary server of ``prefect_home``, SIGKILL if it lingers."""
    pids = orphaned_servers(prefect_home)
    for pid in pids:
        with _gone():
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with _gone():
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
    return pids


class _gone:
    """Ignore a process that ended on its own meanwhile."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        return kind is ProcessLookupError
