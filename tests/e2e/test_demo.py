"""`cchc demo`, the README's first command, end to end in its own process (a file of its own,
so a parallel run can give it to one worker while test_cli.py runs on the other)."""

from __future__ import annotations

import pytest
from cli_helpers import cchc

pytestmark = pytest.mark.integration


def test_demo_reproduces_the_published_figures(env: dict[str, str]) -> None:
    """The README's first command: simulator, pull through Prefect, publish, form 06 vs the article."""
    out = cchc("demo", env={**env, "PREFECT_LOGGING_ROOT_LEVEL": "INFO"}, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    # the command's own temporary server ran the flows (cchc.temporary_server), not one Prefect
    # started at the first API call (which it logs at INFO)
    assert "Starting temporary server" not in out.stdout + out.stderr
    lines = {line.split("│")[1].strip(): line for line in out.stdout.splitlines() if line.count("│") >= 6}
    for indicator in ("received_total", "received_online", "received_counter_postal", "carried_over",
                      "resolved_total", "resolved_on_time", "resolved_late", "in_progress_total"):
        assert "✓ same" in lines[indicator], lines.get(indicator)
    # The article's 1.19 % online rate matches no natural denominator: the demo says so.
    assert "✗ differs" in lines["online_rate_pct"]
    assert "87,221" in lines["received_total"]
    assert "quarantined" in out.stdout and "Dirt handled" in out.stdout
