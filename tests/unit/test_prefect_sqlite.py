"""Prefect's SQLite transactions take the write lock at BEGIN (cchc.prefect_sqlite)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from prefect.server.database.configurations import AioSqliteConfiguration

from cchc.prefect_sqlite import take_write_lock_at_begin


def _another_writer_refused(path: Path) -> bool:
    """Whether a second connection cannot start writing right now (without waiting)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    else:
        other.execute("ROLLBACK")
        return False
    finally:
        other.close()


async def _read_in_a_transaction(path: Path) -> bool:
    """Read inside Prefect's server transaction; report whether the write lock is held."""
    config = AioSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{path}")
    engine = await config.engine()
    try:
        session = await config.session(engine)
        async with session, config.begin_transaction(session):
            await session.execute(sa.text("SELECT count(*) FROM runs"))
            return _another_writer_refused(path)
    finally:
        await engine.dispose()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # restored after the test: the patch below replaces this attribute for the process
    monkeypatch.setattr(AioSqliteConfiguration, "begin_transaction",
                        AioSqliteConfiguration.begin_transaction)
    path = tmp_path / "prefect.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE runs (id INTEGER)")
    return path


def test_prefect_alone_reads_without_the_write_lock(database: Path) -> None:
    """The behaviour being fixed: a DEFERRED transaction that has only read holds no write
    lock, so another writer can commit before its first write (SQLITE_BUSY_SNAPSHOT)."""
    assert not asyncio.run(_read_in_a_transaction(database))


def test_patched_transactions_hold_the_write_lock_from_begin(database: Path) -> None:
    assert take_write_lock_at_begin()
    assert take_write_lock_at_begin()  # idempotent: one wrapper, not two
    assert asyncio.run(_read_in_a_transaction(database))
    assert not _another_writer_refused(database)  # released at the end of the transaction


def test_an_unknown_configuration_is_left_as_prefect_made_it(
        database: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A Prefect whose begin_transaction changed shape is not patched blindly."""

    def begin_transaction(self, session):  # another signature
        raise AssertionError("not called")

    monkeypatch.setattr(AioSqliteConfiguration, "begin_transaction", begin_transaction)
    assert not take_write_lock_at_begin()
    assert AioSqliteConfiguration.begin_transaction is begin_transaction
    assert "stay DEFERRED" in caplog.text
