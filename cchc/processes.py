"""Child processes that serve HTTP on loopback: pick a port, wait until they answer."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


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
