"""Child processes that serve HTTP on loopback: pick a port, wait until they answer."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time

import httpx


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: ask the kernel to send SIGTERM when the parent dies."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def terminate(proc: subprocess.Popen, timeout_s: float) -> None:
    """SIGTERM a child, then SIGKILL it if it has not ended within ``timeout_s``."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, proc: subprocess.Popen, timeout_s: float, what: str) -> float:
    """Poll ``url`` until it answers 200; seconds waited. Fails fast if ``proc`` exits."""
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"{what} did not answer on {url} within {timeout_s:.0f} s")
        time.sleep(0.2)


def source_unreachable(base_url: str, attempts: int = 1, wait_s: float = 0.5,
                       timeout_s: float = 5.0, sleep=None) -> str | None:
    """Why nothing can be reached at ``base_url`` (connection refused, unknown host, no route),
    after ``attempts`` tries ``wait_s * 2**n`` apart; None when a connection opens — or merely
    times out, which a slow but alive system may do (the client's long patience handles that)."""
    import socket
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    reason = None
    for attempt in range(max(1, attempts)):
        if attempt:
            (sleep or time.sleep)(wait_s * 2 ** (attempt - 1))
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return None
        except TimeoutError:
            return None
        except socket.gaierror as exc:
            reason = f"unknown host {host}: {exc.strerror or exc}"
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            if isinstance(exc, ConnectionRefusedError):
                reason = "connection refused"
    return reason
