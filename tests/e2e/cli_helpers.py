"""Run the command line as a user does: a separate process, real Prefect, real files."""

from __future__ import annotations

import subprocess
import sys


def cchc(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cchc.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
