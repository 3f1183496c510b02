"""Run the simulator as its own process on loopback, as the real provincial system would be."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from cchc.config import Settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextmanager
def running_simulator_process(settings: Settings, port: int = 0, extra_args: list[str] | None = None,
                              startup_timeout_s: float = 120.0) -> Iterator[str]:
    """Start ``cchc simulate serve`` in a child process; yield its base URL; stop it on exit."""
    sim = settings.simulator
    port = port or free_port(sim.host)
    cmd = [sys.executable, "-m", "cchc.cli", "simulate", "serve", "--host", sim.host, "--port", str(port),
           "--scenario", sim.scenario, "--seed", str(sim.seed), "--token", settings.source.token,
           *(extra_args or [])]
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.logs_dir / "simulator.log").open("ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://{sim.host}:{port}"
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the simulator exited with code {proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the simulator did not answer on {base_url} within {startup_timeout_s:.0f} s")
            time.sleep(0.2)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
