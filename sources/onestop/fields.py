"""The one-stop system's dossier fields: API keys and the Vietnamese headers of file exports.

The pull API (docs/source-systems.md §1–2) names fields in PascalCase Vietnamese; the
dossier-list exports (§5) carry the report screen's Vietnamese headers in the same order.
Readers map headers to API keys, so every later stage sees one set of raw field names whatever
the source.
"""

from __future__ import annotations

from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN, FieldSet

# (API key, file-export header), in the export's column order (after "STT").
DOSSIER_FIELDS: tuple[tuple[str, str], ...] = (
    ("MaHoSo", "Mã hồ sơ"),
    ("MaTTHC", "Mã TTHC"),
    ("TenTTHC", "Tên thủ tục"),
    ("TenLinhVuc", "Lĩnh vực"),
    ("MucDo", "Mức độ"),
    ("TenDonVi", "Đơn vị tiếp nhận"),
    ("MaDVHC", "Mã ĐVHC"),
    ("KenhThucHien", "Kênh nộp"),
    ("LoaiDoiTuong", "Đối tượng"),
    ("ChuHoSo", "Chủ hồ sơ"),
    ("SoGiayTo", "Số giấy tờ"),
    ("SoDienThoai", "Số điện thoại"),
    ("NgayNopHoSo", "Ngày nộp"),
    ("NgayTiepNhan", "Ngày tiếp nhận"),
    ("NgayHenTra", "Ngày hẹn trả"),
    ("NgayKetThucXuLy", "Ngày hoàn thành"),
    ("NgayTra", "Ngày trả kết quả"),
    ("TrangThaiHoSo", "Trạng thái"),
    ("TrangThaiSoHoa", "Số hóa"),
    ("KetQuaDienTu", "Kết quả điện tử"),
    ("ThanhToanTrucTuyen", "Thanh toán trực tuyến"),
    ("DanhGia", "Đánh giá"),
    ("NgayCapNhat", "Ngày cập nhật"),
)

# Fields the API has but the file export does not (they stay null for file loads).
API_ONLY_FIELDS: tuple[str, ...] = ("MaLinhVuc", "MaDonVi")

# Every raw field, in a fixed order: the columns of the raw and quarantine tables.
RAW_FIELDS: tuple[str, ...] = tuple(k for k, _ in DOSSIER_FIELDS) + API_ONLY_FIELDS

# Personal data (Decree 13/2023): the applicant.
PII_FIELDS: tuple[str, ...] = ("ChuHoSo", "SoGiayTo", "SoDienThoai")

# Fields without which a batch cannot be interpreted at all (batch gate: stop the load).
REQUIRED_FIELDS: tuple[str, ...] = (
    "MaHoSo",
    "TenDonVi",
    "KenhThucHien",
    "NgayTiepNhan",
    "NgayHenTra",
    "NgayKetThucXuLy",
    "TrangThaiHoSo",
    "NgayCapNhat",
)

# Other header labels seen for the same fields on provincial report screens (matched like the
# export's own labels: NFC, case-folded, trimmed). API keys are accepted as labels as well.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "MaHoSo": ("Mã số hồ sơ", "Số hồ sơ"),
    "MaTTHC": ("Mã thủ tục", "Mã thủ tục hành chính"),
    "TenTTHC": ("Tên TTHC", "Tên thủ tục hành chính", "Thủ tục hành chính"),
    "TenLinhVuc": ("Tên lĩnh vực",),
    "MucDo": ("Mức độ DVC", "Mức độ dịch vụ công"),
    "TenDonVi": ("Cơ quan tiếp nhận", "Đơn vị"),
    "MaDVHC": ("Mã đơn vị hành chính",),
    "KenhThucHien": ("Kênh thực hiện", "Hình thức nộp"),
    "LoaiDoiTuong": ("Loại đối tượng",),
    "SoGiayTo": ("Số CCCD", "Số CMND/CCCD", "Số định danh"),
    "NgayNopHoSo": ("Ngày nộp hồ sơ",),
    "NgayHenTra": ("Ngày hẹn trả kết quả",),
    "NgayKetThucXuLy": ("Ngày kết thúc xử lý", "Ngày xử lý xong"),
    "NgayTra": ("Ngày trả",),
    "TrangThaiHoSo": ("Trạng thái hồ sơ",),
    "TrangThaiSoHoa": ("Trạng thái số hóa",),
    "DanhGia": ("Mức độ hài lòng",),
}

# Row-number columns of exports: recognised as part of the header, then dropped.
DROPPED_HEADERS: tuple[str, ...] = ("STT", "Số thứ tự", "TT")

DOSSIER_FIELDSET = FieldSet(DOSSIER_FIELDS, API_ONLY_FIELDS, REQUIRED_FIELDS, aliases=HEADER_ALIASES,
                            dropped_headers=DROPPED_HEADERS, pii=PII_FIELDS)

__all__ = [
    "API_ONLY_FIELDS", "DOSSIER_FIELDS", "DOSSIER_FIELDSET", "DROPPED_HEADERS", "HEADER_ALIASES",
    "PII_FIELDS", "RAW_FIELDS", "REQUIRED_FIELDS", "SOURCE_COLUMN", "SOURCE_ROW_COLUMN",
]
