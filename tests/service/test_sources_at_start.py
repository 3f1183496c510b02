"""What ``cchc serve`` does about its sources at start, and how fast a pull gives up on an
address where nothing listens (no Prefect server needed)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cchc.config import Settings, SimulatorSettings, SourceSettings
from cchc.processes import free_port, source_unreachable


def _settings(tmp_path: Path, sim_port: int, base_url: str) -> Settings:
    return Settings(data_dir=tmp_path, simulator=SimulatorSettings(port=sim_port),
                    sources={s: SourceSettings(base_url=base_url) for s in ("onestop", "eoffice")})


def test_on_the_embedded_default_the_service_runs_the_bundled_simulator(tmp_path: Path) -> None:
    from cchc.service.runtime import embedded_simulator

    port = free_port("127.0.0.1")
    url = f"http://127.0.0.1:{port}"
    settings = _settings(tmp_path, port, url)
    assert settings.embedded_systems() == ["onestop", "eoffice"]
    with embedded_simulator(settings) as started:
        assert started == url
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    assert source_unreachable(url) == "connection refused"  # stopped with the service


def test_a_real_source_is_not_simulated_and_its_outage_is_one_line(tmp_path: Path, caplog) -> None:
    from cchc.service.runtime import embedded_simulator, report_unreachable_sources

    dead = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    settings = _settings(tmp_path, free_port("127.0.0.1"), dead)
    assert settings.embedded_systems() == []
    with embedded_simulator(settings) as started:
        assert started is None
    t0 = time.monotonic()
    lines = report_unreachable_sources(settings)
    assert time.monotonic() - t0 < 5
    assert len(lines) == 2
    assert "[sources.onestop] base_url" in lines[0] and "CCHC_ONESTOP_URL" in lines[0]
    assert "[sources.eoffice] base_url" in lines[1] and "CCHC_EOFFICE_URL" in lines[1]


def test_a_pull_gives_up_on_a_refused_connection_within_seconds(tmp_path: Path) -> None:
    """The client's own retry policy: a connection that cannot be opened is tried
    ``connect_retries`` + 1 times (not the minutes 429/5xx get), names the setting, and the
    pull task is not retried after it."""
    from cchc.pipeline import stage_pull
    from flows.pull import _transient
    from sources.errors import SourceUnreachableError
    from sources.registry import source

    dead = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    settings = _settings(tmp_path, free_port("127.0.0.1"), dead)
    t0 = time.monotonic()
    with pytest.raises(SourceUnreachableError, match=r"CCHC_ONESTOP_URL") as caught:
        stage_pull(settings, source("onestop"), datetime(2021, 1, 1, tzinfo=UTC),
                   datetime(2021, 2, 1, tzinfo=UTC))
    assert time.monotonic() - t0 < 10  # 3 attempts, not minutes
    assert "after 3 attempt(s)" in str(caught.value)

    class Failed:
        def result(self):
            raise caught.value

    assert _transient(None, None, Failed()) is False  # the task is not retried either


def test_a_listening_source_passes_the_check(tmp_path: Path) -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        assert source_unreachable(url) is None
