"""When things happen to a dossier: submission, reception, due date, finish, return, rating.

Every function works on whole numpy arrays (UTC seconds, see ``simulator.calendar``). Receptions
fall on working days in office hours, online submissions at any hour (some before 07:00 local,
which is the previous day in UTC), deadlines count working days, and a chosen set of dossiers
finishes after its due date.
"""

from __future__ import annotations

import numpy as np

from simulator import calendar as cal_

MIN = 60
OFFICE_END_MIN = 17 * 60 + 30


def day_weights(days: np.ndarray) -> np.ndarray:
    """Seasonal volume: busy before Tết and in autumn, quiet in the Tết month and in the 2021
    COVID summer; Mondays busier, Fridays quieter."""
    dates = cal_.as_dates(days)
    month = (dates.astype("datetime64[M]").astype(np.int64) % 12) + 1
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    weekday = (days + 3) % 7  # 0 Monday
    m_factor = np.array([1.0, 1.25, 0.8, 1.0, 1.0, 0.95, 1.0, 0.9, 0.95, 1.1, 1.1, 1.05, 1.15])[month]
    covid = np.where((year == 2021) & (month >= 7) & (month <= 9), 0.8, 1.0)
    w_factor = np.array([1.15, 1.0, 1.0, 1.0, 0.9, 0.35, 0.3])[weekday]
    return m_factor * covid * w_factor


def counter_receptions(rng: np.random.Generator, cal: cal_.WorkCalendar, n: int, first: int,
                       last: int) -> np.ndarray:
    """Reception instants over the counter: a working day in [first, last], office hours."""
    days = cal.business_days(first, last)
    w = day_weights(days)
    d = days[rng.choice(len(days), n, p=w / w.sum())]
    return cal_.instant(d, cal_.office_minutes(rng, n))


def online_submissions(rng: np.random.Generator, n: int, first: int, last: int) -> np.ndarray:
    """Online submission instants: any day in [first, last], any hour up to 22:00 local; about
    one in ten before 07:00 local (the previous day in UTC)."""
    days = np.arange(first, last + 1, dtype=np.int64)
    w = day_weights(days)
    d = days[rng.choice(len(days), n, p=w / w.sum())]
    early = rng.random(n) < 0.10
    minute = np.where(early, rng.integers(5 * 60, 7 * 60, n), rng.integers(7 * 60, 22 * 60, n))
    return cal_.instant(d, minute)


def online_receptions(rng: np.random.Generator, cal: cal_.WorkCalendar, t_sub: np.ndarray,
                      auto: np.ndarray) -> np.ndarray:
    """Reception of online submissions: fully online services accept automatically a few minutes
    later (at any hour, weekends included); otherwise a clerk accepts in the next office slot."""
    n = len(t_sub)
    sub_day, sub_min = cal_.local_day(t_sub), cal_.local_minute(t_sub)
    start = np.where(sub_min >= 16 * 60, sub_day + 1, sub_day)
    recv_day = cal.offset(start, 0)
    same = recv_day == sub_day
    recv_min = np.where(same, np.maximum(sub_min, 7 * 60) + rng.integers(5, 61, n),
                        cal_.office_minutes(rng, n))
    clerk = cal_.instant(recv_day, recv_min)
    return np.where(auto, t_sub + rng.integers(1, 6, n) * MIN, clerk)


