"""Fixtures for the validation tests: one GX warm-up for the whole session."""

from __future__ import annotations

import pytest
from expectation_frames import dossier_frames

from warehouse.tables import CORE_ONESTOP_DOSSIERS


@pytest.fixture(scope="session")
def gx_ready() -> None:
    """Import GX and build the context once (3–4 s, more on a busy machine)."""
    from expectations.validate import validate

    core, raw = dossier_frames([{}])
    validate(core, raw, CORE_ONESTOP_DOSSIERS)
