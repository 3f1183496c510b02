"""RAW FRAME → CORE FRAME for one-stop dossiers (docs/architecture.md, "Contracts").

:func:`to_core` turns the text the sources delivered into the typed columns of
``core_onestop__dossiers`` (minus ``load_id`` and ``dq_warnings``, which the loader adds): one
output row per input row, in input order, nothing filtered (validation decides what is loaded).
A value that cannot be read becomes null; the raw frame keeps the text so a reason can quote it.

The same dossier gives the same core row whether it came through the API (codes, UTC ISO
instants, "true"/"false") or a file export (Vietnamese labels, local ``dd/mm/yyyy HH:MM`` or
Excel dates, "Có"/"Không", legacy TCVN3/VNI text): only ``source``, ``source_row`` and
``row_hash`` (a hash of the raw text) differ.

Order of work, and why:
1. ``row_hash`` from the raw values, before anything changes them (same bytes, same hash);
2. NFC and whitespace on every text field, then legacy-encoding repair of the fields that hold
   Vietnamese words (labels included, so "§· tr¶ kÕt qu¶" becomes a status); identifiers in
   their canonical spelling (``transforms.identifiers``: a code with a zero-width space, a
   hyphen look-alike, fullwidth digits or lower case is the same dossier), counted in a note;
3. parse codes, labels, dates; resolve the unit from the *repaired* name; say for each date
   field whether its text was unreadable or its day implausible (``*_date_fault``);
4. timeliness from the parsed status and days; the statutory due day from the procedure's
   handling time in working days, and whether the due date agrees (``transforms.statutory_due``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sources.idhash import applicant_key_expr
from sources.onestop.fields import RAW_FIELDS, SOURCE_COLUMN, SOURCE_ROW_COLUMN
from transforms import labels
from transforms.codes import procedure_code_expr
from transforms.context import CoreBatch, TransformContext
from transforms.dates import date_fault_expr, local_date_expr, parse_instants
from transforms.distinct import map_distinct
from transforms.hashing import row_hash
from transforms.identifiers import canonical_frame
from transforms.legacy_text import repair_frame
from transforms.statutory_due import statutory_due_columns
from transforms.text import clean_text_series
from transforms.timeliness import timeliness_expr
from transforms.units import resolve_units
from transforms.working_days import WorkingCalendar
from warehouse.tables import CORE_ONESTOP_DOSSIERS

# Columns the loader adds after validation: not part of the core frame.
LOADER_COLUMNS = ("load_id", "dq_warnings")

# Free text in Vietnamese: NFC, single spaces, legacy repair.
TEXT_FIELDS = ("TenTTHC", "TenLinhVuc", "TenDonVi", "ChuHoSo")
# Identifiers: canonical spelling (transforms.identifiers); True = case-insensitive, upper-cased.
ID_FIELDS = ("MaHoSo", "MaLinhVuc", "MaDonVi", "MaDVHC", "SoGiayTo", "SoDienThoai")
UPPER_CASE_IDS = ("MaHoSo", "MaDonVi", "MaDVHC")
# Coded fields whose file-export labels are Vietnamese words (repaired like free text).
LABEL_FIELDS = (
    "TrangThaiHoSo",
    "KenhThucHien",
    "MucDo",
    "LoaiDoiTuong",
    "TrangThaiSoHoa",
    "KetQuaDienTu",
    "ThanhToanTrucTuyen",
    "DanhGia",
)
# raw date field -> (instant column, local calendar-day column or None)
DATE_FIELDS: dict[str, tuple[str, str | None]] = {
    "NgayNopHoSo": ("submitted_at", None),
    "NgayTiepNhan": ("received_at", "received_date"),
    "NgayHenTra": ("due_at", "due_date"),
    "NgayKetThucXuLy": ("finished_at", "finished_date"),
    "NgayTra": ("returned_at", "returned_date"),
    "NgayCapNhat": ("updated_at", None),
}
# raw date field -> its fault column (transforms.dates.date_fault_expr). NgayCapNhat has none:
# a missing or unreadable update time is already critical (updated_at not_null).
DATE_FAULTS: dict[str, str] = {
    "NgayNopHoSo": "submitted_date_fault",
    "NgayTiepNhan": "received_date_fault",
    "NgayHenTra": "due_date_fault",
    "NgayKetThucXuLy": "finished_date_fault",
    "NgayTra": "returned_date_fault",
}


def core_schema() -> pl.Schema:
    """The core frame's columns and types: the declaration minus the loader's columns."""
    schema = CORE_ONESTOP_DOSSIERS.polars_schema()
    return pl.Schema({k: v for k, v in schema.items() if k not in LOADER_COLUMNS})


def _restore_leading_zero(s: pl.Series, digits: int) -> pl.Series:
    """Digits that went through a number cell: drop a ".0", put back one lost leading zero.

    Identity numbers (CCCD, 12 digits) start with a 0 province prefix and Vietnamese phone
    numbers with the trunk 0 (10 digits); a spreadsheet that reads them as numbers drops it.
    Only a value exactly one digit short is restored; anything else is left for validation.
    Only the suspicious cells (one digit short, or ending in ".0") are looked at closely.
    """
    suspect = ((s.str.len_bytes() == digits - 1) | s.str.ends_with(".0")).fill_null(False)
    if not suspect.any():
        return s
    idx = suspect.arg_true()
    x = s.gather(idx).str.replace(r"^(\d+)\.0+$", "${1}")
    x = pl.select(pl.when(x.str.contains(rf"^\d{{{digits - 1}}}$")).then("0" + x).otherwise(x))
    return s.clone().scatter(idx, x.to_series())


def _ensure_fields(raw: pl.DataFrame) -> pl.DataFrame:
    missing = [f for f in RAW_FIELDS if f not in raw.columns]
    extra = [pl.lit(None, dtype=pl.String).alias(f) for f in missing]
    for c in (SOURCE_COLUMN,):
        if c not in raw.columns:
            extra.append(pl.lit(None, dtype=pl.String).alias(c))
    if SOURCE_ROW_COLUMN not in raw.columns:
        extra.append(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW_COLUMN))
    return raw.with_columns(extra) if extra else raw


def to_core(
    raw: pl.DataFrame,
    units: pl.DataFrame,
    *,
    province_code: str,
    district_code: str | None,
    as_of: date,
    calendar: WorkingCalendar | None = None,
    procedures: pl.DataFrame | None = None,
    unit_codes: tuple[str, ...] = (),
) -> CoreBatch:
    """The CORE FRAME of a RAW FRAME (see the module docstring), with repair notes.

    ``units`` is ``dim_admin_unit`` (``aliases`` as a list of strings); ``province_code``,
    ``district_code`` and ``unit_codes`` scope unit resolution (``transforms.units``: the unit
    valid on the reception day); ``as_of`` is the day open dossiers are judged
    overdue against (the load's local date); ``calendar`` and ``procedures`` give the statutory
    due day (``transforms.statutory_due``; without them its columns are null).
    """
    raw = _ensure_fields(raw)
    hashes = row_hash(raw, RAW_FIELDS)

    # Labels are not cleaned here: the label maps fold case, spaces and NFC themselves.
    cleaned = raw.select(
        *(clean_text_series(raw[f].cast(pl.String)) for f in TEXT_FIELDS),
        *(raw[f].cast(pl.String) for f in LABEL_FIELDS),
        *(raw[f].cast(pl.String) for f in ID_FIELDS),
    )
    cleaned, repairs = repair_frame(cleaned, TEXT_FIELDS + LABEL_FIELDS)
    cleaned, code_notes = canonical_frame(cleaned, {f: f in UPPER_CASE_IDS for f in ID_FIELDS})

    columns: dict[str, pl.Series | pl.Expr] = {
        "dossier_code": cleaned["MaHoSo"],
        "procedure_code_raw": raw["MaTTHC"],
        "procedure_code": map_distinct(
            raw["MaTTHC"].cast(pl.String),
            lambda v: v.to_frame("c").select(procedure_code_expr(pl.col("c"))).to_series(),
            pl.String,
        ),
        "procedure_name": cleaned["TenTTHC"],
        "field_code": cleaned["MaLinhVuc"],
        "field_name": cleaned["TenLinhVuc"],
        "service_level": labels.service_level(cleaned["MucDo"]),
        "receiving_unit_id": cleaned["MaDonVi"],
        "receiving_unit_name": cleaned["TenDonVi"],
        "channel": labels.channel(cleaned["KenhThucHien"]),
        "applicant_type": labels.applicant_type(cleaned["LoaiDoiTuong"]),
        "applicant_name": cleaned["ChuHoSo"],
        # SoGiayTo arrives as its keyed hash (sources.onestop.redact, before staging).
        "applicant_id_number": (id_number := _restore_leading_zero(cleaned["SoGiayTo"], 12)),
        "applicant_key": id_number.to_frame("k").select(applicant_key_expr(pl.col("k"))).to_series(),
        "applicant_phone": _restore_leading_zero(cleaned["SoDienThoai"], 10),
        "status": labels.status(cleaned["TrangThaiHoSo"]),
        "digitisation": labels.digitisation(cleaned["TrangThaiSoHoa"]),
        "electronic_result": labels.boolean(cleaned["KetQuaDienTu"]),
        "paid_online": labels.boolean(cleaned["ThanhToanTrucTuyen"]),
        "rating": labels.rating(cleaned["DanhGia"]),
        "source": raw[SOURCE_COLUMN].cast(pl.String),
        "source_row": raw[SOURCE_ROW_COLUMN].cast(pl.Int64),
        "row_hash": hashes,
    }
    for raw_name, (instant, _) in DATE_FIELDS.items():
        columns[instant] = parse_instants(raw[raw_name])

    frame = pl.DataFrame({k: v.alias(k) for k, v in columns.items() if isinstance(v, pl.Series)})
    frame = frame.with_columns(
        local_date_expr(pl.col(instant)).alias(day)
        for instant, day in DATE_FIELDS.values()
        if day is not None
    )
    frame = frame.with_columns(
        date_fault_expr(
            pl.lit(raw[raw_name].cast(pl.String)),
            local_date_expr(pl.col(DATE_FIELDS[raw_name][0])),
            as_of,
        ).alias(fault)
        for raw_name, fault in DATE_FAULTS.items()
    )
    # The unit valid on the reception day (else submission; a date with a fault is no day): a
    # code reused after the 1 July 2025 reform names the old unit before it, the new one after.
    unit_day = frame.select(pl.coalesce(
        pl.when(pl.col("received_date_fault").is_null()).then(pl.col("received_date")),
        pl.when(pl.col("submitted_date_fault").is_null())
        .then(local_date_expr(pl.col("submitted_at"))),
    )).to_series()
    units_found = resolve_units(
        cleaned.select("MaDVHC", "TenDonVi"), units, province_code, district_code,
        day=unit_day, unit_codes=unit_codes,
    )
    frame = frame.with_columns(
        units_found.select("unit_code", "unit_valid_from", "unit_code_source", "unit_fault")
    )
    frame = frame.with_columns(
        timeliness_expr(pl.col("status"), pl.col("due_date"), pl.col("finished_date"), as_of).alias(
            "timeliness"
        )
    )
    frame = statutory_due_columns(frame, procedures, calendar)
    schema = core_schema()
    return CoreBatch(
        frame.select(pl.col(n).cast(t) for n, t in schema.items()), [*repairs, *code_notes]
    )


def transform(raw: pl.DataFrame, ctx: TransformContext) -> CoreBatch:
    """:func:`to_core` with the arguments every source's transform receives (``sources.spec``)."""
    return to_core(raw, ctx.units, province_code=ctx.province_code,
                   district_code=ctx.district_code, as_of=ctx.as_of,
                   calendar=ctx.calendar, procedures=ctx.procedures,
                   unit_codes=ctx.unit_codes)
