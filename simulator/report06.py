"""Form 06 ("Tình hình, kết quả giải quyết TTHC") as the VENDOR computes it (docs/figures.md §4).

Rules, dates compared by calendar day in Asia/Ho_Chi_Minh:
- status 1 and 3 are left out of every column;
- c4/c5: received in [from, to], online (2) / counter or postal (1, 3); c6: received before
  ``from`` and still open at ``from`` or finished on/after it;
- c7: status 7, 9 or 10 with the finish date in the period; c8 finish < due, c9 finish = due,
  c10 finish > due. Vendor quirks kept on purpose: a MISSING due date counts as on time, and a
  withdrawal (7) counts as on time, both in c9 ("đúng hạn", the column the form calls on time);
- c11: counted in c3 but not finished by ``to`` (decided from the dates, so c3 = c7 + c11 holds
  for past periods); c12 due date >= ``to``, missing, or waiting on the applicant (5, 6, 8);
  c13 the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from simulator.units import Unit

COLUMNS = tuple(f"c{i}" for i in range(3, 14))
OFFSET_S = 7 * 3600


def _local_day(col: str) -> pl.Expr:
    """Local calendar day of an instant column (Int64 UTC seconds or Datetime)."""
    c = pl.col(col)
    return ((c.cast(pl.Int64) + OFFSET_S) // 86400).cast(pl.Int32).cast(pl.Date)


def classify(state: pl.DataFrame, date_from: date, date_to: date) -> pl.DataFrame:
    """Add boolean columns c4..c13 (c3, c7, c11 as totals) to a dossier state frame whose
    instants are Int64 UTC seconds."""
    recv, fin, due = _local_day("NgayTiepNhan"), _local_day("NgayKetThucXuLy"), _local_day("NgayHenTra")
    st = pl.col("TrangThaiHoSo")
    counted = ~st.is_in([1, 3]) & recv.is_not_null()
    in_period = counted & recv.is_between(date_from, date_to)
    closed = st.is_in([7, 9, 10]) & fin.is_not_null()
    withdrawn = st == 7
    frame = state.with_columns(
        c4=in_period & (pl.col("KenhThucHien") == "2"),
        c5=in_period & pl.col("KenhThucHien").is_in(["1", "3"]),
        c6=counted & (recv < date_from) & (fin.is_null() | (fin >= date_from)),
        c7=counted & closed & fin.is_between(date_from, date_to),
        _wd=withdrawn, _due_null=due.is_null(), _fin_lt=fin < due, _fin_eq=fin == due,
        _open_ok=due.is_null() | (due >= date_to) | st.is_in([5, 6, 8]),
    )
    return frame.with_columns(
        c3=pl.col("c4") | pl.col("c5") | pl.col("c6"),
        c8=pl.col("c7") & ~pl.col("_wd") & ~pl.col("_due_null") & pl.col("_fin_lt"),
        c9=pl.col("c7") & (pl.col("_wd") | pl.col("_due_null") | pl.col("_fin_eq")),
        c10=pl.col("c7") & ~pl.col("_wd") & ~pl.col("_due_null") & ~pl.col("_fin_lt") & ~pl.col("_fin_eq"),
    ).with_columns(
        c11=pl.col("c3") & ~pl.col("c7") & ~(closed & (fin < date_from)),
    ).with_columns(
        c12=pl.col("c11") & pl.col("_open_ok"),
        c13=pl.col("c11") & ~pl.col("_open_ok"),
    ).drop("_wd", "_due_null", "_fin_lt", "_fin_eq", "_open_ok")


def report06(state: pl.DataFrame, date_from: date, date_to: date, by: str = "unit",
             units: tuple[Unit, ...] = ()) -> dict[str, Any]:
    """The report as the API returns it: rows by unit (all ``units``, in order) or by field,
    and the total."""
    if by not in ("unit", "field"):
        raise ValueError("by must be 'unit' or 'field'")
    classified = classify(state, date_from, date_to)
    sums = [pl.col(c).sum().cast(pl.Int64) for c in COLUMNS]
    if by == "unit":
        agg = classified.group_by(pl.col("MaDVHC").alias("code")).agg(sums)
        names = pl.DataFrame({"code": [u.code for u in units], "name": [u.name for u in units],
                              "_o": list(range(len(units)))})
        rows = names.join(agg, on="code", how="left").sort("_o").drop("_o").fill_null(0)
    else:
        rows = (classified.group_by(pl.col("MaLinhVuc").alias("code"))
                .agg(pl.col("TenLinhVuc").first().alias("name"), *sums).sort("code"))
    total = classified.select(sums).row(0, named=True)
    return {"from": date_from.isoformat(), "to": date_to.isoformat(), "by": by,
            "rows": rows.select("code", "name", *COLUMNS).to_dicts(), "total": total}


def report06_new_units(state: pl.DataFrame, date_from: date, date_to: date) -> dict[str, Any]:
    """Form 06 by TODAY's units (scenario krongpa-2024-2026): each old commune's dossiers under
    the new commune it became, carried-over ones included; the district's own desk keeps its
    row (it has no successor). The old and new units are told apart by ``MaDonVi``."""
    from simulator.units import KRONGPA_NEW_UNITS, KRONGPA_UNITS, SUCCESSORS

    report_code = {u.unit_id: SUCCESSORS.get(u.code) or u.code for u in KRONGPA_UNITS}
    report_code |= {u.unit_id: u.code for u in KRONGPA_NEW_UNITS}
    rows = (KRONGPA_UNITS[0], *KRONGPA_NEW_UNITS)
    keyed = state.with_columns(
        pl.col("MaDonVi").replace_strict(report_code, default=None).alias("MaDVHC"))
    return report06(keyed, date_from, date_to, "unit", rows)
