"""The deterministic generator: a seed gives the same dossiers, versions and figures every time.

``generate(options)`` returns a ``Generated``: one row per dossier with its final values, plus
the instants and statuses of every version (received → processing → finished → returned →
rated). Everything is vectorised (numpy + polars): a million dossiers take a few seconds.

Scenario ``krongpa-2021-2022`` is calibrated by construction, not by luck: the dossiers are
drawn in blocks whose sizes are the published figures (docs/figures.md §1), so the vendor's form 06
for 2021-01-01..2022-12-31 gives exactly c3 87,221, c4 1,019, c5 86,088, c6 114, c7 87,221,
c8+c9 85,928, c10 1,293, c11 0. Around them sit dossiers that form 06 must leave out: December
2020 dossiers finished in 2020, status 1 (never accepted) and status 3 (refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from simulator import calendar as cal_
from simulator import people, timeline
from simulator.blocks import KIND_CODES, krongpa_blocks, proc_arrays, procs, scale_blocks
from simulator.catalog import FIELD_CODES, FIELDS
from simulator.options import REFORM_SCENARIO, SimOptions
from simulator.units import (
    KRONGPA_NEW_UNITS,
    KRONGPA_UNITS,
    RECEIVES_AFTER_REFORM,
    REFORM_DAY,
    UNKNOWN_UNITS,
    Unit,
    scale_units,
)

# Version stages: columns of Generated.times / .statuses.
SUB, RECV, PROC, SUPP, FIN, RET, RATE = range(7)
STAGES = 7
RATINGS = ("RatHaiLong", "HaiLong", "KhongHaiLong")

# The published figures (docs/figures.md §1) the krongpa scenario reproduces.
KRONGPA_FIGURES = {"c3": 87_221, "c4": 1_019, "c5": 86_088, "c6": 114, "c7": 87_221,
                   "c8+c9": 85_928, "c10": 1_293, "c11": 0}


# Share of DoanhNghiep / ToChuc applicants by field; the rest are citizens.
_APPLICANT_MIX = {"DD": (0.04, 0.03), "XD": (0.07, 0.03), "TP": (0.0, 0.3), "CT": (0.03, 0.02),
                  "HKD": (0.0, 0.0), "GDDT": (0.0, 0.0)}


@dataclass
class Generated:
    """The truth of one simulated system: final dossier rows and their version history."""

    full: pl.DataFrame  # one row per dossier, final values; instants as Int64 UTC seconds
    times: np.ndarray  # (n, STAGES) instants of each version, -1 where the stage did not happen
    statuses: np.ndarray  # (n, STAGES) TrangThaiHoSo of each version
    units: tuple[Unit, ...]
    period: tuple[date, date]
    figures: dict[str, int] | None  # published figures the scenario is calibrated to

    def latest_stage(self, now_s: int | None) -> np.ndarray:
        """Per dossier, the newest stage visible before ``now_s`` (-1: nothing yet)."""
        visible = self.times >= 0
        if now_s is not None:
            visible &= self.times < now_s
        idx = np.where(visible, np.arange(STAGES), -1)
        return idx.max(axis=1)

    def rows(self, dossier: np.ndarray, stage: np.ndarray) -> pl.DataFrame:
        """The dossier records as they looked at the given stages (one row per pair), with the
        dossier's index in ``_idx``."""
        g = self.full.select(pl.all().gather(pl.Series(dossier, dtype=pl.Int64)))
        st = pl.Series(stage, dtype=pl.Int8)
        g = g.with_columns(
            pl.Series("TrangThaiHoSo", self.statuses[dossier, stage], dtype=pl.Int64),
            pl.Series("NgayCapNhat", self.times[dossier, stage], dtype=pl.Int64),
            _stage=st,
            _idx=pl.Series(dossier, dtype=pl.Int64),
        )

        def from_stage(col: str, s: int, otherwise: object = None) -> pl.Expr:
            return pl.when(pl.col("_stage") >= s).then(pl.col(col)).otherwise(pl.lit(otherwise)).alias(col)

        return g.with_columns(
            from_stage("NgayTiepNhan", RECV), from_stage("NgayHenTra", RECV),
            from_stage("TrangThaiSoHoa", RECV, 0), from_stage("ThanhToanTrucTuyen", RECV, False),
            from_stage("NgayKetThucXuLy", FIN), from_stage("KetQuaDienTu", FIN, False),
            from_stage("NgayTra", RET), from_stage("DanhGia", RATE),
        ).with_columns(pl.col("TrangThaiSoHoa").cast(pl.Int64)).drop("_stage")


