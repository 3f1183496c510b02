"""Every warehouse table, declared once (see ``warehouse.schema``).

Layers follow PUDL's naming: ``raw_<source>__<thing>`` keeps every version seen as text,
``core_<source>__<thing>`` one typed row per entity in its current state,
``quarantine_<source>__<thing>`` rows that cannot be trusted with their reasons, ``dim_*``
reference data, ``etl_*`` / ``dq_*`` the audit trail. Views (``out_*``) live in
``warehouse/views.sql``.
"""

from __future__ import annotations

from sources.onestop.fields import RAW_FIELDS
from warehouse.schema import Check, Column, Severity, Strategy, Table

C, W = Severity.CRITICAL, Severity.WARNING

# Statuses 1 (submitted online, not yet accepted) and 3 (refused at reception) were never
# received: no reception date is expected and form 06 leaves them out of every column.
RECEIVED = "status not in [1, 3]"

PROVENANCE: tuple[Column, ...] = (
    Column("load_id", "VARCHAR", "The load (etl_loads.load_id) that brought this row.", nullable=False),
    Column("source", "VARCHAR", "File path or API request the row came from."),
    Column("source_row", "BIGINT", "1-based row number in the file, or item ordinal in the pull."),
    Column("row_hash", "VARCHAR", "Hash of the raw field values: same content, same hash.", nullable=False),
)

_PII_RAW = {"ChuHoSo", "SoGiayTo", "SoDienThoai"}


def _raw_columns() -> tuple[Column, ...]:
    return tuple(
        Column(f, "VARCHAR", f"Raw value of {f} as the source gave it.", source_field=f, pii=f in _PII_RAW)
        for f in RAW_FIELDS
    )


RAW_ONESTOP_DOSSIER_VERSIONS = Table(
    name="raw_onestop__dossier_versions",
    description="Every distinct version of a dossier record seen in a pull or a file, as text.",
    columns=_raw_columns() + PROVENANCE,
    key=("row_hash",),
    strategy=Strategy.APPEND_NEW,
)

QUARANTINE_ONESTOP_DOSSIERS = Table(
    name="quarantine_onestop__dossiers",
    description="Dossier rows that failed a critical check: raw values, reasons, provenance.",
    columns=_raw_columns()
    + (Column("reasons", "VARCHAR[]", "Why the row was not loaded: field, value, rule."),)
    + PROVENANCE,
    key=("row_hash",),
    strategy=Strategy.APPEND_NEW,
)

