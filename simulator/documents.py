"""The e-document system's truth: incoming (DEN) and outgoing (DI) registers of the same bodies
as the one-stop side, deterministic in the seed, vectorised (numpy + polars).

``generate_documents(options, dossiers)`` returns a ``DocGenerated``: one row per document with
its final values and the instants of its versions. Incoming: registered (ChuaXuLy) → assigned
(DangXuLy, DonViXuLy, HanXuLy) → completed (DaXuLy, NgayHoanThanh). Outgoing: registered
(DangXuLy, not yet signed) → signed and issued (DaXuLy, KySo). Nothing happens after the
scenario's last day: documents still open then stay open.

Volumes (krongpa): the district ≈ 3,000 incoming and 2,000 outgoing a year, a commune ≈ 600 and
400 times a size factor (0.8–1.6, from its dossier weight), monthly by a seasonal profile (Tết in
February fewer, December more), Poisson-drawn per body, direction and month. Scale: the
``documents`` knob (default 0.43 × dossiers, the krongpa ratio) split by the same weights.
Random streams are ``[seed, 7000 + k]``: the dossier side's streams are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from simulator import calendar as cal_
from simulator import doc_catalog as dc
from simulator import people
from simulator.generate import FIN, Generated
from simulator.options import SimOptions
from simulator.units import KRONGPA_UNITS, Unit, scale_units

REG, MID, DONE = 0, 1, 2  # version stages (DI has no MID)
STAGES = 3
ANNUAL = {"district": (3000.0, 2000.0), "commune": (600.0, 400.0)}  # (incoming, outgoing) a year
SEASON = np.array([1.0, 0.72, 1.0, 1.0, 0.95, 1.0, 1.0, 0.95, 0.97, 1.0, 1.06, 1.35])
DOCS_PER_DOSSIER = 0.43  # scale scenario default: krongpa's ratio
EXTRA_SEQ = 900_000  # extra (untrustable) documents use sequences and numbers from here up
DIRECTIONS = ("DEN", "DI")


@dataclass
class DocGenerated:
    """One row per document (final values; dates pl.Date; NgayCapNhat Int64 UTC seconds) and
    the instants of its versions (``times``: n × 3, -1 where the stage did not happen)."""

    full: pl.DataFrame
    times: np.ndarray
    units: tuple[Unit, ...]
    period: tuple[date, date]

    def latest_stage(self, now_s: int | None) -> np.ndarray:
        visible = self.times >= 0
        if now_s is not None:
            visible &= self.times < now_s
        return np.where(visible, np.arange(STAGES), -1).max(axis=1)

    def rows(self, doc: np.ndarray, stage: np.ndarray) -> pl.DataFrame:
        """The documents as they looked at the given stages, with ``_idx`` (document index)."""
        g = self.full.select(pl.all().gather(pl.Series(doc, dtype=pl.Int64))).with_columns(
            NgayCapNhat=pl.Series(self.times[doc, stage], dtype=pl.Int64),
            _stage=pl.Series(stage, dtype=pl.Int8), _idx=pl.Series(doc, dtype=pl.Int64))
        den = pl.col("LoaiVanBan") == "DEN"
        st = pl.col("_stage")
        status = (pl.when(st >= DONE).then(pl.lit("DaXuLy")).when(st >= MID).then(pl.lit("DangXuLy"))
                  .when(den).then(pl.lit("ChuaXuLy")).otherwise(pl.lit("DangXuLy")))
        return g.with_columns(
            status.alias("TrangThai"),
            pl.when(st >= MID).then("DonViXuLy").alias("DonViXuLy"),
            pl.when(st >= MID).then("HanXuLy").alias("HanXuLy"),
            pl.when(st >= DONE).then("NgayHoanThanh").alias("NgayHoanThanh"),
            pl.when(den | (st >= DONE)).then("KySo").otherwise(pl.lit(False)).alias("KySo"),
        ).drop("_stage")


def _weights(pairs: tuple, col: int) -> np.ndarray:
    w = np.array([p[col] for p in pairs], dtype=float)
    return w / w.sum()


def _gather(values: tuple | list, idx: np.ndarray) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String).gather(pl.Series(idx, dtype=pl.Int64))


def _cells(options: SimOptions, units: tuple[Unit, ...], rng: np.random.Generator,
           first: int, last: int) -> np.ndarray:
    """Documents per (unit, direction, month): Poisson around the profile (krongpa) or exactly
    the ``documents`` knob split by it (scale)."""
    months = (last - first + 1) * 12
    season = np.tile(SEASON / SEASON.sum(), last - first + 1)
    growth = np.repeat(1.0 + 0.04 * np.arange(last - first + 1), 12)
    base = np.array([ANNUAL[u.level] if u.level in ANNUAL else ANNUAL["commune"] for u in units])
    factor = np.array([1.0 if u.level == "district" else float(np.clip(u.weight / 4.8, 0.8, 1.6)) for u in units])
    mean = (base * factor[:, None])[:, :, None] * (season * growth)[None, None, :]
    if options.scenario != "scale":
        return rng.poisson(mean)
    total = options.documents or int(round(DOCS_PER_DOSSIER * options.dossiers))
    return rng.multinomial(total, (mean / mean.sum()).ravel()).reshape(len(units), 2, months)


def generate_documents(options: SimOptions, dossiers: Generated | None = None) -> DocGenerated:
    """The documents of the scenario (deterministic in ``options.seed``). ``dossiers`` (the
    one-stop truth of the same options) feeds MaHoSoLienKet; None: no links."""
    if options.scenario == "scale":
        units, first, last = scale_units(options.units), options.start_year, options.start_year + options.years - 1
    else:
        units, first, last = KRONGPA_UNITS, 2021, 2022
    period = (date(first, 1, 1), date(last, 12, 31))
    end_day = cal_.day_of(period[1].isoformat())
    cal = cal_.business_calendar(first, last)
    rng = np.random.default_rng([options.seed, 7000])

    counts = _cells(options, units, rng, first, last)
    n_months = counts.shape[2]
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    n = len(cell)
    unit, dirn, month = cell // (2 * n_months), (cell // n_months) % 2, cell % n_months
    den = dirn == 0
    district = np.array([u.level == "district" for u in units])[unit]

    # Day (a working day of its month) and minute of registration.
    m0 = np.datetime64(f"{first}-01", "M") + np.arange(n_months + 1)
    bounds = np.searchsorted(cal.bdays, m0.astype("datetime64[D]").astype(np.int64))
    lo, width = bounds[month], (bounds[1:] - bounds[:-1])[month]
    day = cal.bdays[lo + np.floor(rng.random(n) * width).astype(np.int64)]
    t_reg = cal_.instant(day, rng.integers(7 * 60 + 30, 16 * 60 + 30, n))
    lag = rng.choice(np.array([0, 1, 2, 3, 4, 5, 7, 10]), n, p=[0.30, 0.25, 0.14, 0.10, 0.07, 0.06, 0.05, 0.03])
    issue = np.where(den, day - lag, day)
    year = cal_.as_dates(day).astype("datetime64[Y]").astype(np.int64) + 1970

    # Register numbers: from 1 each calendar year per body and direction, in order of registration.
    order = np.lexsort((t_reg, year, dirn, unit))
    group = (unit.astype(np.int64) * 2 + dirn) * 10_000 + year
    gs = group[order]
    new = np.ones(n, dtype=bool)
    new[1:] = gs[1:] != gs[:-1]
    number = np.empty(n, dtype=np.int64)
    number[order] = np.arange(n) - np.maximum.accumulate(np.where(new, np.arange(n), 0)) + 1

    # Type, notation, sender, summary.
    dtype = np.where(den, rng.choice(len(dc.DOC_TYPES), n, p=_weights(dc.DOC_TYPES, 2)),
                     rng.choice(len(dc.DOC_TYPES), n, p=_weights(dc.DOC_TYPES, 3)))
    type_name = _gather(dc.TYPE_NAMES, dtype)
    abbr = _gather([t[1] for t in dc.DOC_TYPES], dtype)
    s_d = rng.choice(len(dc.SENDERS_DISTRICT), n, p=_weights(dc.SENDERS_DISTRICT, 2))
    s_c = rng.choice(len(dc.SENDERS_COMMUNE), n, p=_weights(dc.SENDERS_COMMUNE, 2))
    sender = pl.select(pl.when(pl.lit(pl.Series(district))).then(_gather([s[0] for s in dc.SENDERS_DISTRICT], s_d))
                       .otherwise(_gather([s[0] for s in dc.SENDERS_COMMUNE], s_c))).to_series()
    sender_code = pl.select(pl.when(pl.lit(pl.Series(district))).then(_gather([s[1] for s in dc.SENDERS_DISTRICT], s_d))
                            .otherwise(_gather([s[1] for s in dc.SENDERS_COMMUNE], s_c))).to_series()
    body_name = _gather([u.name for u in units], unit)
    ext_number = rng.integers(1, 2500, n)
    dept = _gather(dc.CV_DEPTS, rng.integers(0, len(dc.CV_DEPTS), n))

    flat = [(k, p, s) for k, ts in dc.TEMPLATES.items() for p, s in ts]
    start = {k: next(i for i, f in enumerate(flat) if f[0] == k) for k in dc.TEMPLATES}
    t_start = np.array([start.get(t, start[""]) for t in dc.TYPE_NAMES])[dtype]
    t_count = np.array([len(dc.TEMPLATES.get(t, dc.TEMPLATES[""])) for t in dc.TYPE_NAMES])[dtype]
    tmpl = t_start + np.floor(rng.random(n) * t_count).astype(np.int64)
    topic = _gather(dc.TOPICS, rng.integers(0, len(dc.TOPICS), n))
    issue_dates = cal_.as_dates(issue)
    i_year = issue_dates.astype("datetime64[Y]").astype(np.int64) + 1970
    i_month = issue_dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    roman = np.array(["I", "II", "III", "IV"])[(i_month - 1) // 3]
    suffix_kind = np.array([f[2] for f in flat])[tmpl]
    suffix = np.select([suffix_kind == "year", suffix_kind == "quarter", suffix_kind == "month"],
                       [np.char.add(" năm ", i_year.astype(str)),
                        np.char.add(np.char.add(np.char.add(" quý ", roman), "/"), i_year.astype(str)),
                        np.char.add(np.char.add(np.char.add(" tháng ", i_month.astype(str)), "/"), i_year.astype(str))],
                       "")
    summary = pl.select(pl.concat_str(_gather([f[1] for f in flat], tmpl), topic,
                                      pl.Series(suffix.astype(str), dtype=pl.String))).to_series()

    # Secrecy, urgency, transport, signature.
    secrecy = rng.choice(4, n, p=[0.9877, 0.01, 0.002, 0.0003])
    secret = secrecy > 0
    urgency = rng.choice(4, n, p=[0.86, 0.10, 0.03, 0.01])
    frac = (day - cal_.day_of(period[0].isoformat())) / max(1, end_day - cal_.day_of(period[0].isoformat()))
    p_e = np.where(den, 0.68 + 0.17 * frac, 0.58 + 0.24 * frac)
    p_b = np.where(den, 0.12, 0.13)
    u = rng.random(n)
    transport = np.where(u < p_e, 0, np.where(u < p_e + p_b, 2, 1))  # 0 DienTu, 1 Giay, 2 CaHai
    transport = np.where(secret, np.where(rng.random(n) < 0.85, 1, 2), transport)
    p_sig = np.where(transport == 0, np.where(den, 0.97, 0.94), np.where(transport == 2, np.where(den, 0.5, 0.7), 0.0))
    signed = rng.random(n) < p_sig

    # Outgoing signers: three leaders per body (chair, two deputies).
    leaders = people.person_names(rng, 3 * len(units), jrai_share=0.3)
    signer = leaders.gather(pl.Series(unit * 3 + rng.choice(3, n, p=[0.5, 0.3, 0.2]), dtype=pl.Int64))

    # Incoming handling: assignment, deadline, completion.
    assigned = den & (rng.random(n) >= 0.015)
    info = np.isin(dtype, [i for i, t in enumerate(dc.TYPE_NAMES) if t in dc.INFO_TYPES])
    has_due = assigned & (rng.random(n) < np.where(info, 0.3, 0.85))
    k = rng.choice(np.array([3, 5, 7, 10, 15, 20, 30]), n, p=[0.10, 0.25, 0.20, 0.25, 0.10, 0.05, 0.05])
    due = cal.offset(day, k)
    outcome = rng.choice(3, n, p=[0.86, 0.10, 0.04])  # on time, late, never
    on_time_day = cal.offset(day, np.floor(rng.random(n) ** 1.5 * (k + 1)).astype(np.int64))
    late_day = cal.offset(np.minimum(due + 1 + rng.geometric(0.12, n), cal.bdays[-1]), 0)
    free_day = cal.offset(day, np.floor(rng.random(n) ** 2 * 15).astype(np.int64))
    done_day = np.where(has_due, np.where(outcome == 0, on_time_day, late_day), free_day)
    done = assigned & np.where(has_due, outcome < 2, rng.random(n) < 0.9) & (done_day <= end_day)
    dept_d = rng.integers(0, len(dc.DEPTS_DISTRICT), n)
    dept_c = rng.integers(0, len(dc.DEPTS_COMMUNE), n)
    handler = pl.select(pl.when(pl.lit(pl.Series(district))).then(_gather(dc.DEPTS_DISTRICT, dept_d))
                        .otherwise(_gather(dc.DEPTS_COMMUNE, dept_c))).to_series()

    times = np.full((n, STAGES), -1, dtype=np.int64)
    times[:, REG] = t_reg
    t_mid = t_reg + rng.integers(10, 240, n) * 60
    times[:, MID] = np.where(assigned, t_mid, -1)
    t_done = np.maximum(cal_.instant(done_day, rng.integers(7 * 60 + 30, 17 * 60, n)), t_mid + 1800)
    t_sign = t_reg + rng.integers(15, 180, n) * 60
    times[:, DONE] = np.where(den, np.where(done, t_done, -1), t_sign)
    done_day = cal_.local_day(t_done)  # the completion instant's own local day

    links = _result_links(rng, dossiers, unit, t_reg, ~den & ~secret & np.isin(
        dtype, [i for i, t in enumerate(dc.TYPE_NAMES) if t in dc.RESULT_TYPES])
        & (rng.random(n) < np.where(district, 0.08, 0.12)), len(units))

    def dates(a: np.ndarray, keep: np.ndarray) -> pl.Series:
        return pl.Series(np.where(keep, a, 0), dtype=pl.Int32).cast(pl.Date).scatter(np.nonzero(~keep)[0], None)

    mask = pl.Series(secret)
    direction = _gather(DIRECTIONS, dirn)
    full = pl.DataFrame({
        "MaVanBan": pl.select(pl.concat_str(pl.lit("VB-"), _gather([x.code for x in units], unit), pl.lit("-"),
                                            pl.Series(year).cast(pl.String), pl.lit("-"), direction, pl.lit("-"),
                                            pl.Series(number).cast(pl.String).str.zfill(6))).to_series(),
        "LoaiVanBan": direction,
        "MaDonVi": _gather([x.unit_id for x in units], unit),
        "TenDonVi": body_name,
        "MaDVHC": _gather([x.code for x in units], unit),
        "SoDen": pl.Series(np.where(den, number, 0), dtype=pl.Int64).scatter(np.nonzero(~den)[0], None),
        "SoVanBan": pl.Series(np.where(den, 0, number), dtype=pl.Int64).scatter(np.nonzero(den)[0], None),
        "SoKyHieu": pl.select(
            pl.when(pl.lit(pl.Series(den))).then(pl.when(abbr == "").then(pl.concat_str(
                pl.lit(pl.Series(ext_number).cast(pl.String)), pl.lit("/"), sender_code, pl.lit("-"), dept))
                .otherwise(pl.concat_str(pl.lit(pl.Series(ext_number).cast(pl.String)), pl.lit("/"), abbr,
                                         pl.lit("-"), sender_code)))
            .otherwise(pl.when(abbr == "").then(pl.concat_str(pl.lit(pl.Series(number).cast(pl.String)),
                                                              pl.lit("/UBND-"), dept))
                       .otherwise(pl.concat_str(pl.lit(pl.Series(number).cast(pl.String)), pl.lit("/"), abbr,
                                                pl.lit("-UBND"))))).to_series(),
        "TenLoaiVanBan": type_name,
        "NgayBanHanh": dates(issue, np.ones(n, dtype=bool)),
        "NgayDen": dates(day, den),
        "CoQuanBanHanh": pl.select(pl.when(pl.lit(mask)).then(pl.lit("")).when(pl.lit(pl.Series(den))).then(sender)
                                   .otherwise(body_name)).to_series(),
        "TrichYeu": pl.select(pl.when(pl.lit(mask)).then(pl.lit("")).otherwise(summary)).to_series(),
        "NguoiKy": pl.select(pl.when(pl.lit(pl.Series(den | secret))).then(None).otherwise(signer)).to_series(),
        "DoMat": _gather(tuple(dc.SECRECY), secrecy),
        "DoKhan": _gather(tuple(dc.URGENCY), urgency),
        "DonViXuLy": pl.select(pl.when(pl.lit(pl.Series(assigned))).then(handler)).to_series(),
        "HanXuLy": dates(due, has_due),
        "NgayHoanThanh": dates(done_day, done),
        "TrangThai": pl.Series(np.where(~den | done, "DaXuLy", np.where(assigned, "DangXuLy", "ChuaXuLy"))),
        "HinhThuc": _gather(("DienTu", "Giay", "CaHai"), transport),
        "KySo": pl.Series(signed),
        "MaHoSoLienKet": links,
        "NgayCapNhat": pl.Series(np.where(times >= 0, times, -1).max(axis=1), dtype=pl.Int64),
        "_unit": pl.Series(unit, dtype=pl.Int32),
    })
    return DocGenerated(full, times, units, period)


def _result_links(rng: np.random.Generator, dossiers: Generated | None, unit: np.ndarray, t_reg: np.ndarray,
                  want: np.ndarray, n_units: int) -> pl.Series:
    """MaHoSoLienKet: for the wanted outgoing documents, a dossier of the same unit finished
    (status 9, not withdrawn) before the document was registered, each dossier at most once."""
    n = len(unit)
    out = np.full(n, -1, dtype=np.int64)
    if dossiers is None:
        return pl.Series([None] * n, dtype=pl.String)
    t_fin = dossiers.times[:, FIN]
    finished = (t_fin >= 0) & (dossiers.statuses[:, FIN] == 9)
    d_unit = dossiers.full["_unit"].to_numpy()
    back = rng.integers(0, 40, n)
    for u in range(n_units):
        cand = np.nonzero(finished & (d_unit == u))[0]
        docs = np.nonzero(want & (unit == u))[0]
        if len(cand) == 0 or len(docs) == 0:
            continue
        cand = cand[np.argsort(t_fin[cand], kind="stable")]
        pos = np.searchsorted(t_fin[cand], t_reg[docs], side="left") - 1 - back[docs]
        ok = pos >= 0
        out[docs[ok]] = cand[pos[ok]]
    linked = np.nonzero(out >= 0)[0]
    _, first = np.unique(out[linked], return_index=True)
    keep = np.zeros(n, dtype=bool)
    keep[linked[first]] = True
    codes = dossiers.full["MaHoSo"].gather(pl.Series(np.where(keep, out, 0), dtype=pl.Int64))
    return codes.scatter(np.nonzero(~keep)[0], None)
