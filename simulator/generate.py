"""The deterministic generator: a seed gives the same dossiers, versions and figures every time.

``generate(options)`` returns a ``Generated``: one row per dossier with its final values, plus
the instants and statuses of every version (received → processing → finished → returned →
rated). Everything is vectorised (numpy + polars): a million dossiers take a few seconds.

Scenario ``krongpa-2021-2022`` is calibrated by construction, not by luck: the dossiers are
drawn in blocks whose sizes are the published figures (domain.md §1), so the vendor's form 06
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
from simulator.catalog import COMMUNE, DISTRICT, FIELD_CODES, FIELDS, Procedure
from simulator.options import SimOptions
from simulator.units import KRONGPA_UNITS, UNKNOWN_UNITS, Unit, scale_units

# Version stages: columns of Generated.times / .statuses.
SUB, RECV, PROC, SUPP, FIN, RET, RATE = range(7)
STAGES = 7
RATINGS = ("RatHaiLong", "HaiLong", "KhongHaiLong")

# The published figures (domain.md §1) the krongpa scenario reproduces.
KRONGPA_FIGURES = {"c3": 87_221, "c4": 1_019, "c5": 86_088, "c6": 114, "c7": 87_221,
                   "c8+c9": 85_928, "c10": 1_293, "c11": 0}
_KRONGPA = dict(online=1_019, counter_postal=86_088, carried=114, late=1_293, carried_late=11,
                withdrawn=380, submitted=168, refused=137, boundary_trap=6)

_KIND_CODES = {"period": 0, "carried": 1, "before": 2, "submitted": 3, "refused": 4}

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
        return _assemble(rng, KRONGPA_UNITS, _krongpa(rng, KRONGPA_UNITS), (date(2021, 1, 1), date(2022, 12, 31)),
                         KRONGPA_FIGURES)
    if shard is None:
        return combine([generate(options, s) for s in shards(options)])
    units = scale_units(options.units)
    first, last = options.start_year, options.start_year + options.years - 1
    rng = np.random.default_rng([options.seed, 0] + ([shard.index] if shard.index else []))
    blocks = _scale(rng, units, np.array(shard.units), shard.dossiers, first, last)
    return _assemble(rng, units, blocks, (date(first, 1, 1), date(last, 12, 31)), None)


def combine(parts: list[Generated]) -> Generated:
    """Shards side by side: one truth (dossier indices follow the order of the parts)."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return Generated(pl.concat([p.full for p in parts]), np.vstack([p.times for p in parts]),
                     np.vstack([p.statuses for p in parts]), first.units, first.period, first.figures)


# --- drawing blocks of dossiers ------------------------------------------------------------

def _procs() -> tuple[Procedure, ...]:
    return DISTRICT + COMMUNE


def _proc_arrays() -> dict[str, np.ndarray]:
    procs = _procs()
    return {
        "level": np.array([p.level for p in procs]),
        "days": np.array([p.days for p in procs]),
        "weight": np.array([p.weight for p in procs], dtype=float),
        "district": np.array([i < len(DISTRICT) for i in range(len(procs))]),
        "field": np.array([p.field for p in procs]),
    }


def _pick_units(rng: np.random.Generator, units: tuple[Unit, ...], n: int, online: bool,
                subset: np.ndarray | None = None) -> np.ndarray:
    """Receiving units (global indices), drawn from ``subset`` (default: all) by volume."""
    subset = np.arange(len(units)) if subset is None else subset
    w = np.array([units[i].online_weight if online else units[i].weight for i in subset], dtype=float)
    return subset[rng.choice(len(subset), n, p=w / w.sum())]


