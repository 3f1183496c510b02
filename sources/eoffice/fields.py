"""The e-document system's fields: API keys and the Vietnamese headers of its register exports.

The pull API (``/eoffice/api/v1/documents``) names fields in PascalCase Vietnamese like the
one-stop system; the registers "Sổ đăng ký văn bản đến" / "Sổ đăng ký văn bản đi" carry the
report screen's Vietnamese headers. Readers map headers to API keys, so every later stage sees
one set of raw field names whatever the source. Field meanings: docs/source-systems.md §3.
"""

from __future__ import annotations

from sources.fields import FieldSet

# (API key, register-export header), in the export's column order (after "STT"). The incoming
# register has "Số đến" where the outgoing one has "Số văn bản"; both keep every other column
# (the incoming-only ones blank in the outgoing register).
DOCUMENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("SoDen", "Số đến"),
    ("SoVanBan", "Số văn bản"),
    ("NgayDen", "Ngày đến"),
    ("SoKyHieu", "Số ký hiệu"),
    ("NgayBanHanh", "Ngày ban hành"),
    ("TenLoaiVanBan", "Loại văn bản"),
    ("CoQuanBanHanh", "Cơ quan ban hành"),
    ("TrichYeu", "Trích yếu"),
    ("NguoiKy", "Người ký"),
    ("DoMat", "Độ mật"),
    ("DoKhan", "Độ khẩn"),
    ("DonViXuLy", "Đơn vị xử lý"),
    ("HanXuLy", "Hạn xử lý"),
    ("NgayHoanThanh", "Ngày hoàn thành"),
    ("TrangThai", "Trạng thái"),
    ("HinhThuc", "Hình thức"),
    ("KySo", "Ký số"),
    ("MaHoSoLienKet", "Mã hồ sơ liên kết"),
    ("MaVanBan", "Mã văn bản"),
    ("TenDonVi", "Đơn vị"),
    ("MaDVHC", "Mã ĐVHC"),
)

# Fields the API has but a register export does not: the direction comes from which register
# the file is (its number column and title), the update time is the time the file was loaded.
API_ONLY_FIELDS: tuple[str, ...] = ("LoaiVanBan", "MaDonVi", "NgayCapNhat")

RAW_FIELDS: tuple[str, ...] = tuple(k for k, _ in DOCUMENT_FIELDS) + API_ONLY_FIELDS

# Fields without which a batch cannot be interpreted (batch gate). A register export supplies
# LoaiVanBan from its register; NgayCapNhat is required from the API only.
REQUIRED_FIELDS: tuple[str, ...] = (
    "MaVanBan",
    "LoaiVanBan",
    "TenDonVi",
    "NgayBanHanh",
    "DoMat",
    "TrangThai",
    "HinhThuc",
)
API_REQUIRED_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + ("NgayCapNhat",)

# Personal data (Decree 13/2023): the signer of an outgoing document.
PII_FIELDS: tuple[str, ...] = ("NguoiKy",)

# What the source must withhold for a secret document (Mật, Tối mật, Tuyệt mật). A value that
# arrives anyway is a source-side leak: cchc drops it before anything stores it.
SECRET_WITHHELD_FIELDS: tuple[str, ...] = ("TrichYeu", "CoQuanBanHanh", "NguoiKy", "MaHoSoLienKet")

# Other header labels seen for the same fields (matched like the export's labels).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "SoDen": ("Số đến văn bản",),
    "SoVanBan": ("Số đi",),
    "SoKyHieu": ("Số, ký hiệu", "Số và ký hiệu", "Số/Ký hiệu"),
    "TenLoaiVanBan": ("Tên loại văn bản", "Tên loại"),
    "CoQuanBanHanh": ("Nơi ban hành", "Nơi gửi"),
    "DonViXuLy": ("Đơn vị, người xử lý", "Đơn vị xử lý chính"),
    "HanXuLy": ("Hạn giải quyết",),
    "HinhThuc": ("Hình thức gửi", "Hình thức nhận"),
    "MaVanBan": ("Mã định danh văn bản",),
    "TenDonVi": ("Cơ quan", "Đơn vị lưu sổ"),
}

DOCUMENT_FIELDSET = FieldSet(DOCUMENT_FIELDS, API_ONLY_FIELDS, REQUIRED_FIELDS, API_REQUIRED_FIELDS,
                             aliases=HEADER_ALIASES, pii=PII_FIELDS)
