"""Exact duplicates within one input are found across its parts, with 16 bytes a row kept."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from hashlib import blake2b
from pathlib import Path

import polars as pl
import pytest

from cchc.part_order import SeenRows
from cchc.pipeline import _each_column, _read_part


def _hashes(*texts: str) -> pl.Series:
    return pl.Series("row_hash", [blake2b(t.encode(), digest_size=16).hexdigest() for t in texts])


def test_duplicates_within_a_part_and_across_parts_are_found() -> None:
    seen = SeenRows()
    assert seen.first(_hashes("a", "b", "a", "c")).to_list() == [True, True, False, True]
    assert seen.first(_hashes("d", "b", "d", "e")).to_list() == [True, False, False, True]
    assert seen.first(_hashes("c", "f", "a")).to_list() == [False, True, False]
    assert seen.hashes.dtype == pl.UInt128 and seen.hashes.len() == 6  # each content once


def test_hashes_differing_in_one_half_are_different_rows() -> None:
    """All 128 bits count: two hashes sharing their first (or last) 64 bits are not duplicates."""
    a, b, c = "0" * 32, "0" * 16 + "f" * 16, "f" * 16 + "0" * 16
    seen = SeenRows()
    assert seen.first(pl.Series("row_hash", [a, b])).all()
    assert seen.first(pl.Series("row_hash", [c, b, a])).to_list() == [True, False, False]


def test_parts_take_their_turns_in_part_order_whatever_thread_comes_first() -> None:
    """Part 2 asks for its turn before part 1 does: it still checks after part 1, so the copy in
    part 1 is the first. Part 0 fails before its turn and still lets the others through."""
    seen = SeenRows()
    asked = threading.Event()

    def check(index: int, texts: tuple[str, ...]) -> list[bool]:
        try:
            if index == 0:
                raise RuntimeError("transform failed")
            if index == 2:
                asked.set()
            with seen.turn(index):
                return seen.first(_hashes(*texts)).to_list()
        finally:
            seen.skip(index)

    with ThreadPoolExecutor(max_workers=3) as pool:
        later = pool.submit(check, 2, ("x", "y"))
        assert asked.wait(10)
        time.sleep(0.2)  # room for part 2 to jump the queue, were the order not kept
        failed = pool.submit(check, 0, ())
        earlier = pool.submit(check, 1, ("x",))
        assert earlier.result(timeout=10) == [True]
        assert later.result(timeout=10) == [False, True]
        with pytest.raises(RuntimeError):
            failed.result(timeout=10)


def test_a_part_is_read_and_its_duplicates_dropped_a_column_at_a_time(tmp_path: Path) -> None:
    """One chunk per column (parquet gives one per row group), the same rows as a filter of
    the whole frame, and the frame given is emptied on the way (each column freed in turn)."""
    frame = pl.DataFrame({"a": range(10), "b": [f"text {i}" for i in range(10)]})
    path = tmp_path / "part.parquet"
    frame.write_parquet(path, row_group_size=3)
    read = _read_part(str(path))
    assert read.equals(frame) and set(read.n_chunks("all")) == {1}
    first = pl.Series([i % 3 > 0 for i in range(10)])
    part = read.with_columns(pl.lit("same").alias("c"))
    expected = part.filter(first)
    kept = _each_column(part, lambda column: column.filter(first).rechunk())
    assert kept.equals(expected) and set(kept.n_chunks("all")) == {1}
    assert part.width == 0