def _pick_procs(rng: np.random.Generator, units: tuple[Unit, ...], unit: np.ndarray, *, online: bool = False,
                min_days: int = 0, level4_only: bool = False) -> np.ndarray:
    """A procedure of the unit's level of government; online only for levels 3–4."""
    pa = _proc_arrays()
    is_district = np.array([u.level == "district" for u in units])[unit]
    out = np.empty(len(unit), dtype=np.int64)
    for district in (True, False):
        mask = is_district == district
        w = pa["weight"] * (pa["district"] == district) * (pa["days"] >= min_days)
        if online:
            w = w * (pa["level"] >= 3) * np.where(pa["level"] == 4, 3.0, 1.0)
        if level4_only:
            w = w * (pa["level"] == 4)
        out[mask] = rng.choice(len(w), int(mask.sum()), p=w / w.sum())
    return out


def _block(unit: np.ndarray, proc: np.ndarray, channel: np.ndarray | int, t_sub: np.ndarray,
           t_recv: np.ndarray, kind: str, fin_lo: int, fin_hi: int) -> dict[str, np.ndarray]:
    """One group of dossiers drawn alike. ``kind``: period (received in the period), carried
    (received before it, finished in it), before (received and finished before it), submitted
    (status 1), refused (status 3). Finishes fall in [fin_lo, fin_hi]."""
    n = len(unit)
    return {"name": kind, "unit": unit, "proc": proc, "channel": np.broadcast_to(np.asarray(channel), (n,)).astype(np.int64),
            "t_sub": t_sub, "t_recv": t_recv, "kind": np.full(n, _KIND_CODES[kind], dtype=np.int8),
            "fin_lo": np.full(n, fin_lo, dtype=np.int64), "fin_hi": np.full(n, fin_hi, dtype=np.int64)}


