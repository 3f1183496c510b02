"""Fixtures for the end-to-end tests: the environment a user's shell gives the command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def env(data_dir: Path) -> dict[str, str]:
    e = dict(os.environ, CCHC_DATA_DIR=str(data_dir), COLUMNS="200")
    for key in ("PREFECT_API_URL", "PREFECT_HOME"):  # the CLI brings its own Prefect home
        e.pop(key, None)
    return e