SHARD_MAX = 1_000_000  # scale scenario: dossiers generated (and exported) in one go at most


@dataclass(frozen=True)
class Shard:
    """A part of the scale scenario generated on its own: a group of units (global indices) and
    its dossiers. Unit-days never span shards, so dossier codes never collide."""

    index: int
    units: tuple[int, ...]
    dossiers: int


def shards(options: SimOptions) -> list[Shard]:
    """How the scenario is cut: krongpa is one piece; scale is one piece up to SHARD_MAX
    dossiers, else contiguous unit groups sized by their units' weights."""
    if options.scenario != "scale":
        return [Shard(0, tuple(range(len(KRONGPA_UNITS))), 0)]
    units = scale_units(options.units)
    groups = [g for g in np.array_split(np.arange(len(units)), max(1, min(len(units), -(-options.dossiers // SHARD_MAX))))]
    w = np.array([sum(units[i].weight for i in g) for g in groups])
    n = np.floor(options.dossiers * w / w.sum()).astype(np.int64)
    n[: options.dossiers - int(n.sum())] += 1
    return [Shard(i, tuple(int(u) for u in g), int(k)) for i, (g, k) in enumerate(zip(groups, n, strict=True))]


def generate(options: SimOptions, shard: Shard | None = None) -> Generated:
    """Generate the truth for a scenario, or one shard of it (deterministic in ``options.seed``).
    Without ``shard``, the scale scenario is every shard, concatenated."""
    if options.scenario == "krongpa-2021-2022":
        rng = np.random.default_rng([options.seed, 0])
        return _assemble(rng, KRONGPA_UNITS, krongpa_blocks(rng, KRONGPA_UNITS), (date(2021, 1, 1), date(2022, 12, 31)),
                         KRONGPA_FIGURES)
    if options.scenario == REFORM_SCENARIO:
        return _across_reform(options)
    if shard is None:
        return combine([generate(options, s) for s in shards(options)])
    units = scale_units(options.units)
    first, last = options.start_year, options.start_year + options.years - 1
    rng = np.random.default_rng([options.seed, 0] + ([shard.index] if shard.index else []))
    blocks = scale_blocks(rng, units, np.array(shard.units), shard.dossiers, first, last)
    return _assemble(rng, units, blocks, (date(first, 1, 1), date(last, 12, 31)), None)


def _across_reform(options: SimOptions) -> Generated:
    """Krông Pa 2024-2026: the old units receive until 30 June 2025, the new communes from
    1 July 2025 (codes reused, new MaDonVi); a dossier keeps the unit that received it, so those
    received before and still open after the reform stay with the old unit."""
    units = KRONGPA_UNITS + KRONGPA_NEW_UNITS
    rng = np.random.default_rng([options.seed, 0])
    blocks = scale_blocks(rng, units, np.arange(len(KRONGPA_UNITS)), options.dossiers, 2024, 2026)
    new_index = {u.code: len(KRONGPA_UNITS) + i for i, u in enumerate(KRONGPA_NEW_UNITS)}
    after = np.array([new_index[RECEIVES_AFTER_REFORM[u.code]] for u in KRONGPA_UNITS])
    reform_day = cal_.day_of(REFORM_DAY.isoformat())
    for b in blocks:
        day = cal_.local_day(np.where(b["t_recv"] >= 0, b["t_recv"], b["t_sub"]))
        b["unit"] = np.where(day >= reform_day, after[b["unit"]], b["unit"])
    return _assemble(rng, units, blocks, (date(2024, 1, 1), date(2026, 12, 31)), None)


def combine(parts: list[Generated]) -> Generated:
    """Shards side by side: one truth (dossier indices follow the order of the parts)."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return Generated(pl.concat([p.full for p in parts]), np.vstack([p.times for p in parts]),
                     np.vstack([p.statuses for p in parts]), first.units, first.period, first.figures)


def _assemble(rng: np.random.Generator, units: tuple[Unit, ...], blocks: list[dict[str, np.ndarray]],
              period: tuple[date, date], figures: dict[str, int] | None) -> Generated:
    def cat(key: str) -> np.ndarray:
        return np.concatenate([b[key] for b in blocks])

    unit, proc, channel, kind = cat("unit"), cat("proc"), cat("channel"), cat("kind")
    t_sub, t_recv, t_due, t_fin = cat("t_sub"), cat("t_recv"), cat("t_due"), cat("t_fin")
    late, withdrawn = cat("late"), cat("withdrawn")
    n = len(unit)
    cal = cal_.business_calendar(period[0].year - 1, period[1].year + 1)
    limit = cal_.instant(np.array([cal_.day_of(f"{period[1].year + 1}-01-01")]), np.array([0]))[0]
    if figures is None:
        limit = cal_.instant(np.array([cal_.day_of(period[1].isoformat()) + 90]), np.array([0]))[0]
    pa = proc_arrays()
    resolved = t_fin >= 0
    online = channel == 2

    t_ret = timeline.returns(rng, cal, t_fin, resolved & ~withdrawn & (rng.random(n) < 0.97), limit)
    t_rate, rating = timeline.ratings(rng, t_ret, np.where(online, 0.45, 0.22), limit)
    t_proc, t_supp = timeline.progress(rng, np.maximum(t_recv, 0), t_fin)

    times = np.full((n, STAGES), -1, dtype=np.int64)
    statuses = np.zeros((n, STAGES), dtype=np.int64)
    times[:, SUB] = np.where(online & ((t_recv < 0) | (t_recv > t_sub)), t_sub, -1)
    statuses[:, SUB] = 1
    times[:, RECV] = t_recv
    statuses[:, RECV] = np.where(kind == KIND_CODES["refused"], 3, 2)
    times[:, PROC], statuses[:, PROC] = t_proc, 4
    times[:, SUPP], statuses[:, SUPP] = t_supp, 5
    times[:, FIN], statuses[:, FIN] = t_fin, np.where(withdrawn, 7, 9)
    times[:, RET], statuses[:, RET] = t_ret, 10
    times[:, RATE], statuses[:, RATE] = t_rate, 10
    _check_monotonic(times)

    last = np.where(times >= 0, np.arange(STAGES), -1).max(axis=1)
    final_status = statuses[np.arange(n), last]
    year = (cal_.as_dates(cal_.local_day(np.maximum(t_recv, t_sub))).astype("datetime64[Y]").astype(np.int64) + 1970)
    late_era = year >= 2022
    digit = np.where(late_era, rng.choice(4, n, p=[0.45, 0.40, 0.08, 0.07]), rng.choice(4, n, p=[0.80, 0.15, 0.03, 0.02]))
    digit = np.where(t_recv >= 0, digit, 0)
    e_result = resolved & ~withdrawn & (rng.random(n) < np.where(late_era, 0.30, 0.08))
    e_pay = (t_recv >= 0) & (rng.random(n) < np.where(online, 0.25, 0.003))

    mix = np.array([_APPLICANT_MIX.get(f, (0.0, 0.0)) for f in pa["field"]])[proc]
    u = rng.random(n)
    applicant_kind = np.where(u < mix[:, 0], 1, np.where(u < mix[:, 0] + mix[:, 1], 2, 0))
    applicant = people.applicants(rng, applicant_kind)

    code_day = cal_.local_day(np.where(t_recv >= 0, t_recv, t_sub))
    code, code_key = _dossier_codes(units, unit, code_day, np.where(t_recv >= 0, t_recv, t_sub))

    catalog = procs()
    full = pl.DataFrame({
        "MaHoSo": code,
        "MaTTHC": pl.Series([p.code for p in catalog]).gather(proc),
        "TenTTHC": pl.Series([p.name for p in catalog]).gather(proc),
        "MaLinhVuc": pl.Series([FIELD_CODES[p.field] for p in catalog]).gather(proc),
        "TenLinhVuc": pl.Series([FIELDS[p.field] for p in catalog]).gather(proc),
        "MucDo": pl.Series([str(p.level) for p in catalog]).gather(proc),
        "MaDonVi": pl.Series([x.unit_id for x in units]).gather(unit),
        "TenDonVi": pl.Series([x.name for x in units]).gather(unit),
        "MaDVHC": pl.Series([x.code for x in units]).gather(unit),
        "KenhThucHien": pl.Series(channel, dtype=pl.Int64).cast(pl.String),
        "LoaiDoiTuong": pl.Series(people.APPLICANT_TYPES).gather(applicant_kind),
        "ChuHoSo": applicant["ChuHoSo"],
        "SoGiayTo": applicant["SoGiayTo"],
        "SoDienThoai": applicant["SoDienThoai"],
        "NgayNopHoSo": _instants(t_sub),
        "NgayTiepNhan": _instants(t_recv),
        "NgayHenTra": _instants(t_due),
        "NgayKetThucXuLy": _instants(t_fin),
        "NgayTra": _instants(t_ret),
        "TrangThaiHoSo": pl.Series(final_status, dtype=pl.Int64),
        "TrangThaiSoHoa": pl.Series(digit, dtype=pl.Int64),
        "KetQuaDienTu": pl.Series(e_result),
        "ThanhToanTrucTuyen": pl.Series(e_pay),
        "DanhGia": _nullable(pl.Series(RATINGS).gather(np.maximum(rating, 0)), rating < 0),
        "NgayCapNhat": pl.Series(times[np.arange(n), last], dtype=pl.Int64),
        "_unit": pl.Series(unit, dtype=pl.Int32),
        "_late": pl.Series(late),
        "_key": pl.Series(code_key, dtype=pl.Int64),
    })
    return Generated(full, times, statuses, units, period, figures)


def _nullable(series: pl.Series, missing: np.ndarray) -> pl.Series:
    return pl.select(pl.when(pl.lit(pl.Series(missing))).then(None).otherwise(pl.lit(series))).to_series().alias(series.name)


def _instants(a: np.ndarray) -> pl.Series:
    """Int64 seconds, null where the array says -1."""
    return _nullable(pl.Series(a, dtype=pl.Int64), a < 0)


def _dossier_codes(units: tuple[Unit, ...], unit: np.ndarray, day: np.ndarray,
                   t: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """MaHoSo = {MaDonVi}-{yyMMdd}-{daily sequence per unit, from 0001 in order of reception},
    and an integer key that sorts like the code (see ``code_key``)."""
    d0 = int(day.min())
    key = (unit.astype(np.int64) << 40) | ((day - d0) << 20) | ((t - (day * 86400 - 7 * 3600)) // 60)
    order = np.argsort(key, kind="stable")
    group = key[order] >> 20
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = group[1:] != group[:-1]
    starts = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = np.arange(len(order)) - starts + 1
    ids = pl.Series([x.unit_id for x in units]).gather(unit)
    return format_codes(ids, day, seq), code_key(ids, day, seq, units)


def format_codes(unit_ids: pl.Series, day: np.ndarray, seq: np.ndarray) -> pl.Series:
    """``{unit id}-{yyMMdd of the local day}-{sequence, at least 4 digits}``."""
    days, inv = np.unique(day, return_inverse=True)
    labels = pl.select(pl.from_epoch(pl.Series(days * 86400, dtype=pl.Int64), time_unit="s")
                       .dt.strftime("%y%m%d")).to_series()
    frame = pl.DataFrame({"u": unit_ids, "d": labels.gather(inv),
                          "s": pl.Series(seq, dtype=pl.Int64).cast(pl.String).str.zfill(4)})
    return frame.select(pl.concat_str("u", pl.lit("-"), "d", pl.lit("-"), "s").alias("MaHoSo")).to_series()


def code_key(unit_ids: pl.Series, day: np.ndarray, seq: np.ndarray, units: tuple[Unit, ...]) -> np.ndarray:
    """An Int64 that orders dossier codes exactly as their strings do (polars sorts a million
    strings ten times slower than integers). Unit ids rank as strings; yyMMdd orders like the day
    (2000–2099); the sequence text ranks as its digits padded right (``"10000"`` < ``"9999"``)."""
    uniq = sorted({u.unit_id for u in units} | {i for _, i in UNKNOWN_UNITS} | set(unit_ids.unique().to_list()))
    if len(uniq) > 2**20:
        raise ValueError("too many unit ids for the code key")
    rank = unit_ids.replace_strict(uniq, list(range(len(uniq))), return_dtype=pl.Int64).to_numpy()
    text_len = np.maximum(4, np.floor(np.log10(np.maximum(seq, 1))).astype(np.int64) + 1)
    seq_key = seq * 10 ** (7 - text_len) * 8 + text_len
    return (rank << 43) | ((day - 10957) << 27) | seq_key


def _check_monotonic(times: np.ndarray) -> None:
    """Versions of a dossier must be strictly ordered in time (at least a minute apart)."""
    masked = np.where(times >= 0, times, np.iinfo(np.int64).min // 2)
    prev = np.maximum.accumulate(masked, axis=1)
    bad = (times[:, 1:] >= 0) & (times[:, 1:] < prev[:, :-1] + 60)
    if bad.any():
        rows = np.nonzero(bad.any(axis=1))[0][:5]
        raise AssertionError(f"non-monotonic versions for dossiers {rows.tolist()}: {times[rows].tolist()}")
