"""``cchc ingest`` and ``cchc run`` hand their work to a running ``cchc serve``.

Without a server, every command that runs a Prefect flow starts Prefect's temporary API server
first (≈ 10 of the 14 s an 8,000-row file takes). When ``cchc serve`` runs on the same data
folder, the command instead asks the service's deployments to do the work
(``run_deployment``) and waits for the result; the flow runs in the service's warm worker
(``cchc.service.standby``), and the command prints the same summary as a local run.

How a command knows: ``cchc serve`` holds ``<prefect home>/serve.lock`` while it runs and, once
ready, writes ``<prefect home>/service.json`` (its API URL, its pid). Both must hold: a
``service.json`` left by a killed service is ignored because its lock is free.

Files: a deployment run reads files from the inbox only (the API must not become a way to make
the service read any path). The command therefore puts the file where only the service's user
can write — ``<data>/handoff/<random>/<name>``, a hard link, or a copy across filesystems —
and the ingest flow takes it from there (``handed_off=True``), records the original path as the
load's source, and removes it when done.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from cchc.config import Settings

SERVICE_FILE = "service.json"
HANDOFF_DIR = "handoff"
POLL_S = 0.25  # how often the command asks whether its run has ended (Prefect's default: 5 s)


@dataclass(frozen=True)
class RunningService:
    """A ``cchc serve`` that answers for this data folder."""

    api_url: str
    pid: int


def service_file(settings: Settings) -> Path:
    return settings.prefect_home / SERVICE_FILE


def write_service_file(settings: Settings, api_url: str) -> Path:
    """Called by ``cchc serve`` once ready (owner-only, like the API auth string)."""
    path = service_file(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"api_url": api_url, "pid": os.getpid()}), encoding="utf-8")
    tmp.chmod(0o600)
    os.replace(tmp, path)
    return path


def remove_service_file(settings: Settings) -> None:
    service_file(settings).unlink(missing_ok=True)


def running_service(settings: Settings) -> RunningService | None:
    """The service running on this data folder, or None (``CCHC_LOCAL=1``: always None)."""
    if os.environ.get("CCHC_LOCAL") == "1":
        return None
    path = service_file(settings)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _lock_held(settings.prefect_home / "serve.lock"):
        return None  # left by a service that was killed
    try:
        return RunningService(api_url=str(info["api_url"]), pid=int(info["pid"]))
    except (KeyError, TypeError, ValueError):
        return None


def _lock_held(lock_file: Path) -> bool:
    from filelock import FileLock, Timeout

    if not lock_file.exists():
        return False
    lock = FileLock(str(lock_file))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def handoff_dir(settings: Settings) -> Path:
    return settings.data_dir / HANDOFF_DIR


def hand_off_file(settings: Settings, path: Path) -> Path:
    """Place ``path`` in a fresh private folder under ``handoff/`` (hard link, else copy)."""
    root = handoff_dir(settings)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = root / secrets.token_hex(8)
    folder.mkdir(mode=0o700)
    target = folder / path.name
    try:
        os.link(path, target)
    except OSError:  # another filesystem, or not allowed to link it
        shutil.copyfile(path, target)
    return target


def checked_handoff_path(settings: Settings, path: str) -> Path:
    """``path`` if it is a regular file in a folder directly under ``handoff/``; else refuse."""
    from cchc.inbox import InboxPathError

    given = Path(path)
    resolved = given.resolve()
    if (given.is_symlink() or resolved.parent.parent != handoff_dir(settings).resolve()
            or not resolved.is_file()):
        raise InboxPathError(f"{path}: refused: not a file handed to the service by `cchc ingest`")
    return resolved


def remove_handed_off(settings: Settings, path: Path) -> None:
    """Remove the handed-off copy and its folder (never anything outside ``handoff/``)."""
    folder = path.parent
    if folder.parent.resolve() == handoff_dir(settings).resolve():
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)


def submit(settings: Settings, service: RunningService, deployment: str,
           parameters: dict) -> dict:
    """Run ``deployment`` on the service with ``parameters``, wait, and return the flow's
    result (a load summary); a run that did not complete raises with its state's message."""
    from cchc.service.runtime import api_auth_string

    os.environ["PREFECT_API_URL"] = service.api_url
    auth = api_auth_string(settings)
    if auth:
        os.environ["PREFECT_API_AUTH_STRING"] = auth
    from prefect.context import SettingsContext, get_settings_context
    from prefect.deployments import run_deployment
    from prefect.settings import Settings as PrefectSettings

    # Prefect may have been imported before the service's URL was set: re-read the environment.
    with SettingsContext(profile=get_settings_context().profile, settings=PrefectSettings()):
        flow_run = run_deployment(deployment, parameters=parameters, timeout=None,
                                  poll_interval=POLL_S, tags=["cli"])
        return _result(flow_run)


def _result(flow_run) -> dict:
    state = flow_run.state
    if state is None or not state.is_completed():
        name = state.name if state else "unknown"
        message = (state.message if state else None) or "no message"
        raise RuntimeError(f"the service's run {flow_run.name} ended {name}: {message}")
    return state.result()
