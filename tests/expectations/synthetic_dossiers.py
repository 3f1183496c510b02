"""Synthetic core/raw frame pairs for the validation benchmark and the chunking tests.

The core frame has the columns of ``CORE_ONESTOP_DOSSIERS`` except ``load_id`` and
``dq_warnings`` (the stage contract); the raw frame has every raw field as text. A fraction of
rows is broken on purpose, one check kind per broken row, with a raw value a reason can quote.
Generation is vectorised so a million rows take about a second.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sources.onestop.fields import RAW_FIELDS, SOURCE_COLUMN, SOURCE_ROW_COLUMN
from warehouse.tables import CORE_ONESTOP_DOSSIERS

CORE_EXCLUDED = ("load_id", "dq_warnings")

# Breakages, in the order they are dealt out over the broken rows.
BREAKAGES = (
    "status_label",  # status null, raw 'Đang chờ' (critical)
    "channel",  # channel 9 (critical)
    "unit",  # unit_code null (critical)
    "received",  # received_at null with status 4, raw '31/02/2021': unreadable (critical)
    "finished_before",  # finished_date < received_date (critical)
    "updated",  # updated_at null (critical)
    "dossier_code",  # malformed dossier code (warning)
    "procedure_code",  # procedure code not d.dddddd (warning)
    "level",  # service level 5 (warning)
    "applicant_type",  # unknown applicant type (warning)
    "id_number",  # identity number of 9 digits (warning)
    "due",  # due date null on a received dossier (warning)
    "digitisation",  # digitisation 7 (warning)
    "rating",  # unknown rating (warning)
)


def core_schema() -> pl.Schema:
    """The core frame's schema: the declaration minus the columns the loader adds."""
    schema = CORE_ONESTOP_DOSSIERS.polars_schema()
    return pl.Schema({k: v for k, v in schema.items() if k not in CORE_EXCLUDED})