CORE_ONESTOP_DOSSIERS = Table(
    name="core_onestop__dossiers",
    description="One row per dossier in its newest known state, typed and resolved.",
    key=("dossier_code",),
    strategy=Strategy.MERGE,
    version_column="updated_at",
    suite="onestop_dossiers",
    columns=(
        Column(
            "dossier_code", "VARCHAR", "MaHoSo: {unit identifier}-{yyMMdd}-{daily sequence}.",
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
            checks=(Check("in_set", W, "online service level is not 2, 3 or 4", values=(2, 3, 4)),),
        ),
        Column("receiving_unit_id", "VARCHAR", "MaDonVi: the unit identifier inside government systems.", source_field="MaDonVi"),
        Column("receiving_unit_name", "VARCHAR", "TenDonVi, NFC.", source_field="TenDonVi"),
        Column(
            "unit_code", "VARCHAR", "Statistics-office code of the receiving unit (dim_admin_unit).",
            source_field="MaDVHC",
            checks=(Check("not_null", C, "receiving unit not recognised (neither Mã ĐVHC nor the unit name)"),),
        ),
        Column("unit_code_source", "VARCHAR", "How unit_code was found: 'code' (MaDVHC) or 'name' (folded TenDonVi)."),
        Column(
            "channel", "TINYINT", "KenhThucHien: 1 counter, 2 online, 3 postal.",
            source_field="KenhThucHien",
            checks=(Check("in_set", C, "submission channel is not counter, online or postal", values=(1, 2, 3)),
                    Check("not_null", C, "submission channel is missing or unknown")),
        ),
        Column(
            "applicant_type", "VARCHAR", "LoaiDoiTuong: CongDan, DoanhNghiep, ToChuc.",
            source_field="LoaiDoiTuong",
            checks=(Check("in_set", W, "applicant type is unknown", values=("CongDan", "DoanhNghiep", "ToChuc")),),
        ),
        Column("applicant_name", "VARCHAR", "ChuHoSo (personal data).", source_field="ChuHoSo", pii=True),
        Column(
            "applicant_id_number", "VARCHAR", "SoGiayTo, 12-digit identity number (personal data).",
            source_field="SoGiayTo", pii=True,
            checks=(Check("matches", W, "identity number is not 12 digits", pattern=r"^\d{12}$"),),
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
        Column(
            "status", "TINYINT", "TrangThaiHoSo 1–10 (domain.md §3).", source_field="TrangThaiHoSo",
            checks=(Check("not_null", C, "status is missing or not a known status"),
                    Check("in_set", C, "status is not a known status (1–10)", values=tuple(range(1, 11)))),
        ),
        Column(
            "digitisation", "TINYINT", "TrangThaiSoHoa: 0 none, 1 digitised, 2 reused component, 3 reused result.",
            source_field="TrangThaiSoHoa",
            checks=(Check("in_set", W, "digitisation state is not 0–3", values=(0, 1, 2, 3)),),
        ),
        Column("electronic_result", "BOOLEAN", "KetQuaDienTu.", source_field="KetQuaDienTu"),
        Column("paid_online", "BOOLEAN", "ThanhToanTrucTuyen.", source_field="ThanhToanTrucTuyen"),
        Column(
            "rating", "VARCHAR", "DanhGia: RatHaiLong, HaiLong, KhongHaiLong.", source_field="DanhGia",
            checks=(Check("in_set", W, "satisfaction rating is unknown", values=("RatHaiLong", "HaiLong", "KhongHaiLong")),),
        ),
        Column(
            "updated_at", "TIMESTAMPTZ", "NgayCapNhat, UTC: the newest version of a dossier wins.",
            source_field="NgayCapNhat", nullable=False,
            checks=(Check("not_null", C, "last-update time is missing or unreadable"),),
        ),
        Column(
            "timeliness", "VARCHAR",
            "Current class by calendar day: before_due, on_due, after_due (finished); "
            "open_within, open_overdue (in progress as of the load); no_due_date; not_received; withdrawn.",
        ),
        Column("dq_warnings", "VARCHAR[]", "Reasons of the warning checks this row failed."),
    )
    + PROVENANCE,
)

DIM_ADMIN_UNIT = Table(
    name="dim_admin_unit",
    description="Administrative units, before and after the July 2025 reform, with name variants.",
    key=("unit_code",),
    strategy=Strategy.REPLACE,
    columns=(
        Column("unit_code", "VARCHAR", "Statistics-office code (text: leading zeros matter).", nullable=False),
        Column("name", "VARCHAR", "Official name, NFC, e.g. 'Xã Ia Rsươm'.", nullable=False),
        Column("level", "VARCHAR", "province, district, commune, ward or town."),
        Column("province_code", "VARCHAR", "Statistics-office code of the province."),
        Column("district_code", "VARCHAR", "Statistics-office code of the district (null after 2025)."),
        Column("valid_from", "DATE", "First day the unit existed in this form."),
        Column("valid_to", "DATE", "Last day the unit existed in this form (null: still exists)."),
        Column("successor_code", "VARCHAR", "Unit it merged into on 1 July 2025 (crosswalk)."),
        Column("aliases", "VARCHAR[]", "Other spellings seen in exports (Ia Dreh, IaRsươm, …)."),
    ),
)

ETL_LOADS = Table(
    name="etl_loads",
    description="One row per load: what came in, what happened to every row, how it ended.",
    key=("load_id",),
    strategy=Strategy.MERGE,
    columns=(
        Column("load_id", "VARCHAR", "Unique id of the load.", nullable=False),
        Column("source_system", "VARCHAR", "onestop or eoffice."),
        Column("kind", "VARCHAR", "pull or file."),
        Column("source", "VARCHAR", "The file path, or the API window pulled."),
        Column("file_sha256", "VARCHAR", "Content hash of a loaded file (same file twice is recognised)."),
        Column("window_from", "TIMESTAMPTZ", "Pull: updated_since (inclusive)."),
        Column("window_to", "TIMESTAMPTZ", "Pull: updated_until (exclusive)."),
        Column("started_at", "TIMESTAMPTZ", "When the load started."),
        Column("finished_at", "TIMESTAMPTZ", "When the load ended."),
        Column("status", "VARCHAR", "running, succeeded, failed, rejected, interrupted (the process died)."),
        Column("rows_in", "BIGINT", "Input rows (items pulled or data rows in the file)."),
        Column("rows_duplicate", "BIGINT", "Exact duplicates of another row of the same input."),
        Column("rows_loaded", "BIGINT", "Rows that passed the critical checks."),
        Column("rows_quarantined", "BIGINT", "Rows moved to quarantine."),
        Column("rows_warned", "BIGINT", "Loaded rows with at least one warning."),
        Column("rows_new_versions", "BIGINT", "Loaded rows not seen before (new raw versions)."),
        Column("core_inserted", "BIGINT", "Entities added to the core table."),
        Column("core_updated", "BIGINT", "Entities whose current state changed."),
        Column("message", "VARCHAR", "Why a load failed or was rejected; notes on conversions."),
    ),
)

ETL_WATERMARKS = Table(
    name="etl_watermarks",
    description="How far each stream has been pulled (exclusive upper bound of the last window).",
    key=("stream",),
    strategy=Strategy.MERGE,
    columns=(
        Column("stream", "VARCHAR", "e.g. onestop.dossiers.", nullable=False),
        Column("watermark", "TIMESTAMPTZ", "Next pull starts here.", nullable=False),
        Column("load_id", "VARCHAR", "The load that moved it."),
        Column("updated_at", "TIMESTAMPTZ", "When it moved."),
    ),
)

DQ_RESULTS = Table(
    name="dq_results",
    description="One row per expectation per load: how many rows it examined and failed.",
    strategy=Strategy.APPEND,
    columns=(
        Column("load_id", "VARCHAR", "The load validated.", nullable=False),
        Column("table_name", "VARCHAR", "Table whose suite ran."),
        Column("suite", "VARCHAR", "GX suite name."),
        Column("expectation", "VARCHAR", "GX expectation type."),
        Column("column_name", "VARCHAR", "Column checked."),
        Column("severity", "VARCHAR", "critical or warning."),
        Column("reason", "VARCHAR", "The check's reason sentence."),
        Column("success", "BOOLEAN", "True when no row failed."),
        Column("element_count", "BIGINT", "Rows examined."),
        Column("unexpected_count", "BIGINT", "Rows that failed."),
        Column("validated_at", "TIMESTAMPTZ", "When."),
    ),
)

DQ_ALERTS = Table(
    name="dq_alerts",
    description="Alerts raised: data wrong (warnings, gates) or missing (no fresh load).",
    strategy=Strategy.APPEND,
    columns=(
        Column("alert_id", "VARCHAR", "Unique id.", nullable=False),
        Column("raised_at", "TIMESTAMPTZ", "When."),
        Column("kind", "VARCHAR", "gate_failed, warnings, quarantine, stale_source, load_failed."),
        Column("severity", "VARCHAR", "critical or warning."),
        Column("source_system", "VARCHAR", "onestop or eoffice."),
        Column("load_id", "VARCHAR", "The load concerned, if any."),
        Column("message", "VARCHAR", "What a person reads."),
    ),
)

ALL_TABLES: tuple[Table, ...] = (
    RAW_ONESTOP_DOSSIER_VERSIONS,
    QUARANTINE_ONESTOP_DOSSIERS,
    CORE_ONESTOP_DOSSIERS,
    DIM_ADMIN_UNIT,
    ETL_LOADS,
    ETL_WATERMARKS,
    DQ_RESULTS,
    DQ_ALERTS,
)


def table(name: str) -> Table:
    """The declaration of a table by name."""
    for t in ALL_TABLES:
        if t.name == name:
            return t
    raise KeyError(name)
