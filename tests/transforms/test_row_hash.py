"""Stable row hash: same values, same hash, in any process and any batch."""

from __future__ import annotations

import subprocess
import sys
from hashlib import blake2b
from pathlib import Path

import polars as pl

from sources.onestop.fields import RAW_FIELDS
from transforms.hashing import row_hash, serialise

ROOT = Path(__file__).resolve().parents[2]


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "a": ["x", None, "", "\x00", "a\x1fb", "a\\u001fb", "Nguyễn"],
            "b": ["y", "z", None, None, "c", "c", "Văn"],
        }
    )


def test_known_value_never_changes() -> None:
    """A fixed row has a fixed hash: changing it invalidates every raw-version key."""
    df = pl.DataFrame({"a": ["x"], "b": [None]}, schema={"a": pl.String, "b": pl.String})
    assert serialise(df, ["a", "b"]).to_list() == ["x\x1f\x00"]
    expected = blake2b(b"x\x1f\x00", digest_size=16).hexdigest()
    assert row_hash(df, ["a", "b"]).to_list() == [expected] == ["439fadb94055856d35dfa2644bd7fb95"]


def test_null_empty_and_special_characters_are_distinct() -> None:
    hashes = row_hash(_frame(), ["a", "b"])
    assert hashes.n_unique() == 7
    assert hashes.str.len_chars().to_list() == [32] * 7


def test_a_row_hashes_the_same_in_any_batch() -> None:
    df = _frame()
    whole = row_hash(df, ["a", "b"]).to_list()
    alone = [row_hash(df.slice(i, 1), ["a", "b"]).item() for i in range(df.height)]
    assert whole == alone


def test_hashing_in_slices_gives_the_hashes_of_the_whole(monkeypatch) -> None:
    """The frame is hashed HASH_ROWS rows at a time (bounded memory): the slices' hashes are the
    rows' own, in order, whatever the slice size (the escaped rows fall in different slices)."""
    import transforms.hashing as hashing

    df = pl.concat([_frame()] * 3)
    expected = [blake2b(s.encode(), digest_size=16).hexdigest()
                for s in serialise(df, ["a", "b"]).to_list()]
    monkeypatch.setattr(hashing, "HASH_ROWS", 4)
    assert row_hash(df, ["a", "b"]).to_list() == expected


def test_absent_fields_hash_like_null_columns() -> None:
    df = pl.DataFrame({"MaHoSo": ["HS-1"]})
    full = df.with_columns(
        pl.lit(None, dtype=pl.String).alias(f) for f in RAW_FIELDS if f != "MaHoSo"
    )
    assert row_hash(df).item() == row_hash(full).item()


def test_stable_across_processes() -> None:
    code = (
        "import polars as pl; from transforms.hashing import row_hash;"
        "print(row_hash(pl.DataFrame({'a': ['Nguyễn', None], 'b': ['1', '']}), ['a', 'b']).to_list())"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    here = str(
        row_hash(pl.DataFrame({"a": ["Nguyễn", None], "b": ["1", ""]}), ["a", "b"]).to_list()
    )
    assert other == here + "\n"
