"""From the clean truth to what the system emits: versions, dirt, and a manifest of the dirt.

Every item the API or an export emits is a dossier record as it looked at one version. By
default a dossier emits only its newest visible version; the ``reappear`` switch makes a share of
dossiers emit their older versions too (the API's nature: every version whose NgayCapNhat is in
the window is an item). Dirt is drawn from its own seeded stream per kind, so changing one rate
never changes the truth or another kind's picks.

Untrustable rows (finish before reception, unknown unit, unknown status) are EXTRA dossiers
beside the truth, with sequences from 9000 up that never collide with a truth code: quarantining
them leaves the calibrated totals untouched. Missing due dates are put on truth dossiers that
finished on time, so the vendor's "missing due = on time" keeps the totals too; so are due
dates moved past the statutory handling time (``off_statute_due``): 1–3 working days later than
the procedure's working days allow, still after the finish, so no total changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from simulator import calendar as cal_
from simulator.generate import FIN, RECV, Generated, code_key, format_codes
from simulator.options import DirtOptions
from simulator.units import UNKNOWN_UNITS

TEXT_FIELDS = ("ChuHoSo", "TenDonVi", "TenTTHC", "TenLinhVuc")
UNKNOWN_STATUSES: tuple[int | str, ...] = (0, 99, "Đang chờ", 11, "DaTraKetQua")
KINDS = ("duplicates", "reappear", "nfd", "unit_variants", "missing_due",
         "finish_before_reception", "unknown_units", "unknown_status", "codes_as_numbers", "off_statute_due",
         "move_due")
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


def _rng(seed: int, kind: str, shard: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[kind]] + ([shard] if shard else []))


def _pick(rng: np.random.Generator, candidates: np.ndarray, rate: float, base: int) -> np.ndarray:
    """round(rate × base) distinct candidates (all of them if there are fewer)."""
    k = min(int(round(rate * base)), len(candidates))
    return np.sort(rng.choice(candidates, k, replace=False)) if k else np.array([], dtype=np.int64)


def emit(gen: Generated, dirt: DirtOptions, seed: int, now_s: int | None,
         shard: int = 0) -> tuple[pl.DataFrame, np.ndarray, Manifest, np.ndarray]:
    """(items sorted by NgayCapNhat then MaHoSo, truth dossiers whose due date is missing,
    manifest, moved due dates: rows (truth dossier, new NgayHenTra instant)). Items keep instants as Int64 UTC seconds and carry ``_idx`` (truth dossier, -1 for
    extras), ``_unit``, ``_key`` and ``_status_text`` (a text status replacing TrangThaiHoSo).

    The (dossier, version) pairs are ordered with numpy before any row is built, so the big
    frame is gathered once, already sorted; dirt is then applied in place by row positions.
    A shard (scale scenario) draws its own dirt; only shard 0 carries the extra dossiers."""
    latest = gen.latest_stage(now_s)
    visible = np.nonzero(latest >= 0)[0]
    n_vis, n_all = len(visible), gen.full.height
    if n_all >= 2**27 or gen.times.max() >= 2**36:
        raise ValueError("too many dossiers (or instants too late) for the simulator's sort key")
    codes = gen.full["MaHoSo"]
    parts: list[pl.DataFrame] = []

    # Older versions of a share of dossiers, and exact duplicates of some items.
    n_versions = ((gen.times >= 0) & ((gen.times < now_s) if now_s is not None else True)).sum(axis=1)
    reappear = _pick(_rng(seed, "reappear", shard), visible[n_versions[visible] > 1], dirt.reappear, n_vis)
    d_old, s_old = np.nonzero((gen.times[reappear] >= 0) & (np.arange(gen.times.shape[1]) < latest[reappear, None]))
    d = np.concatenate([visible, reappear[d_old]])
    s = np.concatenate([latest[visible], s_old])
    parts.append(_entries("reappear", codes.gather(reappear), pl.Series(n_versions[reappear] - 1)))
    dup = _pick(_rng(seed, "duplicates", shard), np.arange(len(d)), dirt.duplicates, len(d))
    dup_per = np.bincount(d[dup], minlength=n_all)
    dup_dossiers = np.nonzero(dup_per)[0]
    parts.append(_entries("duplicates", codes.gather(dup_dossiers), pl.Series(dup_per[dup_dossiers])))
    d, s = np.concatenate([d, d[dup]]), np.concatenate([s, s[dup]])
    # Due dates moved later after reception: those dossiers always emit their reception version.
    move_due = _pick(_rng(seed, "move_due", shard), _move_due_candidates(gen, visible, latest),
                     dirt.move_due, n_vis)
    forced = move_due[~_mask(n_all, reappear)[move_due]]
    d, s = np.concatenate([d, forced]), np.concatenate([s, np.full(len(forced), RECV, dtype=s.dtype)])
    # One int64 sort key: instant (seconds) then the code's rank among dossiers; stable, so
    # duplicates stay side by side.
    rank = np.empty(n_all, dtype=np.int64)
    rank[np.argsort(gen.full["_key"].to_numpy(), kind="stable")] = np.arange(n_all)
    order = np.argsort((gen.times[d, s] << 27) | rank[d], kind="stable")
    rows = gen.rows(d[order], s[order])
    at_dossier = d[order]
    per_dossier = np.bincount(at_dossier, minlength=n_all)

    # Unit names spelt differently, MaDVHC null (resolve from the name).
    variant_units = [i for i, u in enumerate(gen.units) if u.variants]
    unit_of = gen.full["_unit"].to_numpy()
    rng = _rng(seed, "unit_variants", shard)
    chosen = _pick(rng, visible[_mask(len(gen.units), np.array(variant_units, dtype=np.int64))[unit_of[visible]]], dirt.unit_variants, n_vis)
    names = pl.Series([gen.units[unit_of[i]].variants[rng.integers(0, len(gen.units[unit_of[i]].variants))]
                       for i in chosen], dtype=pl.String)
    which = np.full(n_all, -1)
    which[chosen] = np.arange(len(chosen))
    at = np.nonzero(which[at_dossier] >= 0)[0]
    rows = rows.with_columns(rows["TenDonVi"].scatter(at, names.gather(which[at_dossier[at]])),
                             rows["MaDVHC"].scatter(at, None))
    parts.append(_entries("unit_variants", codes.gather(chosen), pl.Series(per_dossier[chosen])))

    # Decomposed Unicode.
    chosen = _pick(_rng(seed, "nfd", shard), visible, dirt.nfd, n_vis)
    at = np.nonzero(_mask(n_all, chosen)[at_dossier])[0]
    rows = rows.with_columns([rows[c].scatter(at, rows[c].gather(at).str.normalize("NFD")) for c in TEXT_FIELDS])
    parts.append(_entries("nfd", codes.gather(chosen), pl.Series(per_dossier[chosen])))

    # Missing due dates, on dossiers closed on time (the vendor counts them on time anyway).
    final = gen.full.select("TrangThaiHoSo", "_late")
    on_time = (final["TrangThaiHoSo"].is_in([7, 9, 10]) & ~final["_late"]).to_numpy()
    missing_due = _pick(_rng(seed, "missing_due", shard), visible[on_time[visible]], dirt.missing_due, n_vis)
    at = np.nonzero(_mask(n_all, missing_due)[at_dossier])[0]
    rows = rows.with_columns(rows["NgayHenTra"].scatter(at, None), _status_text=pl.lit(None, dtype=pl.String))
    parts.append(_entries("missing_due", codes.gather(missing_due), pl.Series(per_dossier[missing_due])))

    # Due dates past the statutory handling time, on dossiers finished on time (still on time).
    finished_on_time = (final["TrangThaiHoSo"].is_in([9, 10]) & ~final["_late"]).to_numpy()
    candidates = visible[finished_on_time[visible] & ~_mask(n_all, missing_due)[visible]]
    rng = _rng(seed, "off_statute_due", shard)
    moved_due = _moved_due(gen, _pick(rng, candidates, dirt.off_statute_due, n_vis), rng)
    new_due = np.full(n_all, -1, dtype=np.int64)
    new_due[moved_due[:, 0]] = moved_due[:, 1]
    at = np.nonzero(new_due[at_dossier] >= 0)[0]
    rows = rows.with_columns(rows["NgayHenTra"].scatter(at, pl.Series(new_due[at_dossier[at]], dtype=pl.Int64)))
    parts.append(_entries("off_statute_due", codes.gather(moved_due[:, 0]), pl.Series(per_dossier[moved_due[:, 0]])))

    # The reception version of a move_due dossier promised an earlier day (before its finish);
    # later versions carry the truth's due date. Dossiers whose due date other dirt removed or
    # replaced in every version are left out, so the manifest lists exactly the moved ones.
    move_due = move_due[~_mask(n_all, missing_due)[move_due] & (new_due[move_due] < 0)]
    first_due = _first_due(gen, move_due, _rng(seed, "move_due", shard + 1000))
    at = np.nonzero(_mask(n_all, move_due)[at_dossier] & (s[order] == RECV))[0]
    rows = rows.with_columns(rows["NgayHenTra"].scatter(at, pl.Series(first_due[at_dossier[at]], dtype=pl.Int64)))
    first_items = np.bincount(at_dossier[at], minlength=n_all)
    parts.append(_entries("move_due", codes.gather(move_due), pl.Series(first_items[move_due])))

    extras = _extras(gen, dirt if shard == 0 else replace(dirt, **dict.fromkeys(EXTRA_KINDS, 0)), seed, now_s)
    for kind in EXTRA_KINDS:
        parts.append(_entries(kind, extras.filter(pl.col("_kind") == kind)["MaHoSo"]))
    items = _insert_sorted(rows, extras.drop("_kind"))
    return items, missing_due, Manifest(pl.concat(parts).sort("kind", "MaHoSo")), moved_due


def _moved_due(gen: Generated, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(dossier, new due instant) rows: the due day moved 1–3 working days later (the
    simulator's own calendar), same time of day."""
    t_due = gen.full["NgayHenTra"].gather(pl.Series(chosen, dtype=pl.Int64)).to_numpy()
    if len(chosen) == 0:
        return np.empty((0, 2), dtype=np.int64)
    cal = cal_.business_calendar(gen.period[0].year - 1, gen.period[1].year + 1)
    day = cal_.local_day(t_due)
    later = cal.offset(day, rng.integers(1, 4, len(chosen)))
    return np.column_stack([chosen.astype(np.int64), t_due + (later - day) * cal_.DAY_S])


