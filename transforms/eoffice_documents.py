"""RAW FRAME → CORE FRAME for e-office documents (docs/architecture.md, "Contracts").

:func:`to_core` turns the text the e-document source delivered (docs/source-systems.md §3) into the typed
columns of ``core_eoffice__documents`` (minus ``load_id`` and ``dq_warnings``, which the loader
adds): one output row per input row, in input order, nothing filtered. A value that cannot be
read becomes null; the raw frame keeps the text so a reason can quote it.

The same document gives the same core row whether it came through the API (codes,
``YYYY-MM-DD`` dates, UTC ``NgayCapNhat``, integers, ``true``/``false``) or a register export
(Vietnamese labels, ``dd/mm/yyyy`` text or Excel dates, numbers read as ``12.0``, "Có"/"Không",
NFD or legacy TCVN3/VNI text): only ``source``, ``source_row``, ``row_hash`` and, for a file,
``updated_at`` (the time the file was observed) differ.

Order of work, as for dossiers (``transforms.onestop_dossiers``):
1. ``row_hash`` from the raw values, before anything changes them;
2. NFC and whitespace on every text field, then legacy-encoding repair of the fields that hold
   Vietnamese words, labels included; identifiers in their canonical spelling
   (``transforms.identifiers``), counted in a note;
3. codes, labels, dates, numbers; the unit from the *repaired* body name; for each date field
   whether its text was unreadable or its day implausible (``*_date_fault``);
4. what needs several columns: register year and repeated register numbers, and the secrecy
   rule (a secret or unknown-secrecy document keeps no summary, issuing body, signer or linked
   dossier in the core frame either, whatever arrived: docs/source-systems.md §3).

The withholding of leaked secret fields happens before this, in the source
(``sources.eoffice.secrecy.withhold_secret_fields``); its ``_withheld`` column becomes
``secret_leak_dropped``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from sources.eoffice.fields import RAW_FIELDS
from sources.eoffice.tables import CORE_EOFFICE_DOCUMENTS
from sources.eoffice.vocabulary import (
    DIRECTION_LABELS,
    DOCUMENT_TYPES,
    SECRECY_LABELS,
    SECRET_CODES,
    STATUS_LABELS,
    TRANSPORT_LABELS,
    URGENCY_LABELS,
)
from sources.onestop.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN
from transforms import labels
from transforms.context import CoreBatch, TransformContext
from transforms.dates import UTC_DTYPE, date_fault_expr, parse_instants, parse_local_dates
from transforms.hashing import row_hash
from transforms.identifiers import canonical_frame
from transforms.legacy_text import repair_frame
from transforms.text import clean_text_series
from transforms.units import resolve_units

# Columns the loader adds after validation: not part of the core frame.
LOADER_COLUMNS = ("load_id", "dq_warnings")
# The source's note of fields it dropped from a secret document (names only).
WITHHELD_COLUMN = "_withheld"

# Free text in Vietnamese: NFC, single spaces, legacy repair.
TEXT_FIELDS = ("TenDonVi", "TenLoaiVanBan", "CoQuanBanHanh", "TrichYeu", "NguoiKy", "DonViXuLy")
# Identifiers and numbers: canonical spelling (transforms.identifiers). Document ids, the linked
# dossier code (it joins core_onestop__dossiers.dossier_code) and unit identifiers are
# case-insensitive: upper-cased. A notation keeps its case.
ID_FIELDS = ("MaVanBan", "MaDonVi", "MaDVHC", "SoKyHieu", "MaHoSoLienKet", "SoDen", "SoVanBan")
UPPER_CASE_IDS = ("MaVanBan", "MaDonVi", "MaDVHC", "MaHoSoLienKet")
# Coded fields whose export labels are Vietnamese words (repaired like free text).
LABEL_FIELDS = ("LoaiVanBan", "DoMat", "DoKhan", "TrangThai", "HinhThuc", "KySo")
# raw date field -> local calendar-day column
DATE_FIELDS: dict[str, str] = {
    "NgayBanHanh": "issued_date",
    "NgayDen": "received_date",
    "HanXuLy": "deadline_date",
    "NgayHoanThanh": "completed_date",
}
# raw date field -> its fault column (transforms.dates.date_fault_expr). NgayCapNhat has none:
# an unreadable update time stays null and is already critical (updated_at not_null).
DATE_FAULTS: dict[str, str] = {
    "NgayBanHanh": "issued_date_fault",
    "NgayDen": "received_date_fault",
    "HanXuLy": "deadline_date_fault",
    "NgayHoanThanh": "completed_date_fault",
}
# Core columns a secret (or unknown-secrecy) document never carries.
SECRET_COLUMNS = ("summary", "issuing_body", "signer", "linked_dossier_code")

DIRECTION = labels.build_map(DIRECTION_LABELS)
SECRECY = labels.build_map(SECRECY_LABELS)
URGENCY = labels.build_map(URGENCY_LABELS)
STATUS = labels.build_map(STATUS_LABELS)
TRANSPORT = labels.build_map(TRANSPORT_LABELS)
# Folded spelling (case, NFC, hoá/hóa, TCVN3, VNI) → canonical type name of Decree 30/2020.
DOCUMENT_TYPE = labels.build_map({t: (t,) for t in DOCUMENT_TYPES}, codes_as_text=False)


def core_schema() -> pl.Schema:
    """The core frame's columns and types: the declaration minus the loader's columns."""
    schema = CORE_EOFFICE_DOCUMENTS.polars_schema()
    return pl.Schema({k: v for k, v in schema.items() if k not in LOADER_COLUMNS})


def _ensure_fields(raw: pl.DataFrame) -> pl.DataFrame:
    extra = [pl.lit(None, dtype=pl.String).alias(f) for f in RAW_FIELDS if f not in raw.columns]
    if SOURCE_COLUMN not in raw.columns:
        extra.append(pl.lit(None, dtype=pl.String).alias(SOURCE_COLUMN))
    if SOURCE_ROW_COLUMN not in raw.columns:
        extra.append(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW_COLUMN))
    if WITHHELD_COLUMN not in raw.columns:
        extra.append(pl.lit(None, dtype=pl.String).alias(WITHHELD_COLUMN))
    return raw.with_columns(extra) if extra else raw


def _coded(
    repaired: pl.Series, original: pl.Series, mapping: dict, dtype: pl.DataType
) -> pl.Series:
    """Codes of a label column: the repaired text, else the text before repair.

    The label maps hold each label's TCVN3 and VNI spellings, so a short legacy label that the
    repair read in the wrong encoding (VNI "Chæ thò", "Chỉ thị", is also well-formed TCVN3
    "Chổ thũ") is still recognised from what the file said.
    """
    found = labels.map_labels(repaired, mapping, dtype)
    if found.null_count() == repaired.null_count():
        return found.alias(repaired.name)
    return found.fill_null(labels.map_labels(original, mapping, dtype)).alias(repaired.name)


def document_types(repaired: pl.Series, original: pl.Series | None = None) -> pl.Series:
    """The canonical Decree 30/2020 type name when recognised, else the text itself (cleaned).

    ``original`` is the text before legacy repair (see :func:`_coded`). An unknown type is kept
    so that the warning can quote it; null stays null.
    """
    found = _coded(repaired, repaired if original is None else original, DOCUMENT_TYPE, pl.String)
    return found.fill_null(repaired.cast(pl.String)).alias(repaired.name)


def register_numbers(s: pl.Series) -> pl.Series:
    """Register numbers from text: "12", " 12 ", "12.0" (a number cell) → 12; anything else null."""
    digits = s.cast(pl.String).str.extract(r"^\s*(\d{1,9})(?:\.0*)?\s*$", 1)
    return digits.cast(pl.Int32, strict=False).alias(s.name)


def _utc(moment: datetime) -> datetime:
    """A naive ``observed_at`` is taken as UTC (the context's contract); aware ones converted."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_core(raw: pl.DataFrame, ctx: TransformContext) -> CoreBatch:
    """The CORE FRAME of an e-document RAW FRAME (see the module docstring), with repair notes.

    ``raw`` has every field of ``sources.eoffice.fields.RAW_FIELDS`` as text (absent fields are
    taken as null), ``_source``, ``_source_row`` and optionally ``_withheld`` (the names of the
    fields the source withheld). ``ctx`` scopes unit resolution (``units``, ``province_code``,
    ``district_code``) and gives ``observed_at``, the version time of rows without NgayCapNhat.
    """
    raw = _ensure_fields(raw)
    hashes = row_hash(raw, RAW_FIELDS)

    # Labels are not cleaned here: the label maps fold case, spaces and NFC themselves.
    cleaned = raw.select(
        *(clean_text_series(raw[f].cast(pl.String)) for f in TEXT_FIELDS),
        *(raw[f].cast(pl.String) for f in LABEL_FIELDS),
        *(raw[f].cast(pl.String) for f in ID_FIELDS),
    )
    unrepaired = cleaned
    cleaned, repairs = repair_frame(cleaned, TEXT_FIELDS + LABEL_FIELDS)
    cleaned, code_notes = canonical_frame(cleaned, {f: f in UPPER_CASE_IDS for f in ID_FIELDS})

    def coded(field: str, mapping: dict, dtype: pl.DataType = pl.String) -> pl.Series:
        return _coded(cleaned[field], unrepaired[field], mapping, dtype)

    update_text = clean_text_series(raw["NgayCapNhat"].cast(pl.String), collapse=False)
    updated_at = parse_instants(update_text)
    observed = pl.lit(_utc(ctx.observed_at), dtype=UTC_DTYPE)

    columns: dict[str, pl.Series] = {
        "document_id": cleaned["MaVanBan"],
        "direction": coded("LoaiVanBan", DIRECTION),
        "body_unit_id": cleaned["MaDonVi"],
        "body_name": cleaned["TenDonVi"],
        "incoming_number": register_numbers(cleaned["SoDen"]),
        "outgoing_number": register_numbers(cleaned["SoVanBan"]),
        "notation": cleaned["SoKyHieu"],
        "document_type": document_types(cleaned["TenLoaiVanBan"], unrepaired["TenLoaiVanBan"]),
        "issuing_body": cleaned["CoQuanBanHanh"],
        "summary": cleaned["TrichYeu"],
        "signer": cleaned["NguoiKy"],
        "secrecy": coded("DoMat", SECRECY),
        "urgency": coded("DoKhan", URGENCY),
        "assigned_unit": cleaned["DonViXuLy"],
        "status": coded("TrangThai", STATUS),
        "transport": coded("HinhThuc", TRANSPORT),
        "digitally_signed": coded("KySo", labels.BOOLEAN, pl.Boolean),
        "linked_dossier_code": cleaned["MaHoSoLienKet"],
        "updated_at": updated_at,
        "_update_text": update_text,
        "_withheld": raw[WITHHELD_COLUMN].cast(pl.String),
        "source": raw[SOURCE_COLUMN].cast(pl.String),
        "source_row": raw[SOURCE_ROW_COLUMN].cast(pl.Int64),
        "row_hash": hashes,
    }
    for raw_name, day in DATE_FIELDS.items():
        columns[day] = parse_local_dates(raw[raw_name].cast(pl.String))
        columns[DATE_FAULTS[raw_name]] = (
            pl.select(date_fault_expr(pl.lit(raw[raw_name].cast(pl.String)),
                                      pl.lit(columns[day]), ctx.as_of))
            .to_series()
        )

    frame = pl.DataFrame([v.alias(k) for k, v in columns.items()])
    # The unit valid on the day the document entered its register (incoming: NgayDen;
    # outgoing: NgayBanHanh; a date with a fault is no day): codes reused after the 2025 reform.
    received = pl.when(pl.col("received_date_fault").is_null()).then(pl.col("received_date"))
    issued = pl.when(pl.col("issued_date_fault").is_null()).then(pl.col("issued_date"))
    unit_day = frame.select(
        pl.when(pl.col("direction") == "DI")
        .then(pl.coalesce(issued, received))
        .otherwise(pl.coalesce(received, issued))
    ).to_series()
    units_found = resolve_units(
        cleaned.select("MaDVHC", "TenDonVi"), ctx.units, ctx.province_code, ctx.district_code,
        day=unit_day, unit_codes=ctx.unit_codes,
    )
    frame = frame.with_columns(
        units_found.select("unit_code", "unit_valid_from", "unit_code_source", "unit_fault")
    )

    direction = pl.col("direction")
    secret = pl.col("secrecy").is_null() | pl.col("secrecy").is_in(list(SECRET_CODES))
    frame = frame.with_columns(
        pl.when(pl.col("_update_text").is_null())
        .then(observed)
        .otherwise(pl.col("updated_at"))
        .alias("updated_at"),
        pl.when(direction == "DEN")
        .then(pl.col("received_date").dt.year())
        .when(direction == "DI")
        .then(pl.col("issued_date").dt.year())
        .cast(pl.Int16)
        .alias("register_year"),
        (pl.col("_withheld").str.strip_chars().str.len_chars() > 0)
        .fill_null(False)
        .alias("secret_leak_dropped"),
        *(pl.when(secret).then(None).otherwise(pl.col(c)).alias(c) for c in SECRET_COLUMNS),
    )
    number = (
        pl.when(direction == "DEN")
        .then(pl.col("incoming_number"))
        .when(direction == "DI")
        .then(pl.col("outgoing_number"))
    )
    frame = frame.with_columns(number.alias("_number"))
    register = ("unit_code", "register_year", "direction", "_number")
    keyed = pl.all_horizontal(pl.col(c).is_not_null() for c in register)
    # Versions of one document share its id: only a different id makes a repeat.
    frame = frame.with_columns(
        (keyed & (pl.col("document_id").n_unique().over(register) > 1))
        .fill_null(False)
        .alias("register_number_repeated")
    )
    schema = core_schema()
    return CoreBatch(
        frame.select(pl.col(n).cast(t) for n, t in schema.items()), [*repairs, *code_notes]
    )
