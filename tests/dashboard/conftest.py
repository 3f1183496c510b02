"""Fixtures: one synthetic warehouse published (and its page drawn) per session, one empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_fixtures import build_warehouse

from cchc.config import Settings


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Eighteen months of dossiers and documents, published through ``cchc.pipeline.publish``."""
    return build_warehouse(Path(tmp_path_factory.mktemp("dashboard")))


@pytest.fixture(scope="session")
def published_empty(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A fresh warehouse: schema and units only, published."""
    return build_warehouse(Path(tmp_path_factory.mktemp("dashboard-empty")), empty=True)
