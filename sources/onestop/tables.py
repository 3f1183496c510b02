"""The one-stop system's tables, declared once: raw versions, quarantine, current state.

DDL, polars schema and the Great Expectations suite are derived from these declarations
(``warehouse.ddl``, ``warehouse.schema``, ``expectations.suites``); the allowed values of the
coded columns and the statuses that were never received come from ``sources.onestop.vocabulary``.
"""

from __future__ import annotations

from sources.onestop.fields import PII_FIELDS, RAW_FIELDS
from sources.onestop.vocabulary import (
    APPLICANT_LABELS,
    CHANNEL_LABELS,
    DIGITISATION_LABELS,
    NOT_RECEIVED,
    RATING_LABELS,
    SERVICE_LEVEL_LABELS,
    STATUS_LABELS,
)
from warehouse.layers import core_table, quarantine_table, raw_versions_table, updated_at_column
from warehouse.schema import Check, Column, Severity, date_fault_column, unit_validity_columns

C, W = Severity.CRITICAL, Severity.WARNING

# The statuses NOT_RECEIVED (1 submitted online, not yet accepted; 3 refused at reception) were
# never received: no reception date is expected and form 06 leaves them out of every column.
# A pandas query string (GX row_condition): "status not in [1, 3]".
RECEIVED = f"status not in {list(NOT_RECEIVED)}"

RAW_ONESTOP_DOSSIER_VERSIONS = raw_versions_table(
    "raw_onestop__dossier_versions", "dossier", RAW_FIELDS, PII_FIELDS
)
QUARANTINE_ONESTOP_DOSSIERS = quarantine_table(
    "quarantine_onestop__dossiers", "dossier", RAW_FIELDS, PII_FIELDS
)

