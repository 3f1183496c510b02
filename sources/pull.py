"""Stream a pull window into parquet parts, so memory stays flat whatever the window size.

Pages (1000 items) become raw frames and are buffered until ``rows_per_part`` rows are ready;
then a part is written. Parts are written under a temporary name and renamed, so a crash never
leaves a half-written file that looks like a part. If the window changes under the pull (see
``sources.api``), the parts written so far are deleted and the window is read again.

A system that must withhold fields (the e-document system's secret documents) passes a
``redact`` function: it runs on every page before anything is written, so what it drops never
reaches the staging folder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sources.errors import SourceWindowChangedError
from sources.raw import items_to_raw_frame

if TYPE_CHECKING:
    from sources.api import PagedClient

log = logging.getLogger("cchc.sources.pull")

Redact = Callable[[pl.DataFrame], pl.DataFrame]

PART_GLOB = "part-*.parquet"


@dataclass(frozen=True)
class PullResult:
    """What a pull wrote: its parts in order, the items read, and what the API reported."""

    parts: list[Path]
    items: int
    total_reported: int
    extra_keys: list[str] = field(default_factory=list)  # item keys not among the raw fields (drift)
    fields_seen: list[str] = field(default_factory=list)  # item keys the source sent (column gate)
    pages: int = 0
    restarts: int = 0  # times the window changed under the pull and was read again


class _PartWriter:
    """Buffers raw frames and writes parquet parts of exactly ``rows_per_part`` rows (last: fewer)."""

    def __init__(self, out_dir: Path, rows_per_part: int) -> None:
        self.out_dir, self.rows_per_part = out_dir, rows_per_part
        self.parts: list[Path] = []
        self._buffer: list[pl.DataFrame] = []
        self._buffered = 0

    def add(self, frame: pl.DataFrame) -> None:
        self._buffer.append(frame)
        self._buffered += frame.height
        if self._buffered >= self.rows_per_part:
            rest = pl.concat(self._buffer, rechunk=False)
            while rest.height >= self.rows_per_part:
                self._write(rest.slice(0, self.rows_per_part))
                rest = rest.slice(self.rows_per_part)
            self._buffer, self._buffered = ([rest] if rest.height else []), rest.height

    def close(self) -> list[Path]:
        if self._buffered:
            self._write(pl.concat(self._buffer, rechunk=False))
        self._buffer, self._buffered = [], 0
        return self.parts

    def _write(self, frame: pl.DataFrame) -> None:
        path = self.out_dir / f"part-{len(self.parts) + 1:05d}.parquet"
        tmp = path.with_suffix(".parquet.tmp")
        frame.write_parquet(tmp)
        tmp.replace(path)
        self.parts.append(path)


def _clear_parts(out_dir: Path) -> None:
    """Remove parts of an earlier attempt (a retried task reuses its staging folder)."""
    for old in [*out_dir.glob(PART_GLOB), *out_dir.glob(PART_GLOB + ".tmp")]:
        old.unlink()


def _pull_once(
    client: PagedClient, since: datetime, until: datetime, out_dir: Path, rows_per_part: int,
    fields: Sequence[str], redact: Redact | None, filters: dict[str, Any],
) -> PullResult:
    writer = _PartWriter(out_dir, rows_per_part)
    items, total, pages = 0, 0, 0
    extra: set[str] = set()
    seen: set[str] = set()
    for page in client.iter_pages(since, until, **filters):
        frame, page_extra, page_seen = items_to_raw_frame(page.items, page.url, items + 1, fields)
        writer.add(redact(frame) if redact is not None else frame)
        items += frame.height
        total, pages = page.total, pages + 1
        extra |= page_extra
        seen |= page_seen
    if extra:
        log.warning("pull %s..%s: unknown item keys dropped: %s", since, until, sorted(extra))
    return PullResult(writer.close(), items, total, sorted(extra), sorted(seen), pages)


def pull_to_parquet(
    client: PagedClient,
    since: datetime,
    until: datetime,
    out_dir: Path,
    rows_per_part: int = 100_000,
    max_window_restarts: int = 3,
    *,
    fields: Sequence[str],
    redact: Redact | None = None,
    filters: dict[str, Any] | None = None,
) -> PullResult:
    """Pull ``[since, until)`` into ``out_dir/part-NNNNN.parquet`` raw frames of ``fields``.

    ``_source_row`` numbers items 1..N over the whole pull; ``_source`` is the page URL. Existing
    parts in ``out_dir`` are replaced. If the window keeps changing after
    ``max_window_restarts`` fresh starts, the last SourceWindowChangedError propagates.
    """
    if rows_per_part < 1:
        raise ValueError("rows_per_part must be positive")
    out_dir.mkdir(parents=True, exist_ok=True)
    for restart in range(max_window_restarts + 1):
        _clear_parts(out_dir)
        try:
            result = _pull_once(client, since, until, out_dir, rows_per_part, fields, redact,
                                filters or {})
        except SourceWindowChangedError as exc:
            if restart == max_window_restarts:
                _clear_parts(out_dir)
                raise
            wait = client.policy.backoff(restart)
            log.warning("%s; reading the window again in %.2f s", exc, wait)
            client.policy.sleep(wait)
            continue
        return PullResult(
            result.parts,
            result.items,
            result.total_reported,
            result.extra_keys,
            result.fields_seen,
            result.pages,
            restart,
        )
    raise AssertionError("unreachable")
