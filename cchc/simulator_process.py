"""Run the simulator as its own process on loopback, as the real provincial system would be."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from cchc.config import Settings
from cchc.processes import free_port, wait_until_healthy


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
        wait_until_healthy(f"{base_url}/health", proc, startup_timeout_s, f"the simulator (log: {log.name})")
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
