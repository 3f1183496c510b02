"""The exact-duplicate check of an input's parts, in part order, when parts are prepared at once.

A row is an exact duplicate when an earlier row of the same input has the same content
(``row_hash``); which copy counts as the first must not depend on which thread finished first.
A load prepares several parts at once (``cchc.pipeline._load_parts``): each part is read and
transformed freely, then waits for its turn, checks its hashes against every earlier part's and
adds its own, and passes the turn on; its validation runs freely again. A part that fails still
passes its turn (:meth:`SeenRows.skip`), so no later part waits for ever.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl


class SeenRows:
    """The row hashes of an input's parts checked so far (128-bit integers, 16 bytes a row),
    and whose turn it is; ``lock`` guards what the parts add up (counts, reasons)."""

    def __init__(self) -> None:
        self.hashes = pl.Series("row_hash", [], dtype=pl.UInt128)
        self.lock = threading.Lock()
        self._next = 0
        self._turn = threading.Condition()

    @contextmanager
    def turn(self, index: int) -> Iterator[None]:
        """Wait until every part before ``index`` has had its turn; pass it on at the end."""
        with self._turn:
            self._turn.wait_for(lambda: self._next >= index)
        try:
            yield
        finally:
            self.skip(index)

    def skip(self, index: int) -> None:
        """Part ``index`` is done with its turn (taken, or given up because it failed)."""
        with self._turn:
            self._turn.wait_for(lambda: self._next >= index)
            self._next = max(self._next, index + 1)
            self._turn.notify_all()

    def first(self, hashes: pl.Series) -> pl.Series:
        """Which of a part's rows are the first of their content so far (call in its turn)."""
        keys = hashes.str.to_integer(base=16, dtype=pl.UInt128)
        first = keys.is_first_distinct()
        seen = self.hashes
        if seen.len():
            # the lookup hashes the part and scans the hashes seen once: a hash set of every
            # hash seen, built again for each part, would cost more with every part
            earlier = seen.filter(seen.is_in(keys.implode()))
            if earlier.len():
                first = first & ~keys.is_in(earlier.implode())
        self.hashes = pl.concat([seen, keys.filter(first)], rechunk=False)
        return first
