"""Shared fixtures: an isolated data folder per test and one Prefect test server per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# One identity-number hash key for every warehouse a test builds, child processes included:
# warehouses built in separate folders (a killed run and a clean one) must hash the same
# applicant alike to compare equal. The generated-key path is tested with explicit environments
# (tests/sources/test_identity_hashing.py).
os.environ.setdefault("CCHC_ID_HASH_KEY", "cchc-test-suite-identity-key-0123456789")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder, made the one every cchc setting points at."""
    path = tmp_path / "data"
    monkeypatch.setenv("CCHC_DATA_DIR", str(path))
    monkeypatch.delenv("CCHC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect server for the whole session (≈ 10 s once)."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
