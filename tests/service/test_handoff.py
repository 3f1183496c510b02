"""How ``cchc ingest`` / ``cchc run`` find a running service and hand it a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock

from cchc.config import Settings
from cchc.inbox import InboxPathError
from cchc.service import handoff


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "data")
    s.prefect_home.mkdir(parents=True)
    return s


def test_a_service_counts_only_while_its_lock_is_held(settings: Settings, monkeypatch) -> None:
    monkeypatch.delenv("CCHC_LOCAL", raising=False)
    assert handoff.running_service(settings) is None  # nothing written
    handoff.write_service_file(settings, "http://127.0.0.1:4200/api")
    assert handoff.running_service(settings) is None  # left by a killed service: lock free
    lock = FileLock(str(settings.prefect_home / "serve.lock"))
    lock.acquire()
    try:
        found = handoff.running_service(settings)
        assert found == handoff.RunningService("http://127.0.0.1:4200/api", os.getpid())
        monkeypatch.setenv("CCHC_LOCAL", "1")
        assert handoff.running_service(settings) is None  # asked to run locally
    finally:
        lock.release()
    assert oct(handoff.service_file(settings).stat().st_mode & 0o777) == "0o600"
    handoff.remove_service_file(settings)
    assert not handoff.service_file(settings).exists()


def test_a_handed_off_file_is_private_accepted_and_removed(settings: Settings,
                                                          tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("a,b\n1,2\n")
    copy = handoff.hand_off_file(settings, export)
    assert copy.name == "export.csv" and copy.read_text() == export.read_text()
    assert copy.parent.parent == handoff.handoff_dir(settings)
    assert oct(copy.parent.stat().st_mode & 0o777) == "0o700"
    assert handoff.checked_handoff_path(settings, str(copy)) == copy.resolve()
    handoff.remove_handed_off(settings, copy)
    assert not copy.parent.exists() and export.exists()


def test_paths_outside_the_handoff_folder_are_refused(settings: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    outside.write_text("x")
    with pytest.raises(InboxPathError, match="refused"):
        handoff.checked_handoff_path(settings, str(outside))
    folder = handoff.handoff_dir(settings) / "abc"
    folder.mkdir(parents=True)
    link = folder / "link.csv"
    link.symlink_to(outside)
    with pytest.raises(InboxPathError, match="refused"):
        handoff.checked_handoff_path(settings, str(link))
    with pytest.raises(InboxPathError, match="refused"):
        handoff.checked_handoff_path(settings, str(folder / ".." / ".." / ".." / "secret.csv"))
    handoff.remove_handed_off(settings, outside)  # never removes anything outside handoff/
    assert outside.exists()