def _online(rng: np.random.Generator, cal: cal_.WorkCalendar, units: tuple[Unit, ...], n: int,
            first: int, last: int, subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    unit = _pick_units(rng, units, n, True, subset)
    proc = _pick_procs(rng, units, unit, online=True)
    t_sub = timeline.online_submissions(rng, n, first, last)
    auto = (_proc_arrays()["level"][proc] == 4) & (rng.random(n) < 0.5)
    return unit, proc, t_sub, timeline.online_receptions(rng, cal, t_sub, auto)


def _counter(rng: np.random.Generator, cal: cal_.WorkCalendar, units: tuple[Unit, ...], n: int,
             first: int, last: int, subset: np.ndarray | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counter and postal receptions; postal mostly for district land and business dossiers."""
    unit = _pick_units(rng, units, n, False, subset)
    proc = _pick_procs(rng, units, unit)
    pa = _proc_arrays()
    by_post = pa["district"] & np.isin(pa["field"], ["DD", "HKD"])  # per procedure
    postal = by_post[proc] & (rng.random(n) < 0.06)
    t_recv = timeline.counter_receptions(rng, cal, n, first, last)
    posted = cal_.instant(cal_.local_day(t_recv) - rng.integers(1, 5, n), cal_.office_minutes(rng, n))
    return unit, proc, np.where(postal, 3, 1), np.where(postal, posted, t_recv), t_recv


def _krongpa(rng: np.random.Generator, units: tuple[Unit, ...]) -> list[dict[str, np.ndarray]]:
    k = _KRONGPA
    cal = cal_.business_calendar(2020, 2023)
    d = cal_.day_of
    p_from, p_to, last_bday = d("2021-01-01"), d("2022-12-31"), d("2022-12-30")
    dec1 = d("2020-12-01")

    # In the period, online. The first few are the UTC trap: accepted automatically on
    # 1 January 2021 before 07:00 local, which is still 31 December 2020 in UTC.
    unit, proc, t_sub, t_recv = _online(rng, cal, units, k["online"], p_from, d("2022-12-27"))
    trap = np.arange(k["boundary_trap"])
    proc[trap] = _pick_procs(rng, units, unit[trap], online=True, level4_only=True)
    t_sub[trap] = cal_.instant(np.full(len(trap), p_from), rng.integers(5 * 60, 6 * 60 + 50, len(trap)))
    t_recv[trap] = t_sub[trap] + 2 * 60
    online = _block(unit, proc, 2, t_sub, t_recv, "period", p_from, last_bday)

    # In the period, over the counter or by post.
    unit, proc, channel, t_sub, t_recv = _counter(rng, cal, units, k["counter_postal"], p_from, last_bday)
    counter = _block(unit, proc, channel, t_sub, t_recv, "period", p_from, last_bday)

    # Carried over: received in December 2020 with a due date in 2021, finished in 2021.
    unit = _pick_units(rng, units, k["carried"], online=False)
    proc = _pick_procs(rng, units, unit, min_days=3)
    days = _proc_arrays()["days"][proc]
    recv_day = cal.offset(np.full(len(unit), d("2021-01-04")), -rng.integers(1, days + 1))
    t_recv = cal_.instant(recv_day, cal_.office_minutes(rng, len(unit)))
    carried = _block(unit, proc, 1, t_recv, t_recv, "carried", p_from, last_bday)

    # December 2020, finished in December 2020: outside the period's every column.
    per_day = (k["online"] + k["counter_postal"]) / len(cal.business_days(p_from, p_to))
    n_dec = int(per_day * len(cal.business_days(dec1, d("2020-12-31")))) - k["carried"]
    unit, proc, channel, t_sub, t_recv = _counter(rng, cal, units, n_dec, dec1, d("2020-12-31"))
    december = _block(unit, proc, channel, t_sub, t_recv, "before", dec1, d("2020-12-31"))

    # Never accepted (1) and refused at reception (3): form 06 leaves them out.
    n1 = k["submitted"]
    unit, proc, t_sub, _ = _online(rng, cal, units, n1, p_from, d("2022-12-27"))
    submitted = _block(unit, proc, 2, t_sub, np.full(n1, -1), "submitted", p_from, last_bday)
    n3 = k["refused"]
    unit, proc, t_sub, t_recv = _online(rng, cal, units, n3, p_from, d("2022-12-27"))
    channel = np.where(rng.random(n3) < 0.8, 2, 1)
    t_recv = np.where(channel == 1, timeline.counter_receptions(rng, cal, n3, p_from, last_bday), t_recv)
    t_sub = np.where(channel == 1, t_recv, t_sub)
    refused = _block(unit, proc, channel, t_sub, t_recv, "refused", p_from, last_bday)

    blocks = [online, counter, carried, december, submitted, refused]
    _plan_outcomes(rng, cal, units, blocks, late_total=k["late"], carried_late=k["carried_late"],
                   withdrawn=k["withdrawn"], late_due_max=d("2022-12-29"))
    return blocks


def _scale(rng: np.random.Generator, units: tuple[Unit, ...], subset: np.ndarray, n: int, first_year: int,
           last_year: int) -> list[dict[str, np.ndarray]]:
    """An uncalibrated system of any size: same shapes and rules, proportions instead of counts.
    Dossiers are drawn for the units in ``subset`` only (one shard)."""
    cal = cal_.business_calendar(first_year - 1, last_year + 1)
    first, last = cal_.day_of(f"{first_year}-01-01"), cal_.day_of(f"{last_year}-12-31")
    fin_hi = last + 60
    n1, n3 = max(1, int(n * 0.002)), max(1, int(n * 0.0015))
    n_online = int(n * 0.04)
    n_counter = max(0, n - n1 - n3 - n_online)
    unit, proc, t_sub, t_recv = _online(rng, cal, units, n_online, first, last - 5, subset)
    online = _block(unit, proc, 2, t_sub, t_recv, "period", first, fin_hi)
    unit, proc, channel, t_sub, t_recv = _counter(rng, cal, units, n_counter, first, last, subset)
    counter = _block(unit, proc, channel, t_sub, t_recv, "period", first, fin_hi)
    unit, proc, t_sub, _ = _online(rng, cal, units, n1, first, last - 5, subset)
    submitted = _block(unit, proc, 2, t_sub, np.full(n1, -1), "submitted", first, fin_hi)
    unit, proc, t_sub, t_recv = _online(rng, cal, units, n3, first, last - 5, subset)
    refused = _block(unit, proc, 2, t_sub, t_recv, "refused", first, fin_hi)
    blocks = [online, counter, submitted, refused]
    accepted = n_online + n_counter
    _plan_outcomes(rng, cal, units, blocks, late_total=int(accepted * 0.02), carried_late=0,
                   withdrawn=int(accepted * 0.004), late_due_max=fin_hi - 3)
    return blocks


def _plan_outcomes(rng: np.random.Generator, cal: cal_.WorkCalendar, units: tuple[Unit, ...],
                   blocks: list[dict[str, np.ndarray]], *, late_total: int, carried_late: int,
                   withdrawn: int, late_due_max: int) -> None:
    """Due dates, which dossiers end late or withdrawn (exact counts), and finish instants."""
    pa = _proc_arrays()
    midnight_units = np.array([u.due_midnight for u in units])
    for b in blocks:
        n = len(b["unit"])
        accepted = np.full(n, b["name"] in ("period", "carried", "before"))
        b["t_any"] = np.where(b["t_recv"] >= 0, b["t_recv"], b["t_sub"])  # a valid instant for every row
        b["due_day"], b["t_due"] = timeline.due_dates(cal, b["t_any"], pa["days"][b["proc"]],
                                                     midnight_units[b["unit"]])
        b["due_day"] = np.where(accepted, b["due_day"], -1)
        b["t_due"] = np.where(accepted, b["t_due"], -1)
        b["late"] = np.zeros(n, dtype=bool)
        b["withdrawn"] = np.zeros(n, dtype=bool)

    for b in blocks:
        if b["name"] == "carried":
            b["late"][rng.choice(len(b["unit"]), carried_late, replace=False)] = True
        elif b["name"] == "before":  # a few late where the due date leaves room before fin_hi
            room = b["due_day"] < b["fin_hi"]
            b["late"] = room & (rng.random(len(room)) < 0.015)

    # Late and withdrawn in the period, exactly: land and long procedures run late more often.
    period = [b for b in blocks if b["name"] == "period"]
    sizes = [len(b["unit"]) for b in period]
    offsets = np.cumsum([0] + sizes)
    due = np.concatenate([b["due_day"] for b in period])
    days = np.concatenate([pa["days"][b["proc"]] for b in period])
    field = np.concatenate([pa["field"][b["proc"]] for b in period])
    w = np.where(days >= 10, 8.0, 1.0) * np.where(field == "DD", 2.0, 1.0) * (due <= late_due_max)
    late_idx = rng.choice(len(w), late_total - carried_late, replace=False, p=w / w.sum())
    late = np.zeros(len(w), dtype=bool)
    late[late_idx] = True
    w2 = ((days >= 1) & ~late).astype(float)
    wd = np.zeros(len(w), dtype=bool)
    wd[rng.choice(len(w2), withdrawn, replace=False, p=w2 / w2.sum())] = True
    for i, b in enumerate(period):
        b["late"] = late[offsets[i]:offsets[i + 1]]
        b["withdrawn"] = wd[offsets[i]:offsets[i + 1]]

    for b in blocks:
        accepted = b["due_day"] >= 0
        due_day = np.where(accepted, b["due_day"], cal_.local_day(b["t_any"]))
        t_fin = timeline.finishes(rng, cal, b["t_any"], due_day, b["late"] & accepted,
                                  b["withdrawn"] & accepted, b["fin_lo"], b["fin_hi"])
        b["t_fin"] = np.where(accepted, t_fin, -1)


# --- from blocks to frames -----------------------------------------------------------------

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
    pa = _proc_arrays()
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
    statuses[:, RECV] = np.where(kind == _KIND_CODES["refused"], 3, 2)
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

    procs = _procs()
    full = pl.DataFrame({
        "MaHoSo": code,
        "MaTTHC": pl.Series([p.code for p in procs]).gather(proc),
        "TenTTHC": pl.Series([p.name for p in procs]).gather(proc),
        "MaLinhVuc": pl.Series([FIELD_CODES[p.field] for p in procs]).gather(proc),
        "TenLinhVuc": pl.Series([FIELDS[p.field] for p in procs]).gather(proc),
        "MucDo": pl.Series([str(p.level) for p in procs]).gather(proc),
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
