"""From the clean truth to what the system emits: versions, dirt, and a manifest of the dirt.

Every item the API or an export emits is a dossier record as it looked at one version. By
default a dossier emits only its newest visible version; the ``reappear`` switch makes a share of
dossiers emit their older versions too (the API's nature: every version whose NgayCapNhat is in
the window is an item). Dirt is drawn from its own seeded stream per kind, so changing one rate
never changes the truth or another kind's picks.

Untrustable rows (finish before reception, unknown unit, unknown status) are EXTRA dossiers
beside the truth, with sequences from 9000 up that never collide with a truth code: quarantining
them leaves the calibrated totals untouched. Missing due dates are put on truth dossiers that
finished on time, so the vendor's "missing due = on time" keeps the totals too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from simulator.generate import Generated, code_key, format_codes
from simulator.options import DirtOptions
from simulator.units import UNKNOWN_UNITS

TEXT_FIELDS = ("ChuHoSo", "TenDonVi", "TenTTHC", "TenLinhVuc")
UNKNOWN_STATUSES: tuple[int | str, ...] = (0, 99, "Đang chờ", 11, "DaTraKetQua")
KINDS = ("duplicates", "reappear", "nfd", "unit_variants", "missing_due",
         "finish_before_reception", "unknown_units", "unknown_status", "codes_as_numbers")
EXTRA_KINDS = ("finish_before_reception", "unknown_units", "unknown_status")
_STREAM = {k: 100 + i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class Manifest:
    """Which dossiers carry which dirt. ``entries``: kind, MaHoSo, items (emitted items affected:
    for duplicates the extra copies, for reappear the older versions emitted)."""

    entries: pl.DataFrame

    def codes(self, kind: str) -> set[str]:
        return set(self.entries.filter(pl.col("kind") == kind)["MaHoSo"].to_list())

    def dossiers(self, kind: str) -> int:
        return self.entries.filter(pl.col("kind") == kind).height

    def items(self, kind: str) -> int:
        return int(self.entries.filter(pl.col("kind") == kind)["items"].sum())

    def summary(self) -> dict[str, dict[str, int]]:
        """{kind: {"dossiers": n, "items": n}} for every kind, zeros included."""
        return {k: {"dossiers": self.dossiers(k), "items": self.items(k)} for k in KINDS}

    def restricted(self, codes: pl.Series) -> Manifest:
        """The manifest limited to some dossier codes (e.g. those in an export)."""
        return Manifest(self.entries.filter(pl.col("MaHoSo").is_in(codes.implode())))


def _entries(kind: str, codes: pl.Series, items: pl.Series | int = 1) -> pl.DataFrame:
    n = codes.len()
    counts = items if isinstance(items, pl.Series) else pl.Series([items] * n, dtype=pl.Int64)
    return pl.DataFrame({"kind": [kind] * n, "MaHoSo": codes, "items": counts.cast(pl.Int64)},
                        schema={"kind": pl.String, "MaHoSo": pl.String, "items": pl.Int64})


def _rng(seed: int, kind: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[kind]])


def _pick(rng: np.random.Generator, candidates: np.ndarray, rate: float, base: int) -> np.ndarray:
    """round(rate × base) distinct candidates (all of them if there are fewer)."""
    k = min(int(round(rate * base)), len(candidates))
    return np.sort(rng.choice(candidates, k, replace=False)) if k else np.array([], dtype=np.int64)


def emit(gen: Generated, dirt: DirtOptions, seed: int, now_s: int | None) -> tuple[pl.DataFrame, pl.DataFrame, Manifest]:
    """(items sorted by NgayCapNhat then MaHoSo, the system's current state, manifest). Frames keep
    instants as Int64 UTC seconds and carry ``_idx`` (truth dossier, -1 for extras), ``_unit``
    and ``_status_text`` (a text status that replaces TrangThaiHoSo, else null)."""
    latest = gen.latest_stage(now_s)
    visible = np.nonzero(latest >= 0)[0]
    n_vis = len(visible)
    codes = gen.full["MaHoSo"]
    parts: list[pl.DataFrame] = []

    # Older versions of a share of dossiers.
    n_versions = ((gen.times >= 0) & ((gen.times < now_s) if now_s is not None else True)).sum(axis=1)
    reappear = _pick(_rng(seed, "reappear"), visible[n_versions[visible] > 1], dirt.reappear, n_vis)
    d_old, s_old = np.nonzero((gen.times[reappear] >= 0) & (np.arange(gen.times.shape[1]) < latest[reappear, None]))
    d_old = reappear[d_old]
    rows = gen.rows(np.concatenate([visible, d_old]), np.concatenate([latest[visible], s_old]))
    parts.append(_entries("reappear", codes.gather(reappear), pl.Series(n_versions[reappear] - 1)))

    # Unit names spelt differently, MaDVHC null (resolve from the name).
    variant_units = [i for i, u in enumerate(gen.units) if u.variants]
    unit_of = gen.full["_unit"].to_numpy()
    rng = _rng(seed, "unit_variants")
    chosen = _pick(rng, visible[np.isin(unit_of[visible], variant_units)], dirt.unit_variants, n_vis)
    names = np.array([gen.units[unit_of[i]].variants[rng.integers(0, len(gen.units[unit_of[i]].variants))]
                      for i in chosen], dtype=object)
    variant_map = pl.DataFrame({"_idx": chosen.astype(np.int64), "_variant": pl.Series(names.tolist(), dtype=pl.String)})
    rows = rows.join(variant_map, on="_idx", how="left", maintain_order="left").with_columns(
        TenDonVi=pl.coalesce("_variant", "TenDonVi"),
        MaDVHC=pl.when(pl.col("_variant").is_not_null()).then(None).otherwise(pl.col("MaDVHC")),
    ).drop("_variant")
    parts.append(_entries("unit_variants", codes.gather(chosen), _count(rows, chosen)))

    # Decomposed Unicode.
    chosen = _pick(_rng(seed, "nfd"), visible, dirt.nfd, n_vis)
    at = np.nonzero(np.isin(rows["_idx"].to_numpy(), chosen))[0]
    rows = rows.with_columns([rows[c].scatter(at, rows[c].gather(at).str.normalize("NFD")) for c in TEXT_FIELDS])
    parts.append(_entries("nfd", codes.gather(chosen), _count(rows, chosen)))

    # Missing due dates, on dossiers closed on time (the vendor counts them on time anyway).
    final = gen.full.select("TrangThaiHoSo", "_late")
    on_time = (final["TrangThaiHoSo"].is_in([7, 9, 10]) & ~final["_late"]).to_numpy()
    missing_due = _pick(_rng(seed, "missing_due"), visible[on_time[visible]], dirt.missing_due, n_vis)
    hit = pl.col("_idx").is_in(pl.Series(missing_due, dtype=pl.Int64).implode())
    rows = rows.with_columns(NgayHenTra=pl.when(hit).then(None).otherwise(pl.col("NgayHenTra")))
    parts.append(_entries("missing_due", codes.gather(missing_due), _count(rows, missing_due)))

    rows = rows.with_columns(_status_text=pl.lit(None, dtype=pl.String))
    state = _system_state(gen, visible, latest, missing_due)

    # Exact duplicates of some items.
    rng = _rng(seed, "duplicates")
    dup_rows = _pick(rng, np.arange(rows.height), dirt.duplicates, rows.height)
    dups = rows.select(pl.all().gather(pl.Series(dup_rows, dtype=pl.Int64)))
    dup_codes = dups.group_by("MaHoSo").len()
    parts.append(_entries("duplicates", dup_codes["MaHoSo"], dup_codes["len"]))

    extras = _extras(gen, dirt, seed, now_s)
    for kind in EXTRA_KINDS:
        parts.append(_entries(kind, extras.filter(pl.col("_kind") == kind)["MaHoSo"]))
    items = pl.concat([rows, dups, extras.drop("_kind")], how="vertical_relaxed")
    items = items.sort(["NgayCapNhat", "_key"], maintain_order=True)  # = by NgayCapNhat, MaHoSo
    return items, state, Manifest(pl.concat(parts).sort("kind", "MaHoSo"))


def _count(rows: pl.DataFrame, chosen: np.ndarray) -> pl.Series:
    """Items per chosen dossier, in the order of ``chosen``."""
    counts = rows.filter(pl.col("_idx").is_in(pl.Series(chosen, dtype=pl.Int64).implode())).group_by("_idx").len()
    order = pl.DataFrame({"_idx": chosen.astype(np.int64)})
    return order.join(counts, on="_idx", how="left", maintain_order="left")["len"].fill_null(0)


def _system_state(gen: Generated, visible: np.ndarray, latest: np.ndarray, missing_due: np.ndarray) -> pl.DataFrame:
    """What the vendor's database holds now: newest visible versions, due dates missing where
    the dirt says so. The vendor's own report is computed from this."""
    state = gen.rows(visible, latest[visible])
    hit = pl.col("_idx").is_in(pl.Series(missing_due, dtype=pl.Int64).implode())
    return state.with_columns(NgayHenTra=pl.when(hit).then(None).otherwise(pl.col("NgayHenTra")))


def _extras(gen: Generated, dirt: DirtOptions, seed: int, now_s: int | None) -> pl.DataFrame:
    """Extra untrustable dossiers, cloned from closed truth dossiers and then broken."""
    counts = {"finish_before_reception": dirt.finish_before_reception, "unknown_units": dirt.unknown_units,
              "unknown_status": dirt.unknown_status}
    final = gen.full
    templates = np.nonzero((final["TrangThaiHoSo"] == 10).to_numpy())[0]
    frames = []
    serial = 0
    for kind, k in counts.items():
        if k <= 0 or len(templates) == 0:
            continue
        rng = _rng(seed, kind)
        pick = rng.choice(templates, k, replace=len(templates) < k)
        f = final.select(pl.all().gather(pl.Series(pick, dtype=pl.Int64))).with_columns(
            _idx=pl.lit(-1, dtype=pl.Int64), _kind=pl.lit(kind), _status_text=pl.lit(None, dtype=pl.String),
            _serial=pl.Series(np.arange(serial, serial + k), dtype=pl.Int64))
        serial += k
        if kind == "finish_before_reception":
            back = pl.Series(rng.integers(1, 21, k) * 86400, dtype=pl.Int64)
            f = f.with_columns(NgayKetThucXuLy=pl.col("NgayTiepNhan") - back).with_columns(
                NgayTra=pl.col("NgayKetThucXuLy") + 7200, DanhGia=pl.lit(None, dtype=pl.String),
                NgayCapNhat=pl.col("NgayTiepNhan") + 3600)
        elif kind == "unknown_units":
            which = rng.integers(0, len(UNKNOWN_UNITS), k)
            f = f.with_columns(
                TenDonVi=pl.Series([UNKNOWN_UNITS[i][0] for i in which], dtype=pl.String),
                MaDonVi=pl.Series([UNKNOWN_UNITS[i][1] for i in which], dtype=pl.String),
                MaDVHC=pl.lit(None, dtype=pl.String), _unit=pl.lit(-1, dtype=pl.Int32))
        else:
            values = [UNKNOWN_STATUSES[i % len(UNKNOWN_STATUSES)] for i in range(k)]
            f = f.with_columns(
                TrangThaiHoSo=pl.Series([v if isinstance(v, int) else None for v in values], dtype=pl.Int64),
                _status_text=pl.Series([v if isinstance(v, str) else None for v in values], dtype=pl.String))
        frames.append(f)
    if not frames:
        return pl.DataFrame(schema={**gen.full.schema, "_idx": pl.Int64, "_status_text": pl.String, "_kind": pl.String})
    extras = pl.concat(frames)
    # New codes: same unit and reception day, sequence 9000 + serial (never used by the truth).
    day = ((extras["NgayTiepNhan"].to_numpy() + 7 * 3600) // 86400).astype(np.int64)
    seq = extras["_serial"].to_numpy() + 9000
    extras = extras.with_columns(MaHoSo=format_codes(extras["MaDonVi"], day, seq),
                                 _key=pl.Series(code_key(extras["MaDonVi"], day, seq, gen.units), dtype=pl.Int64)).drop("_serial")
    clash = extras.filter(pl.col("MaHoSo").is_in(gen.full["MaHoSo"].implode()))
    if clash.height:
        raise ValueError(f"extra dossier codes collide with the truth: {clash['MaHoSo'].to_list()[:3]}")
    if now_s is not None:
        extras = extras.filter(pl.col("NgayCapNhat") < now_s)
    return extras.select([*gen.full.columns, "_idx", "_status_text", "_kind"])
