"""One simulated e-document system's data, built once per options: truth, emitted items, dirt
manifest, and the e-document report of docs/figures.md §5 computed from the truth.

``get_documents(options)`` is cached by ``options.documents_key``; the dossier truth it links to
(MaHoSoLienKet) comes from the dossier side's own cached dataset, which it never changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from simulator import doc_catalog as dc
from simulator.dataset import get_dataset
from simulator.doc_dirt import DocManifest, emit_documents
from simulator.documents import DocGenerated, generate_documents
from simulator.options import SimOptions

REPORT_COLUMNS = tuple(f"c{i}" for i in range(3, 13))


def to_public(frame: pl.DataFrame) -> pl.DataFrame:
    """API fields only; dates pl.Date, NgayCapNhat Datetime(UTC)."""
    return frame.select(dc.API_FIELDS).with_columns(
        pl.from_epoch("NgayCapNhat", time_unit="s").dt.replace_time_zone("UTC"))


def api_json(chunk: pl.DataFrame) -> str:
    """Items as the API's JSON array: dates ``YYYY-MM-DD``, instants ISO UTC, KySo boolean."""
    return chunk.select(dc.API_FIELDS).with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c in dc.DATE_FIELDS]
        + [pl.from_epoch("NgayCapNhat", time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")]).write_json()


@dataclass
class DocDataset:
    """The emitted items (sorted by NgayCapNhat, MaVanBan; internal: NgayCapNhat Int64 UTC
    seconds, ``_idx`` truth document or -1, ``_unit``), the truth and the dirt manifest."""

    options: SimOptions
    generated: DocGenerated  # the truth's documents, warning cases applied
    items: pl.DataFrame
    manifest: DocManifest
    _windows: dict[str | None, tuple[pl.DataFrame, np.ndarray]] = field(default_factory=dict, repr=False)

    @property
    def period(self) -> tuple[date, date]:
        return self.generated.period

    @cached_property
    def truth(self) -> pl.DataFrame:
        """One clean row per truth document (extras excluded) in its newest version visible at
        ``now``: API fields, dates pl.Date, NgayCapNhat Datetime(UTC), secret documents as the
        API must serve them (leaked summaries withheld), warning cases as served."""
        gen = self.generated
        latest = gen.latest_stage(_now_s(self.options))
        visible = np.nonzero(latest >= 0)[0]
        rows = gen.rows(visible, latest[visible]).sort("MaVanBan")
        return to_public(rows)

    def by_direction(self, direction: str | None) -> tuple[pl.DataFrame, np.ndarray]:
        """Items of one register (None: all) and their NgayCapNhat, for bisection."""
        if direction not in self._windows:
            frame = self.items if direction is None else self.items.filter(pl.col("LoaiVanBan") == direction)
            self._windows[direction] = (frame, frame["NgayCapNhat"].to_numpy())
        return self._windows[direction]

    def window(self, since_s: int, until_s: int, direction: str | None = None) -> tuple[pl.DataFrame, int, int]:
        """(frame, lo, hi): items of the register with since <= NgayCapNhat < until are frame[lo:hi]."""
        frame, updated = self.by_direction(direction)
        lo = int(np.searchsorted(updated, since_s, side="left"))
        hi = int(np.searchsorted(updated, until_s, side="left"))
        return frame, lo, max(lo, hi)

    def api_items(self) -> list[dict[str, Any]]:
        """Every emitted item as the API serves it (dicts), in API order."""
        import json

        return json.loads(api_json(self.items))

    def expected_report(self, date_from: date | None = None, date_to: date | None = None,
                        with_total: bool = False) -> pl.DataFrame:
        """The e-document report (docs/figures.md §5) from the truth: one row per body in the
        units' order (``code``, ``name``, ``c3`` … ``c12``); ``with_total`` appends the total row
        (code None, name "Tổng cộng")."""
        f, t = date_from or self.period[0], date_to or self.period[1]
        report = document_report(self.truth, f, t, self.generated.units)
        if with_total:
            total = report.select(pl.lit(None, dtype=pl.String).alias("code"), pl.lit("Tổng cộng").alias("name"),
                                  *[pl.col(c).sum() for c in REPORT_COLUMNS])
            report = pl.concat([report, total])
        return report

    def expected_total(self, date_from: date | None = None, date_to: date | None = None) -> dict[str, int]:
        """The total row of ``expected_report`` as {c3: n, …, c12: n}."""
        row = self.expected_report(date_from, date_to, with_total=True).row(-1, named=True)
        return {c: int(row[c]) for c in REPORT_COLUMNS}


def document_report(truth: pl.DataFrame, date_from: date, date_to: date, units: tuple) -> pl.DataFrame:
    """§2.1 exactly. (3) incoming received in [from, to]; (4) of them DienTu/CaHai; (5) with a
    deadline; completed by ``to`` judged by NgayHoanThanh alone: (6) on time (≤ deadline),
    (7) late; not completed by ``to``: (8) deadline < to, (9) deadline ≥ to; (10) outgoing issued
    in the period, (11) DienTu/CaHai, (12) KySo."""
    f, t = pl.lit(date_from), pl.lit(date_to)
    den = (pl.col("LoaiVanBan") == "DEN") & pl.col("NgayDen").is_between(f, t)
    di = (pl.col("LoaiVanBan") == "DI") & pl.col("NgayBanHanh").is_between(f, t)
    e = pl.col("HinhThuc").is_in(list(dc.ELECTRONIC_CODES))
    due = den & pl.col("HanXuLy").is_not_null()
    done = pl.col("NgayHoanThanh").is_not_null() & (pl.col("NgayHoanThanh") <= t)
    cols = {
        "c3": den, "c4": den & e, "c5": due,
        "c6": due & done & (pl.col("NgayHoanThanh") <= pl.col("HanXuLy")),
        "c7": due & done & (pl.col("NgayHoanThanh") > pl.col("HanXuLy")),
        "c8": due & ~done & (pl.col("HanXuLy") < t), "c9": due & ~done & (pl.col("HanXuLy") >= t),
        "c10": di, "c11": di & e, "c12": di & pl.col("KySo"),
    }
    counts = truth.group_by("MaDonVi").agg([c.fill_null(False).sum().cast(pl.Int64).alias(k) for k, c in cols.items()])
    bodies = pl.DataFrame({"MaDonVi": [u.unit_id for u in units], "code": [u.code for u in units],
                           "name": [u.name for u in units]})
    return bodies.join(counts, on="MaDonVi", how="left").fill_null(0).drop("MaDonVi")


def _now_s(options: SimOptions) -> int | None:
    return int(options.now.timestamp()) if options.now is not None else None


def build_documents(options: SimOptions) -> DocDataset:
    gen = generate_documents(options, get_dataset(options).generated)
    gen, items, manifest = emit_documents(gen, options.doc_dirt, options.seed, _now_s(options))
    return DocDataset(options, gen, items, manifest)


_CACHE: dict[tuple[Any, ...], DocDataset] = {}
_LOCK = threading.Lock()
_CACHE_SIZE = 6


def get_documents(options: SimOptions) -> DocDataset:
    """The e-document dataset for these options, built once per process."""
    key = options.documents_key
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is None:
            hit = build_documents(options)
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = hit
        return hit