CORE_ONESTOP_DOSSIERS = core_table(
    "core_onestop__dossiers",
    "One row per dossier in its newest known state, typed and resolved.",
    key="dossier_code", suite="onestop_dossiers",
    columns=(
        Column(
            "dossier_code", "VARCHAR",
            "MaHoSo: {unit identifier}-{yyMMdd}-{daily sequence}, canonical (transforms.identifiers: "
            "NFKC, no invisible characters or spaces, '-' for dash look-alikes, upper case).",
            source_field="MaHoSo", nullable=False,
            checks=(
                Check("not_null", C, "dossier code is missing"),
                Check("matches", W, "dossier code does not look like UNIT-yyMMdd-NNNN",
                      pattern=r"^[0-9A-Za-z.]+-\d{6}-\d{4,}$"),
            ),
        ),
        Column("procedure_code_raw", "VARCHAR", "MaTTHC exactly as the source gave it.", source_field="MaTTHC"),
        Column(
            "procedure_code", "VARCHAR", "National procedure code d.dddddd (suffix removed, lost trailing zeros restored).",
            source_field="MaTTHC",
            checks=(Check("matches", W, "procedure code is not of the form d.dddddd", pattern=r"^\d\.\d{6}$"),),
        ),
        Column("procedure_name", "VARCHAR", "TenTTHC, NFC.", source_field="TenTTHC"),
        Column("field_code", "VARCHAR", "MaLinhVuc (API only).", source_field="MaLinhVuc"),
        Column("field_name", "VARCHAR", "TenLinhVuc, NFC.", source_field="TenLinhVuc"),
        Column(
            "service_level", "TINYINT", "MucDo: 2 information, 3 partly online, 4 fully online.",
            source_field="MucDo",
            checks=(Check("in_set", W, "online service level is not 2, 3 or 4", values=tuple(SERVICE_LEVEL_LABELS)),),
        ),
        Column("receiving_unit_id", "VARCHAR", "MaDonVi: the unit identifier inside government systems.", source_field="MaDonVi"),
        Column("receiving_unit_name", "VARCHAR", "TenDonVi, NFC.", source_field="TenDonVi"),
        Column(
            "unit_code", "VARCHAR", "Statistics-office code of the receiving unit (dim_admin_unit).",
            source_field="MaDVHC",
            checks=(Check("not_null", C, "receiving unit not recognised (neither Mã ĐVHC nor the unit name)"),),
        ),
        Column("unit_code_source", "VARCHAR", "How unit_code was found: 'code' (MaDVHC) or 'name' (folded TenDonVi)."),
        *unit_validity_columns(),
        Column(
            "channel", "TINYINT", "KenhThucHien: 1 counter, 2 online, 3 postal.",
            source_field="KenhThucHien",
            checks=(Check("in_set", C, "submission channel is not counter, online or postal", values=tuple(CHANNEL_LABELS)),
                    Check("not_null", C, "submission channel is missing or unknown")),
        ),
        Column(
            "applicant_type", "VARCHAR", "LoaiDoiTuong: CongDan, DoanhNghiep, ToChuc.",
            source_field="LoaiDoiTuong",
            checks=(Check("in_set", W, "applicant type is unknown", values=tuple(APPLICANT_LABELS)),),
        ),
        Column("applicant_name", "VARCHAR", "ChuHoSo (personal data).", source_field="ChuHoSo", pii=True),
        Column(
            "applicant_id_number", "VARCHAR",
            "SoGiayTo as its keyed hash HMAC-SHA256 (64 hex digits; 'irregular:<hash>' when the "
            "number was not 12 digits): the number itself is never stored (sources/idhash.py).",
            source_field="SoGiayTo", pii=True,
            # The shape is judged before hashing: 'irregular:<hash>' fails, a bare hash passes.
            checks=(Check("matches", W, "identity number is not 12 digits",
                          pattern=r"^(?:[0-9a-f]{64}|\d{12})$"),),
        ),
        Column(
            "applicant_key", "VARCHAR",
            "The applicant's keyed hash of the identity number (HMAC-SHA256 hex, no prefix): count "
            "dossiers per applicant with it. Comparable only between rows hashed with one key.",
        ),
        Column("applicant_phone", "VARCHAR", "SoDienThoai (personal data).", source_field="SoDienThoai", pii=True),
        Column("submitted_at", "TIMESTAMPTZ", "NgayNopHoSo, UTC.", source_field="NgayNopHoSo"),
        Column(
            "received_at", "TIMESTAMPTZ", "NgayTiepNhan, UTC.", source_field="NgayTiepNhan",
            checks=(Check("not_null", C, "reception date is missing or unreadable", when=RECEIVED),),
        ),
        Column("due_at", "TIMESTAMPTZ", "NgayHenTra (appointment to return the result), UTC.", source_field="NgayHenTra"),
        Column("finished_at", "TIMESTAMPTZ", "NgayKetThucXuLy, UTC.", source_field="NgayKetThucXuLy"),
        Column("returned_at", "TIMESTAMPTZ", "NgayTra, UTC.", source_field="NgayTra"),
        Column("received_date", "DATE", "Calendar day of reception in Asia/Ho_Chi_Minh.", source_field="NgayTiepNhan"),
        Column(
            "due_date", "DATE", "Calendar day the result is due, Asia/Ho_Chi_Minh.", source_field="NgayHenTra",
            checks=(Check("not_null", W, "due date is missing: the vendor report counts it as on time", when=RECEIVED),),
        ),
        Column(
            "finished_date", "DATE", "Calendar day processing finished, Asia/Ho_Chi_Minh.",
            source_field="NgayKetThucXuLy",
            checks=(Check("pair_order", C, "processing finished before the dossier was received",
                          other="received_date"),),
        ),
        Column("returned_date", "DATE", "Calendar day the result was returned, Asia/Ho_Chi_Minh.", source_field="NgayTra"),
        # Unreadable or implausible dates (transforms.dates.date_fault_expr): CRITICAL.
        date_fault_column("submitted_date_fault", "NgayNopHoSo"),
        date_fault_column("received_date_fault", "NgayTiepNhan"),
        date_fault_column("due_date_fault", "NgayHenTra"),
        date_fault_column("finished_date_fault", "NgayKetThucXuLy"),
        date_fault_column("returned_date_fault", "NgayTra"),
        Column(
            "status", "TINYINT", "TrangThaiHoSo 1–10 (docs/source-systems.md §2).", source_field="TrangThaiHoSo",
            checks=(Check("not_null", C, "status is missing or not a known status"),
                    Check("in_set", C, "status is not a known status (1–10)", values=tuple(STATUS_LABELS))),
        ),
        Column(
            "digitisation", "TINYINT", "TrangThaiSoHoa: 0 none, 1 digitised, 2 reused component, 3 reused result.",
            source_field="TrangThaiSoHoa",
            checks=(Check("in_set", W, "digitisation state is not 0–3", values=tuple(DIGITISATION_LABELS)),),
        ),
        Column("electronic_result", "BOOLEAN", "KetQuaDienTu.", source_field="KetQuaDienTu"),
        Column("paid_online", "BOOLEAN", "ThanhToanTrucTuyen.", source_field="ThanhToanTrucTuyen"),
        Column(
            "rating", "VARCHAR", "DanhGia: RatHaiLong, HaiLong, KhongHaiLong.", source_field="DanhGia",
            checks=(Check("in_set", W, "satisfaction rating is unknown", values=tuple(RATING_LABELS)),),
        ),
        updated_at_column("NgayCapNhat, UTC: the newest version of a dossier wins."),
        Column(
            "timeliness", "VARCHAR",
            "Current class by calendar day: before_due, on_due, after_due (finished); "
            "open_within, open_overdue (in progress as of the load); no_due_date; not_received; withdrawn.",
        ),
        # Statutory handling time (transforms.statutory_due, docs/figures.md "Working days").
        Column("statutory_days", "SMALLINT",
               "The procedure's statutory handling time in working days (dim_procedure); null: not in the catalogue."),
        Column("statutory_due_date", "DATE",
               "received_date + statutory_days working days (from the first working day on or after reception)."),
        Column(
            "due_date_check", "VARCHAR",
            "due_date against statutory_due_date: matches, later, earlier; null when either is unknown. "
            "Timeliness always follows due_date.",
            source_field="NgayHenTra",
            checks=(
                Check("not_in_set", W, "due date is later than the procedure's statutory handling time "
                      "counted in working days from reception", values=("later",)),
                Check("not_in_set", W, "due date is earlier than the procedure's statutory handling time "
                      "counted in working days from reception", values=("earlier",)),
            ),
        ),
    ),
)

TABLES = (RAW_ONESTOP_DOSSIER_VERSIONS, QUARANTINE_ONESTOP_DOSSIERS, CORE_ONESTOP_DOSSIERS)