def _move_due_candidates(gen: Generated, visible: np.ndarray, latest: np.ndarray) -> np.ndarray:
    """Dossiers that finished on time on a later day than their reception and have a visible
    version after it: their first promised due day can lie before the finish."""
    final = gen.full
    on_time = (final["TrangThaiHoSo"].is_in([9, 10]) & ~final["_late"]).to_numpy()
    recv, fin = gen.times[:, RECV], gen.times[:, FIN]
    later_day = (recv >= 0) & (fin >= 0) & (cal_.local_day(np.maximum(fin, 0)) > cal_.local_day(np.maximum(recv, 0)))
    ok = on_time & later_day
    return visible[ok[visible] & (latest[visible] > RECV)]


def _first_due(gen: Generated, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per dossier (-1 elsewhere), the due instant its reception version promised: a day from
    reception to the day before the finish, at the truth's time of day (so the dossier was late
    by it, and on time by the truth's later due date)."""
    out = np.full(gen.full.height, -1, dtype=np.int64)
    if len(chosen) == 0:
        return out
    t_due = gen.full["NgayHenTra"].gather(pl.Series(chosen, dtype=pl.Int64)).to_numpy()
    recv_day = cal_.local_day(gen.times[chosen, RECV])
    fin_day = cal_.local_day(gen.times[chosen, FIN])
    day = recv_day + (rng.random(len(chosen)) * (fin_day - recv_day)).astype(np.int64)
    out[chosen] = t_due - (cal_.local_day(t_due) - day) * cal_.DAY_S
    return out


def _mask(n: int, chosen: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return mask


def _insert_sorted(rows: pl.DataFrame, extras: pl.DataFrame) -> pl.DataFrame:
    """Merge a few rows into a frame sorted by (NgayCapNhat, _key), without re-sorting it."""
    if extras.height == 0:
        return rows
    extras = extras.sort("NgayCapNhat", "_key")
    t, k = rows["NgayCapNhat"].to_numpy(), rows["_key"].to_numpy()
    pieces, start = [], 0
    for i, (te, ke) in enumerate(zip(extras["NgayCapNhat"].to_list(), extras["_key"].to_list(), strict=True)):
        lo, hi = np.searchsorted(t, te, "left"), np.searchsorted(t, te, "right")
        at = int(lo + np.searchsorted(k[lo:hi], ke, "right"))
        pieces += [rows.slice(start, at - start), extras.slice(i, 1)]
        start = at
    pieces.append(rows.slice(start))
    return pl.concat(pieces, how="vertical_relaxed")


def system_state(gen: Generated, now_s: int | None, missing_due: np.ndarray,
                 moved_due: np.ndarray | None = None) -> pl.DataFrame:
    """What the vendor's database holds now: newest visible versions, due dates missing or
    moved where the dirt says so. The vendor's own report is computed from this."""
    latest = gen.latest_stage(now_s)
    visible = np.nonzero(latest >= 0)[0]
    state = gen.rows(visible, latest[visible])
    due = state["NgayHenTra"]
    if moved_due is not None and len(moved_due):
        new_due = np.full(gen.full.height, -1, dtype=np.int64)
        new_due[moved_due[:, 0]] = moved_due[:, 1]
        at = np.nonzero((new_due[visible] >= 0) & due.is_not_null().to_numpy())[0]
        due = due.scatter(at, pl.Series(new_due[visible[at]], dtype=pl.Int64))
    at = np.nonzero(_mask(gen.full.height, missing_due)[visible])[0]
    return state.with_columns(due.scatter(at, None))


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
    truth_keys = np.sort(gen.full["_key"].to_numpy())
    new_keys = extras["_key"].to_numpy()
    pos = np.minimum(np.searchsorted(truth_keys, new_keys), len(truth_keys) - 1)
    clash = truth_keys[pos] == new_keys
    if clash.any():
        raise ValueError(f"extra dossier codes collide with the truth: {extras['MaHoSo'].filter(pl.Series(clash)).to_list()[:3]}")
    if now_s is not None:
        extras = extras.filter(pl.col("NgayCapNhat") < now_s)
    return extras.select([*gen.full.columns, "_idx", "_status_text", "_kind"])
