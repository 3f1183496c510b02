"""The e-document system's tables, declared once: raw versions, quarantine, current state.

DDL, polars schema and the Great Expectations suite are derived from these declarations
(``warehouse.ddl``, ``warehouse.schema``, ``expectations.suites``).
"""

from __future__ import annotations

from sources.eoffice.fields import PII_FIELDS, RAW_FIELDS
from sources.eoffice.vocabulary import (
    DIRECTION_LABELS,
    DOCUMENT_TYPES,
    SECRECY_LABELS,
    STATUS_LABELS,
    TRANSPORT_LABELS,
    URGENCY_LABELS,
)
from warehouse.layers import (
    WITHHELD,
    core_table,
    quarantine_table,
    raw_versions_table,
    updated_at_column,
)
from warehouse.schema import Check, Column, Severity, date_fault_column, unit_validity_columns

C, W = Severity.CRITICAL, Severity.WARNING
INCOMING = "direction == 'DEN'"

RAW_EOFFICE_DOCUMENT_VERSIONS = raw_versions_table(
    "raw_eoffice__document_versions", "document", RAW_FIELDS, PII_FIELDS, extra=(WITHHELD,)
)
QUARANTINE_EOFFICE_DOCUMENTS = quarantine_table(
    "quarantine_eoffice__documents", "document", RAW_FIELDS, PII_FIELDS, extra=(WITHHELD,)
)


def _coded(name: str, field: str, description: str, labels: dict, what: str) -> Column:
    """A coded column whose allowed values are the vocabulary's codes (critical when unknown)."""
    return Column(
        name, "VARCHAR", description, source_field=field,
        checks=(Check("not_null", C, f"{what} is missing or not a known value"),
                Check("in_set", C, f"{what} is not a known value", values=tuple(labels))),
    )


CORE_EOFFICE_DOCUMENTS = core_table(
    "core_eoffice__documents",
    "One row per official document (incoming or outgoing) in its newest known state.",
    key="document_id", suite="eoffice_documents",
    columns=(
        Column("document_id", "VARCHAR", "MaVanBan: the e-document system's id, unique; canonical (transforms.identifiers: "
               "NFKC, no invisible characters or spaces, '-' for dash look-alikes, upper case).",
               source_field="MaVanBan", nullable=False,
               checks=(Check("not_null", C, "document id is missing"),)),
        _coded("direction", "LoaiVanBan", "LoaiVanBan: DEN incoming, DI outgoing.", DIRECTION_LABELS,
               "direction (incoming DEN / outgoing DI)"),
        Column("body_unit_id", "VARCHAR", "MaDonVi: the register holder's identifier inside government systems.",
               source_field="MaDonVi"),
        Column("body_name", "VARCHAR", "TenDonVi, NFC: the body whose register holds the document.",
               source_field="TenDonVi"),
        Column("unit_code", "VARCHAR", "Statistics-office code of the register holder (dim_admin_unit).",
               source_field="MaDVHC",
               checks=(Check("not_null", C, "body not recognised (neither Mã ĐVHC nor the body name)"),)),
        Column("unit_code_source", "VARCHAR", "How unit_code was found: 'code' (MaDVHC) or 'name' (folded TenDonVi)."),
        *unit_validity_columns(),
        Column("incoming_number", "INTEGER", "SoDen: incoming register number, from 1 each year per body.",
               source_field="SoDen"),
        Column("outgoing_number", "INTEGER", "SoVanBan: outgoing number, from 1 each year per body.",
               source_field="SoVanBan"),
        Column("register_year", "SMALLINT",
               "Year the register number belongs to: of NgayDen (incoming) or NgayBanHanh (outgoing)."),
        Column("register_number_repeated", "BOOLEAN",
               "Another document of the same batch has the same (body, year, direction, number).",
               checks=(Check("in_set", W, "register number repeated within (body, year, direction)",
                             values=(False,)),)),
        Column("notation", "VARCHAR", "SoKyHieu: number and notation, e.g. 123/QĐ-UBND.", source_field="SoKyHieu"),
        Column("document_type", "VARCHAR",
               "TenLoaiVanBan, NFC; one of the 29 types of Decree 30/2020 art. 7 when recognised.",
               source_field="TenLoaiVanBan",
               checks=(Check("in_set", W, "document type is not one of the 29 types of Decree 30/2020",
                             values=DOCUMENT_TYPES),)),
        Column("issued_date", "DATE", "NgayBanHanh: issue date (local calendar day).", source_field="NgayBanHanh",
               checks=(Check("not_null", C, "issue date is missing or unreadable"),)),
        Column("received_date", "DATE", "NgayDen: day received (incoming).", source_field="NgayDen",
               checks=(Check("not_null", C, "reception date of an incoming document is missing or unreadable",
                             when=INCOMING),)),
        Column("issuing_body", "VARCHAR", "CoQuanBanHanh, NFC (empty for secret documents).",
               source_field="CoQuanBanHanh"),
        Column("summary", "VARCHAR", "TrichYeu, NFC (never stored for secret documents).", source_field="TrichYeu"),
        Column("signer", "VARCHAR", "NguoiKy (outgoing; personal data).", source_field="NguoiKy", pii=True),
        _coded("secrecy", "DoMat", "DoMat: Thuong, Mat, ToiMat, TuyetMat.", SECRECY_LABELS, "secrecy"),
        _coded("urgency", "DoKhan", "DoKhan: Thuong, Khan, ThuongKhan, HoaToc.", URGENCY_LABELS, "urgency"),
        Column("assigned_unit", "VARCHAR", "DonViXuLy: unit assigned to handle it (incoming).",
               source_field="DonViXuLy"),
        Column("deadline_date", "DATE", "HanXuLy: handling deadline (incoming).", source_field="HanXuLy"),
        Column("completed_date", "DATE", "NgayHoanThanh: day the handling was completed (incoming).",
               source_field="NgayHoanThanh",
               checks=(Check("pair_order", C, "handling completed before the document was received",
                             other="received_date"),)),
        # Unreadable or implausible dates (transforms.dates.date_fault_expr): CRITICAL.
        date_fault_column("issued_date_fault", "NgayBanHanh"),
        date_fault_column("received_date_fault", "NgayDen"),
        date_fault_column("deadline_date_fault", "HanXuLy"),
        date_fault_column("completed_date_fault", "NgayHoanThanh"),
        _coded("status", "TrangThai", "TrangThai: ChuaXuLy, DangXuLy, DaXuLy.", STATUS_LABELS, "handling status"),
        _coded("transport", "HinhThuc", "HinhThuc: DienTu electronic, Giay paper, CaHai both.", TRANSPORT_LABELS,
               "transport (electronic / paper / both)"),
        Column("digitally_signed", "BOOLEAN", "KySo: digitally signed.", source_field="KySo"),
        Column("linked_dossier_code", "VARCHAR", "MaHoSoLienKet: the dossier whose result this document carries (canonical, "
               "like dossier_code).",
               source_field="MaHoSoLienKet"),
        Column("secret_leak_dropped", "BOOLEAN",
               "A secret document arrived with fields the source must withhold; cchc dropped them.",
               checks=(Check("in_set", W, "secret document arrived with its summary or other withheld "
                             "fields (a leak at the source): they were dropped", values=(False,)),)),
        updated_at_column("NgayCapNhat, UTC; for a register export, the time the file was loaded."),
    ),
)

TABLES = (RAW_EOFFICE_DOCUMENT_VERSIONS, QUARANTINE_EOFFICE_DOCUMENTS, CORE_EOFFICE_DOCUMENTS)