def make_frames(
    rows: int, broken_share: float = 0.01, seed: int = 7
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """A (core, raw, broken-row counts by breakage) triple of ``rows`` rows."""
    rng = np.random.default_rng(seed)
    idx = np.arange(rows)
    day0 = np.datetime64("2021-01-01T01:00:00", "us")
    received = day0 + rng.integers(0, 700, rows).astype("timedelta64[D]")
    finished = received + rng.integers(0, 20, rows).astype("timedelta64[D]")
    due = received + np.timedelta64(15, "D")
    status = rng.integers(2, 11, rows).astype(np.int8)
    status[rng.random(rows) < 0.05] = 1  # never received: no reception date expected

    broken = rng.random(rows) < broken_share
    kinds = np.full(rows, -1)
    kinds[broken] = np.arange(broken.sum()) % len(BREAKAGES)
    counts = {b: int((kinds == i).sum()) for i, b in enumerate(BREAKAGES)}

    def br(name: str) -> np.ndarray:
        return kinds == BREAKAGES.index(name)

    status[br("received")] = 4
    status[br("due")] = 4
    received_local = received + np.timedelta64(7, "h")
    core = pl.DataFrame(
        {
            "dossier_code": pl.Series(idx).cast(pl.String),
            "status": status,
            "received_at": received,
            "finished_at": finished,
            "due_at": due,
            "received_date": received_local.astype("datetime64[D]"),
            "finished_date": (finished + np.timedelta64(7, "h")).astype("datetime64[D]"),
            "due_date": (due + np.timedelta64(7, "h")).astype("datetime64[D]"),
        }
    )
    code = pl.format(
        "000.00.12.H21-{}-{}",
        pl.col("received_date").dt.strftime("%y%m%d"),
        (pl.col("dossier_code").cast(pl.Int64) % 10000).cast(pl.String).str.zfill(4),
    )
    code = (
        pl.when(pl.lit(br("dossier_code")))
        .then(pl.lit("HS-") + pl.col("dossier_code"))
        .otherwise(code)
    )
    never = pl.col("status").is_in([1, 3])
    core = core.with_columns(
        dossier_code=code,
        received_at=pl.when(never | pl.lit(br("received")))
        .then(None)
        .otherwise(pl.col("received_at")),
        received_date=pl.when(never | pl.lit(br("received")))
        .then(None)
        .otherwise(pl.col("received_date")),
        due_date=pl.when(never | pl.lit(br("due"))).then(None).otherwise(pl.col("due_date")),
        finished_date=pl.when(pl.lit(br("finished_before")))
        .then(pl.col("received_date") - pl.duration(days=3))
        .otherwise(pl.col("finished_date")),
    )
    core = core.with_columns(
        pl.col(c).dt.replace_time_zone("UTC") for c in ("received_at", "finished_at", "due_at")
    )

    def pick(values: list, broken_name: str, bad) -> pl.Series:
        picked = pl.Series(values).gather(rng.integers(0, len(values), rows))
        mask = pl.Series(br(broken_name))
        return pl.select(
            pl.when(mask).then(pl.lit(bad, picked.dtype)).otherwise(picked)
        ).to_series()

    procedure = pick(["1.001234", "2.000635", "1.012784"], "procedure_code", "1.00123")
    level = pick([2, 3, 4], "level", 5)
    unit = pick(["24076", "24079", "24082", "24085"], "unit", None)
    channel = pick([1, 2, 3], "channel", 9)
    applicant = pick(["CongDan", "DoanhNghiep", "ToChuc"], "applicant_type", "Khac")
    id_number = pick(["012345678901", "079123456789"], "id_number", "123456789")
    digit = pick([0, 1, 2, 3], "digitisation", 7)
    rating = pick(["RatHaiLong", "HaiLong", "KhongHaiLong"], "rating", "BinhThuong")
    updated = (
        core["finished_at"]
        .to_frame()
        .select(pl.when(pl.lit(br("updated"))).then(None).otherwise(pl.col("finished_at")))
        .to_series()
    )
    status_s = pl.Series(np.where(br("status_label"), 0, status)).cast(pl.Int8)
    status_s = pl.select(pl.when(status_s == 0).then(None).otherwise(status_s)).to_series()
    core = core.with_columns(
        procedure_code_raw=procedure,
        procedure_code=procedure,
        procedure_name=pl.lit("Chứng thực bản sao từ bản chính"),
        field_code=pl.lit("CT"),
        field_name=pl.lit("Chứng thực"),
        service_level=level.cast(pl.Int8),
        receiving_unit_id=pl.lit("000.00.12.H21"),
        receiving_unit_name=pl.lit("UBND xã Ia Rsai"),
        unit_code=unit.cast(pl.String),
        unit_code_source=pl.lit("code"),
        unit_valid_from=pl.lit(None, pl.Date),
        unit_fault=pl.lit(None, pl.String),
        channel=channel.cast(pl.Int8),
        applicant_type=applicant.cast(pl.String),
        applicant_name=pl.lit("Nguyễn Văn A"),
        applicant_id_number=id_number.cast(pl.String),
        applicant_key=id_number.cast(pl.String),
        applicant_phone=pl.lit("0905123456"),
        submitted_at=pl.col("received_at"),
        returned_at=pl.col("finished_at"),
        returned_date=pl.col("finished_date"),
        status=status_s,
        digitisation=digit.cast(pl.Int8),
        electronic_result=pl.lit(True),
        paid_online=pl.lit(False),
        rating=rating.cast(pl.String),
        updated_at=updated,
        timeliness=pl.lit("before_due"),
        statutory_days=pl.lit(None, pl.Int16),
        statutory_due_date=pl.lit(None, pl.Date),
        due_date_check=pl.lit(None, pl.String),
        source=pl.lit("bench.xlsx"),
        source_row=pl.Series(idx + 2),
        row_hash=pl.Series(idx).cast(pl.String),
        **{f"{d}_date_fault": pl.lit(None, pl.String)
           for d in ("submitted", "due", "finished", "returned")},
        received_date_fault=pl.when(pl.lit(br("received"))).then(pl.lit("unreadable")),
    )
    core = core.select(pl.col(n).cast(t) for n, t in core_schema().items())
    raw = _raw_from_core(core, br("status_label"), br("received"))
    return core, raw, counts


def _raw_from_core(
    core: pl.DataFrame, status_label: np.ndarray, bad_date: np.ndarray
) -> pl.DataFrame:
    """Raw text as an export would show it; unparseable values keep their text."""
    fmt = "%d/%m/%Y %H:%M"
    t = CORE_ONESTOP_DOSSIERS
    exprs: dict[str, pl.Expr] = {}
    for c in t.columns:
        if not c.source_field or c.source_field in exprs or c.name not in core.columns:
            continue
        col = pl.col(c.name)
        if c.type == "TIMESTAMPTZ":
            col = col.dt.convert_time_zone("Asia/Ho_Chi_Minh").dt.strftime(fmt)
        elif c.type == "DATE":
            col = col.dt.strftime("%d/%m/%Y")
        exprs[c.source_field] = col.cast(pl.String)
    exprs["TrangThaiHoSo"] = (
        pl.when(pl.lit(status_label))
        .then(pl.lit("Đang chờ"))
        .otherwise(pl.col("status").cast(pl.String))
    )
    exprs["NgayTiepNhan"] = (
        pl.when(pl.lit(bad_date)).then(pl.lit("31/02/2021")).otherwise(exprs["NgayTiepNhan"])
    )
    exprs["MaTTHC"] = pl.col("procedure_code_raw")
    raw = core.select(
        *(exprs.get(f, pl.lit(None, pl.String)).alias(f) for f in RAW_FIELDS),
        pl.lit("bench.xlsx").alias(SOURCE_COLUMN),
        pl.col("source_row").alias(SOURCE_ROW_COLUMN),
    )
    return raw
