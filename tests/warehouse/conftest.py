"""Fixtures for warehouse tests: settings on a temporary data folder and a small units seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from warehouse_fixtures import UNITS_CSV

from cchc.config import Settings, load_settings


@pytest.fixture
def units_csv(tmp_path: Path) -> Path:
    path = tmp_path / "dim_admin_unit.csv"
    path.write_text(UNITS_CSV, encoding="utf-8")
    return path


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings()
