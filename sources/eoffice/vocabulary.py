"""The e-document system's coded values: API code -> the labels its screens and exports show.

Declared once: transforms map labels to codes from these tables, the GX suites take their
allowed values from them, the views and the console show the labels. Legal basis: Decree
30/2020/NĐ-CP (document types, art. 7; secrecy and urgency marks; registers). docs/source-systems.md §4.
"""

from __future__ import annotations

DIRECTION_LABELS: dict[str, tuple[str, ...]] = {
    "DEN": ("Văn bản đến", "Đến"),
    "DI": ("Văn bản đi", "Đi"),
}
SECRECY_LABELS: dict[str, tuple[str, ...]] = {
    "Thuong": ("Thường", "Không mật", "Bình thường"),
    "Mat": ("Mật",),
    "ToiMat": ("Tối mật",),
    "TuyetMat": ("Tuyệt mật",),
}
# Secrecy codes whose documents never leave the source in full.
SECRET_CODES: tuple[str, ...] = ("Mat", "ToiMat", "TuyetMat")
URGENCY_LABELS: dict[str, tuple[str, ...]] = {
    "Thuong": ("Thường", "Bình thường"),
    "Khan": ("Khẩn",),
    "ThuongKhan": ("Thượng khẩn",),
    "HoaToc": ("Hỏa tốc", "Hoả tốc"),
}
STATUS_LABELS: dict[str, tuple[str, ...]] = {
    "ChuaXuLy": ("Chưa xử lý",),
    "DangXuLy": ("Đang xử lý",),
    "DaXuLy": ("Đã xử lý", "Đã hoàn thành", "Hoàn thành"),
}
TRANSPORT_LABELS: dict[str, tuple[str, ...]] = {
    "DienTu": ("Điện tử", "Văn bản điện tử"),
    "Giay": ("Giấy", "Văn bản giấy"),
    "CaHai": ("Cả hai", "Điện tử và giấy", "Giấy và điện tử"),
}
# Transport codes that count as electronic exchange in the e-document report (columns 4, 11).
ELECTRONIC_CODES: tuple[str, ...] = ("DienTu", "CaHai")

# The 29 document types of Decree 30/2020/NĐ-CP, art. 7 (administrative documents).
DOCUMENT_TYPES: tuple[str, ...] = (
    "Nghị quyết", "Quyết định", "Chỉ thị", "Quy chế", "Quy định", "Thông cáo", "Thông báo",
    "Hướng dẫn", "Chương trình", "Kế hoạch", "Phương án", "Đề án", "Dự án", "Báo cáo",
    "Biên bản", "Tờ trình", "Hợp đồng", "Công văn", "Công điện", "Bản ghi nhớ",
    "Bản thỏa thuận", "Giấy ủy quyền", "Giấy mời", "Giấy giới thiệu", "Giấy nghỉ phép",
    "Phiếu gửi", "Phiếu chuyển", "Phiếu báo", "Thư công",
)
