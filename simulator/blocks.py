"""Drawing the dossiers of a scenario in blocks: who, which procedure, when, and how it ends.

Each block is a group of dossiers drawn alike (received in the period, carried over, before the
period, never accepted, refused), as numpy arrays. The krongpa blocks have exactly the published
sizes, which is what makes the scenario calibrated by construction; the scale blocks use
proportions. ``simulator.generate`` turns the blocks into frames.
"""

from __future__ import annotations

import numpy as np

from simulator import calendar as cal_
from simulator import timeline
from simulator.catalog import COMMUNE, DISTRICT, Procedure
from simulator.units import Unit

# Block sizes of the krongpa scenario (docs/figures.md §1) and the dossiers around them.
KRONGPA_COUNTS = dict(online=1_019, counter_postal=86_088, carried=114, late=1_293, carried_late=11,
                      withdrawn=380, submitted=168, refused=137, boundary_trap=6)
# Block kinds as stored per dossier.
KIND_CODES = {"period": 0, "carried": 1, "before": 2, "submitted": 3, "refused": 4}


def procs() -> tuple[Procedure, ...]:
    """The procedure catalogue, indexed as ``proc`` arrays index it: district first."""
    return DISTRICT + COMMUNE


def proc_arrays() -> dict[str, np.ndarray]:
    """Per-procedure attributes as arrays, to be gathered by procedure index."""
    catalog = procs()
    return {
        "level": np.array([p.level for p in catalog]),
        "days": np.array([p.days for p in catalog]),
        "weight": np.array([p.weight for p in catalog], dtype=float),
        "district": np.array([i < len(DISTRICT) for i in range(len(catalog))]),
        "field": np.array([p.field for p in catalog]),
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
    pa = proc_arrays()
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
            "t_sub": t_sub, "t_recv": t_recv, "kind": np.full(n, KIND_CODES[kind], dtype=np.int8),
            "fin_lo": np.full(n, fin_lo, dtype=np.int64), "fin_hi": np.full(n, fin_hi, dtype=np.int64)}


def _online(rng: np.random.Generator, cal: cal_.WorkCalendar, units: tuple[Unit, ...], n: int,
            first: int, last: int, subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    unit = _pick_units(rng, units, n, True, subset)
    proc = _pick_procs(rng, units, unit, online=True)
    t_sub = timeline.online_submissions(rng, n, first, last)
    auto = (proc_arrays()["level"][proc] == 4) & (rng.random(n) < 0.5)
    return unit, proc, t_sub, timeline.online_receptions(rng, cal, t_sub, auto)


def _counter(rng: np.random.Generator, cal: cal_.WorkCalendar, units: tuple[Unit, ...], n: int,
             first: int, last: int, subset: np.ndarray | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counter and postal receptions; postal mostly for district land and business dossiers."""
    unit = _pick_units(rng, units, n, False, subset)
    proc = _pick_procs(rng, units, unit)
    pa = proc_arrays()
    by_post = pa["district"] & np.isin(pa["field"], ["DD", "HKD"])  # per procedure
    postal = by_post[proc] & (rng.random(n) < 0.06)
    t_recv = timeline.counter_receptions(rng, cal, n, first, last)
    posted = cal_.instant(cal_.local_day(t_recv) - rng.integers(1, 5, n), cal_.office_minutes(rng, n))
    return unit, proc, np.where(postal, 3, 1), np.where(postal, posted, t_recv), t_recv


def krongpa_blocks(rng: np.random.Generator, units: tuple[Unit, ...]) -> list[dict[str, np.ndarray]]:
    k = KRONGPA_COUNTS
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
    days = proc_arrays()["days"][proc]
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


def scale_blocks(rng: np.random.Generator, units: tuple[Unit, ...], subset: np.ndarray, n: int, first_year: int,
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
    pa = proc_arrays()
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
