"""The service-index indicators (docs/figures.md §6) as the simulated systems know them.

Computed from the one-stop system's own state (``Dataset.state``: what its form-06 report
counts) and the e-document truth (``DocDataset.truth``), with the simulator's own rules and
code, never the pipeline's, so that a test can hold the warehouse's
``warehouse.indicators.indicators`` against it. Per period [from, to] of local calendar days,
one row per unit (every unit of the scenario, in its order) with the counts the rates divide:

- ``c3`` … ``c13``: form 06 as ``simulator.report06.classify`` counts it;
- ``received`` (c4 + c5), of them ``digitised`` (TrangThaiSoHoa 1, 2 or 3) and ``paid_online``;
- ``finished``: resolved in the period with a result (status 9, 10), of them
  ``electronic_results`` (KetQuaDienTu); ``rated``: resolved in the period with a DanhGia, of
  them ``satisfied`` (RatHaiLong, HaiLong);
- ``procedures_offered_online``: (unit, procedure) pairs with a received dossier (status not 1
  or 3) at MucDo 3 or 4 received on or before ``to``; ``procedures_with_online``: of those, the
  pairs with a dossier received online (channel 2) in the period. A procedure is the first 8
  characters of MaTTHC (``d.dddddd``);
- ``docs_received`` (incoming, NgayDen in the period), ``docs_received_electronic`` (HinhThuc
  DienTu or CaHai), ``docs_issued`` (outgoing, NgayBanHanh in the period),
  ``docs_issued_electronic``, ``docs_issued_signed`` (KySo).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from simulator import doc_catalog as dc
from simulator.report06 import COLUMNS as FORM06_COLUMNS
from simulator.report06 import classify
from simulator.units import Unit

OFFSET_S = 7 * 3600
FINISHED = (9, 10)
NEVER_RECEIVED = (1, 3)
DIGITISED = (1, 2, 3)
SATISFIED = ("RatHaiLong", "HaiLong")
ONLINE_LEVELS = ("3", "4")
ONLINE_CHANNEL = "2"
COUNT_COLUMNS = (*FORM06_COLUMNS, "received", "digitised", "paid_online", "finished",
                 "electronic_results", "rated", "satisfied", "procedures_offered_online",
                 "procedures_with_online", "docs_received", "docs_received_electronic",
                 "docs_issued", "docs_issued_electronic", "docs_issued_signed")  # fmt: skip
# Each rate: (numerator columns, denominator columns).
RATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "on_time": (("c8", "c9"), ("c7",)),
    "progress": (("c8", "c9", "c12"), ("c3",)),
    "online": (("c4",), ("c4", "c5")),
    "online_uptake": (("procedures_with_online",), ("procedures_offered_online",)),
    "digitised": (("digitised",), ("received",)),
    "electronic_result": (("electronic_results",), ("finished",)),
    "online_payment": (("paid_online",), ("received",)),
    "satisfaction": (("satisfied",), ("rated",)),
    "edoc_electronic": (("docs_received_electronic", "docs_issued_electronic"),
                        ("docs_received", "docs_issued")),
    "edoc_signed": (("docs_issued_signed",), ("docs_issued",)),
}  # fmt: skip


def _local_day(col: str) -> pl.Expr:
    return ((pl.col(col).cast(pl.Int64) + OFFSET_S) // 86400).cast(pl.Int32).cast(pl.Date)


def _dossier_counts(state: pl.DataFrame, date_from: date, date_to: date) -> pl.DataFrame:
    """Per MaDVHC: form 06 and the dossier counts of the rates."""
    c = classify(state, date_from, date_to)
    received = pl.col("c4") | pl.col("c5")
    finished = pl.col("c7") & pl.col("TrangThaiHoSo").is_in(FINISHED)
    rated = pl.col("c7") & pl.col("DanhGia").is_not_null()
    flags = {
        **{col: pl.col(col) for col in FORM06_COLUMNS},
        "received": received,
        "digitised": received & pl.col("TrangThaiSoHoa").is_in(DIGITISED),
        "paid_online": received & pl.col("ThanhToanTrucTuyen"),
        "finished": finished,
        "electronic_results": finished & pl.col("KetQuaDienTu"),
        "rated": rated,
        "satisfied": rated & pl.col("DanhGia").is_in(SATISFIED),
    }
    return c.group_by(pl.col("MaDVHC").alias("code")).agg(
        flag.fill_null(False).sum().cast(pl.Int64).alias(name) for name, flag in flags.items()
    )


def _uptake(state: pl.DataFrame, date_from: date, date_to: date) -> pl.DataFrame:
    """Per MaDVHC: procedures offered online by the end of the period, and of them those with
    an online reception in it."""
    day = _local_day("NgayTiepNhan")
    received = state.filter(
        ~pl.col("TrangThaiHoSo").is_in(NEVER_RECEIVED) & pl.col("NgayTiepNhan").is_not_null()
    ).with_columns(day=day, procedure=pl.col("MaTTHC").str.slice(0, 8))
    offered = (
        received.filter(pl.col("MucDo").is_in(ONLINE_LEVELS) & (pl.col("day") <= date_to))
        .select("MaDVHC", "procedure").unique()
    )  # fmt: skip
    used = (
        received.filter((pl.col("KenhThucHien") == ONLINE_CHANNEL)
                        & pl.col("day").is_between(date_from, date_to))
        .select("MaDVHC", "procedure").unique().with_columns(used=pl.lit(True))
    )  # fmt: skip
    return (
        offered.join(used, on=["MaDVHC", "procedure"], how="left")
        .group_by(pl.col("MaDVHC").alias("code"))
        .agg(
            pl.len().cast(pl.Int64).alias("procedures_offered_online"),
            pl.col("used").fill_null(False).sum().cast(pl.Int64).alias("procedures_with_online"),
        )
    )


def _document_counts(documents: pl.DataFrame, date_from: date, date_to: date,
                     units: tuple[Unit, ...]) -> pl.DataFrame:
    """Per register holder: incoming received and outgoing issued in the period."""
    incoming = (pl.col("LoaiVanBan") == "DEN") & pl.col("NgayDen").is_between(date_from, date_to)
    outgoing = (pl.col("LoaiVanBan") == "DI") & pl.col("NgayBanHanh").is_between(date_from, date_to)
    electronic = pl.col("HinhThuc").is_in(list(dc.ELECTRONIC_CODES))
    flags = {
        "docs_received": incoming,
        "docs_received_electronic": incoming & electronic,
        "docs_issued": outgoing,
        "docs_issued_electronic": outgoing & electronic,
        "docs_issued_signed": outgoing & pl.col("KySo"),
    }
    codes = pl.DataFrame({"MaDonVi": [u.unit_id for u in units], "code": [u.code for u in units]})
    return (
        documents.join(codes, on="MaDonVi", how="inner")
        .group_by("code")
        .agg(flag.fill_null(False).sum().cast(pl.Int64).alias(name) for name, flag in flags.items())
    )


def service_indicators(state: pl.DataFrame, documents: pl.DataFrame, date_from: date,
                       date_to: date, units: tuple[Unit, ...]) -> pl.DataFrame:
    """One row per unit (``code``, ``name``, the counts of :data:`COUNT_COLUMNS`, then
    ``<rate>_numerator`` and ``<rate>_denominator`` of every rate in :data:`RATES`) and a last
    row ``code`` None, ``name`` "Tổng cộng" with the sums."""
    rows = pl.DataFrame({"code": [u.code for u in units], "name": [u.name for u in units]})
    for part in (_dossier_counts(state, date_from, date_to), _uptake(state, date_from, date_to),
                 _document_counts(documents, date_from, date_to, units)):
        rows = rows.join(part, on="code", how="left")
    rows = rows.with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in COUNT_COLUMNS)
    total = rows.select(pl.lit(None, pl.String).alias("code"), pl.lit("Tổng cộng").alias("name"),
                        *[pl.col(c).sum() for c in COUNT_COLUMNS])
    out = pl.concat([rows.select("code", "name", *COUNT_COLUMNS), total])
    return out.with_columns(
        expr
        for key, (num, den) in RATES.items()
        for expr in (pl.sum_horizontal(num).alias(f"{key}_numerator"),
                     pl.sum_horizontal(den).alias(f"{key}_denominator"))
    )  # fmt: skip


def expected_indicators(dataset, documents, date_from: date | None = None,
                        date_to: date | None = None) -> pl.DataFrame:
    """:func:`service_indicators` of a scenario (a ``Dataset`` and its ``DocDataset``), for its
    period by default."""
    f, t = date_from or dataset.period[0], date_to or dataset.period[1]
    return service_indicators(dataset.state, documents.truth, f, t, dataset.generated.units)
