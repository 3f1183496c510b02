"""Private files are the service user's alone; the published snapshot is the group's to read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from warehouse_fixtures import core_frame, dossier

from cchc.config import Settings
from warehouse.personal import personal_path
from warehouse.tables import CORE_ONESTOP_DOSSIERS
from warehouse.writer import Warehouse


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def restore_umask() -> Iterator[None]:
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


def test_private_files_0600_dirs_0700_snapshot_0640(
    settings: Settings, units_csv: Path, restore_umask: None
) -> None:
    os.umask(0o022)
    staged = settings.staging_dir / "batch-1" / "part-0.parquet"
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b"x")
    settings.warehouse_path.parent.mkdir(parents=True)
    settings.warehouse_path.with_name("leftover.wal").write_bytes(b"")
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        assert os.umask(0o077) == 0o077  # the writer runs with umask 077
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A")), "L1")
        for path in settings.warehouse_path.parent.rglob("*"):
            assert mode(path) == (0o700 if path.is_dir() else 0o600), path
        wh.publish()
    assert mode(settings.warehouse_path.parent) == 0o700
    for path in (settings.warehouse_path, personal_path(settings),
                 settings.warehouse_path.with_name("leftover.wal")):  # fmt: skip
        assert mode(path) == 0o600, path
    assert mode(settings.staging_dir) == 0o700
    assert mode(staged.parent) == 0o700 and mode(staged) == 0o600
    assert mode(settings.published_path) == 0o640
    assert mode(settings.published_path.parent) == 0o750
