"""Service test fixtures: ONE real ``prefect server start`` per session (its own PREFECT_HOME in
a temporary folder, a free loopback port). Helpers to run ``cchc serve`` are in service_helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from service_helpers import register_auth

from cchc.service.prefect_server import PrefectServer, free_port, start_prefect_server


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    home = tmp_path_factory.mktemp("prefect-server-home")
    with start_prefect_server(home, "127.0.0.1", free_port()) as server:
        print(f"\nPrefect server ready in {server.startup_s:.1f} s at {server.api_url}")
        register_auth(server.api_url, server.auth_string)
        yield server

