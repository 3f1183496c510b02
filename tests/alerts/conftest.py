"""Fixtures for alert tests: settings on a temporary data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc.config import Settings, load_settings


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings()
