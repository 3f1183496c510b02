"""One simulated system's data, built once per options and shared by the API, exports and tests.

``get_dataset(options)`` is cached: the API server, the exporter and a test that asks for the
truth of the same options all see the very same frames.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from simulator.dirt import Manifest, emit, system_state
from simulator.generate import Generated, combine, generate, shards
from simulator.options import SimOptions
from simulator.report06 import report06, report06_new_units

INSTANT_FIELDS = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayCapNhat")
API_FIELDS = ("MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MucDo", "MaDonVi", "TenDonVi",
              "MaDVHC", "KenhThucHien", "LoaiDoiTuong", "ChuHoSo", "SoGiayTo", "SoDienThoai",
              "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "TrangThaiHoSo",
              "TrangThaiSoHoa", "KetQuaDienTu", "ThanhToanTrucTuyen", "DanhGia", "NgayCapNhat")


def to_public(frame: pl.DataFrame) -> pl.DataFrame:
    """API fields only, instants as Datetime(UTC)."""
    return frame.select(API_FIELDS).with_columns(
        [pl.from_epoch(c, time_unit="s").dt.replace_time_zone("UTC").alias(c) for c in INSTANT_FIELDS])


@dataclass
class Dataset:
    """The emitted items (sorted by NgayCapNhat, MaHoSo), the truth and the dirt manifest."""

    options: SimOptions
    generated: Generated
    items: pl.DataFrame  # internal: instants Int64 UTC seconds, private `_` columns
    missing_due: np.ndarray  # truth dossiers whose due date the system lacks
    manifest: Manifest
    moved_due: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))  # (dossier, new due)

    @cached_property
    def state(self) -> pl.DataFrame:
        """The vendor database's current state (internal types): what /reports/06 counts."""
        return system_state(self.generated, _now_s(self.options), self.missing_due, self.moved_due)

    @cached_property
    def updated(self) -> np.ndarray:
        """NgayCapNhat of every item, ascending: bisect it to find a window."""
        return self.items["NgayCapNhat"].to_numpy()

    @cached_property
    def truth(self) -> pl.DataFrame:
        """The clean current state: one row per truth dossier (extras excluded), newest version
        visible at ``now``, no dirt, instants as Datetime(UTC)."""
        gen = self.generated
        latest = gen.latest_stage(_now_s(self.options))
        visible = np.nonzero(latest >= 0)[0]
        return to_public(gen.rows(visible, latest[visible]))

    @property
    def period(self) -> tuple[date, date]:
        return self.generated.period

    @property
    def figures(self) -> dict[str, int] | None:
        """The published figures the scenario is calibrated to (krongpa only)."""
        return self.generated.figures

    def expected_report06(self, date_from: date | None = None, date_to: date | None = None,
                          by: str = "unit") -> dict[str, Any]:
        """Form 06 by the vendor's rules over the system's state (what /reports/06 answers)."""
        f, t = date_from or self.period[0], date_to or self.period[1]
        if by == "new_unit":  # krongpa-2024-2026: by today's units (report06_new_units)
            return report06_new_units(self.state, f, t)
        return report06(self.state, f, t, by, self.generated.units)

    def window(self, since_s: int, until_s: int) -> tuple[int, int]:
        """[lo, hi) indices of items with since <= NgayCapNhat < until."""
        lo = int(np.searchsorted(self.updated, since_s, side="left"))
        hi = int(np.searchsorted(self.updated, until_s, side="left"))
        return lo, max(lo, hi)


def _now_s(options: SimOptions) -> int | None:
    return int(options.now.timestamp()) if options.now is not None else None


def shard_datasets(options: SimOptions) -> Iterator[Dataset]:
    """The scenario one shard at a time (scale scenario past SHARD_MAX dossiers), each with its
    own dossier indices: what a streaming export walks through in bounded memory."""
    for sh in shards(options):
        gen = generate(options, sh)
        items, missing_due, manifest, moved_due = emit(gen, options.dirt, options.seed, _now_s(options), sh.index)
        yield Dataset(options, gen, items, missing_due, manifest, moved_due)
        del gen, items  # let the consumer free this shard before the next one is built


def build_dataset(options: SimOptions) -> Dataset:
    """The whole scenario in memory (shards combined, items re-sorted globally)."""
    parts = list(shard_datasets(options))
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [p.generated.full.height for p in parts[:-1]])
    items = pl.concat([p.items.with_columns(
        _idx=pl.when(pl.col("_idx") >= 0).then(pl.col("_idx") + int(off)).otherwise(-1)) for p, off in zip(parts, offsets, strict=True)])
    manifest = Manifest(pl.concat([p.manifest.entries for p in parts]).sort("kind", "MaHoSo"))
    missing_due = np.concatenate([p.missing_due + off for p, off in zip(parts, offsets, strict=True)])
    moved_due = np.concatenate([p.moved_due + np.array([off, 0]) for p, off in zip(parts, offsets, strict=True)])
    return Dataset(options, combine([p.generated for p in parts]), items.sort("NgayCapNhat", "_key"),
                   missing_due, manifest, moved_due)


_CACHE: dict[tuple[Any, ...], Dataset] = {}
_LOCK = threading.Lock()
_CACHE_SIZE = 6


def get_dataset(options: SimOptions) -> Dataset:
    """The dataset for these options, built once per process (faults and token do not matter)."""
    key = options.data_key
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        ds = build_dataset(options)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = ds
        return ds


def utc_seconds(value: str) -> int:
    """Seconds of an ISO 8601 instant: 'Z' or an offset (a '+' decoded to a space in a query
    string is put back); naive means UTC."""
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 19 and text[19] == " ":
        text = text[:19] + "+" + text[20:]
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())