def due_dates(cal: cal_.WorkCalendar, t_recv: np.ndarray, days: np.ndarray,
              midnight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(due day, due instant): ``days`` working days after reception; stored at 17:00 local, or
    at 00:00 local by units whose system keeps a date only."""
    recv_bday = cal.offset(cal_.local_day(t_recv), 0)
    due_day = cal.offset(recv_bday, days)
    minute = np.where(midnight, 0, 17 * 60)
    return due_day, cal_.instant(due_day, minute)


def finishes(rng: np.random.Generator, cal: cal_.WorkCalendar, t_recv: np.ndarray,
             due_day: np.ndarray, late: np.ndarray, early_close: np.ndarray,
             fin_lo: int | np.ndarray, fin_hi: int | np.ndarray) -> np.ndarray:
    """Finish instants. On time: a working day in [max(reception, fin_lo), min(due, fin_hi)],
    usually close to the due day; ``early_close`` (withdrawals) ends the day before the due day
    at the latest. Late: a working day in [max(due + 1, fin_lo), fin_hi]. The caller guarantees
    those ranges are not empty. Some late dossiers are closed by a night job at 06:xx local, the
    previous day in UTC: a reader that takes the UTC date sees them on time."""
    n = len(t_recv)
    recv_day, recv_min = cal_.local_day(t_recv), cal_.local_minute(t_recv)
    recv_bday = cal.offset(recv_day, 0)
    lo_b = cal.offset(np.broadcast_to(np.asarray(fin_lo, dtype=np.int64), (n,)), 0)
    hi_b = cal.offset(np.broadcast_to(np.asarray(fin_hi, dtype=np.int64), (n,)), 0, roll="backward")
    lo_ok = np.maximum(recv_bday, lo_b)
    hi_ok = np.minimum(np.where(early_close, cal.offset(due_day, -1), due_day), hi_b)
    hi_ok = np.maximum(hi_ok, lo_ok)
    cnt_ok = cal.count(lo_ok, hi_ok + 1)
    k_ok = np.minimum((rng.beta(2.0, 1.2, n) * cnt_ok).astype(np.int64), np.maximum(cnt_ok - 1, 0))
    day_ok = cal.offset(lo_ok, k_ok)

    lo_late = np.maximum(cal.offset(due_day, 1), lo_b)
    hi_late = np.maximum(hi_b, lo_late)
    cnt_late = cal.count(lo_late, hi_late + 1)
    k_late = np.minimum(rng.geometric(0.3, n) - 1, np.maximum(cnt_late - 1, 0))
    day_late = cal.offset(lo_late, k_late)

    day = np.where(late, day_late, day_ok)
    same = day == recv_day
    span = np.maximum(OFFICE_END_MIN - recv_min - 10, 0)
    minute_same = recv_min + 10 + (rng.random(n) * span).astype(np.int64)
    night_job = late & (rng.random(n) < 0.08)
    minute_other = np.where(night_job, rng.integers(6 * 60, 7 * 60, n),
                            cal_.office_minutes(rng, n) + rng.integers(0, 30, n))
    return cal_.instant(day, np.where(same, minute_same, minute_other))


def returns(rng: np.random.Generator, cal: cal_.WorkCalendar, t_fin: np.ndarray,
            returned: np.ndarray, limit: int) -> np.ndarray:
    """Result handed back (NgayTra): the finish day or a few working days later, never at or
    after ``limit`` (then not returned yet: -1)."""
    n = len(t_fin)
    valid = t_fin >= 0
    t_fin = np.where(valid, t_fin, t_fin[valid][0] if valid.any() else 0)
    returned = returned & valid
    fin_day, fin_min = cal_.local_day(t_fin), cal_.local_minute(t_fin)
    lag = rng.choice([0, 1, 2, 3, 5, 7], n, p=[0.55, 0.2, 0.1, 0.07, 0.05, 0.03])
    day = cal.offset(fin_day, lag)
    same = day == fin_day
    minute = np.where(same, np.minimum(np.maximum(fin_min, 7 * 60) + rng.integers(5, 90, n), 23 * 60 + 50),
                      cal_.office_minutes(rng, n))
    t = cal_.instant(day, minute)
    t = np.maximum(t, t_fin + MIN)
    return np.where(returned & (t < limit), t, -1)


def ratings(rng: np.random.Generator, t_ret: np.ndarray, share: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(rating instant or -1, rating 0 RatHaiLong / 1 HaiLong / 2 KhongHaiLong or -1)."""
    n = len(t_ret)
    t = t_ret + rng.integers(10, 5 * 24 * 60, n) * MIN
    rated = (t_ret >= 0) & (rng.random(n) < share) & (t < limit)
    value = rng.choice(3, n, p=[0.55, 0.42, 0.03])
    return np.where(rated, t, -1), np.where(rated, value, -1)


def progress(rng: np.random.Generator, t_recv: np.ndarray, t_fin: np.ndarray,
             supplement_share: float = 0.04) -> tuple[np.ndarray, np.ndarray]:
    """Intermediate versions: 'processing' (4) once work starts, 'waiting for supplement' (5)
    for some long dossiers. -1 where there is none."""
    n = len(t_recv)
    span = np.where(t_fin > 0, t_fin - t_recv, 0)
    has_proc = span >= 3 * 3600
    t_proc = t_recv + (np.minimum(span // 3, 2 * 3600) // MIN) * MIN
    has_supp = (span >= 2 * 86400) & (rng.random(n) < supplement_share)
    t_supp = t_recv + ((span * rng.uniform(0.4, 0.7, n)).astype(np.int64) // MIN) * MIN
    return np.where(has_proc, t_proc, -1), np.where(has_supp, t_supp, -1)
