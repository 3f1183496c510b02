"""Shared fixtures: an isolated data folder per test and one Prefect test server per session."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
# pytest-xdist's workers (make test) start with COLUMNS=80 in their environment. A rich console
# created at import (cchc.console) would keep those 80 columns for the whole worker, whatever
# COLUMNS a test sets later; without it, as in a one-process run, the width follows the test.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)


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


@pytest.fixture(scope="session")
def published_from_exports() -> Callable:
    """Build a published warehouse in ``root`` from the export files ``make_files(root)``
    returns, through the pipeline's own steps (``stage_file``, ``load_batch``, ``publish``; no
    Prefect), each load checked by ``check(summary)``; a context manager yielding a reader."""

    @contextmanager
    def build(root: Path, make_files: Callable[[Path], list[Path]],
              check: Callable = lambda s: s.status == "succeeded"):
        from cchc.config import load_settings
        from cchc.pipeline import load_batch, publish, stage_file
        from warehouse.reader import open_snapshot

        with pytest.MonkeyPatch.context() as env:
            env.setenv("CCHC_DATA_DIR", str(root / "data"))
            env.delenv("CCHC_CONFIG", raising=False)
            env.chdir(root)
            settings = load_settings()
            for path in map(Path, make_files(root)):
                sha = hashlib.sha256(path.read_bytes()).hexdigest()
                summary = load_batch(settings, stage_file(settings, path, sha))
                assert check(summary), summary
            publish(settings)
            con = open_snapshot(settings)
            try:
                yield con
            finally:
                con.close()

    return build
