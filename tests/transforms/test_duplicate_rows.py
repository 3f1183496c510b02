"""Exact duplicates within one input are found across its parts, with 16 bytes a row kept."""

from __future__ import annotations

from hashlib import blake2b
from pathlib import Path

import polars as pl

from cchc.pipeline import _each_column, _first_seen, _read_part


def _hashes(*texts: str) -> pl.Series:
    return pl.Series("row_hash", [blake2b(t.encode(), digest_size=16).hexdigest() for t in texts])


def test_duplicates_within_a_part_and_across_parts_are_found() -> None:
    seen = pl.Series("row_hash", [], dtype=pl.UInt128)
    first, seen = _first_seen(_hashes("a", "b", "a", "c"), seen)
    assert first.to_list() == [True, True, False, True]
    first, seen = _first_seen(_hashes("d", "b", "d", "e"), seen)
    assert first.to_list() == [True, False, False, True]
    first, seen = _first_seen(_hashes("c", "f", "a"), seen)
    assert first.to_list() == [False, True, False]
    assert seen.dtype == pl.UInt128 and seen.len() == 6  # each content once


def test_hashes_differing_in_one_half_are_different_rows() -> None:
    """All 128 bits count: two hashes sharing their first (or last) 64 bits are not duplicates."""
    a, b, c = "0" * 32, "0" * 16 + "f" * 16, "f" * 16 + "0" * 16
    first, seen = _first_seen(pl.Series("row_hash", [a, b]), pl.Series([], dtype=pl.UInt128))
    assert first.all()
    first, _ = _first_seen(pl.Series("row_hash", [c, b, a]), seen)
    assert first.to_list() == [True, False, False]


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
