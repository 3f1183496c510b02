"""What the simulated e-document system writes: document types, senders, departments, summaries,
and the Vietnamese labels its register exports show (Decree 30/2020/NĐ-CP; docs/source-systems.md §4).

Restated here because the simulator is a separate system: it shares no code with the pipeline.
"""

from __future__ import annotations

# The 29 types of Decree 30/2020 art. 7 with their notation abbreviations (appendix III; "" for
# the types whose notation carries no type: Công văn, Thư công), and relative frequencies in an
# incoming and an outgoing register of a district or commune people's committee.
DOC_TYPES: tuple[tuple[str, str, float, float], ...] = (
    # (name, abbreviation, weight incoming, weight outgoing)
    ("Nghị quyết", "NQ", 1.2, 0.3), ("Quyết định", "QĐ", 10.0, 22.0), ("Chỉ thị", "CT", 0.8, 0.3),
    ("Quy chế", "QC", 0.3, 0.4), ("Quy định", "QyĐ", 0.3, 0.2), ("Thông cáo", "TC", 0.1, 0.05),
    ("Thông báo", "TB", 8.0, 7.0), ("Hướng dẫn", "HD", 3.0, 1.0), ("Chương trình", "CTr", 1.0, 0.8),
    ("Kế hoạch", "KH", 8.0, 8.0), ("Phương án", "PA", 0.5, 0.8), ("Đề án", "ĐA", 0.4, 0.3),
    ("Dự án", "DA", 0.2, 0.1), ("Báo cáo", "BC", 5.0, 14.0), ("Biên bản", "BB", 0.8, 1.5),
    ("Tờ trình", "TTr", 1.0, 8.0), ("Hợp đồng", "HĐ", 0.3, 0.6), ("Công văn", "", 42.0, 30.0),
    ("Công điện", "CĐ", 1.0, 0.2), ("Bản ghi nhớ", "GN", 0.05, 0.05), ("Bản thỏa thuận", "TTh", 0.05, 0.05),
    ("Giấy ủy quyền", "GUQ", 0.1, 0.3), ("Giấy mời", "GM", 10.0, 5.0), ("Giấy giới thiệu", "GGT", 0.3, 1.2),
    ("Giấy nghỉ phép", "GNP", 0.05, 0.5), ("Phiếu gửi", "PG", 0.2, 0.3), ("Phiếu chuyển", "PC", 0.5, 0.2),
    ("Phiếu báo", "PB", 0.1, 0.1), ("Thư công", "", 0.1, 0.1),
)
TYPE_NAMES: tuple[str, ...] = tuple(t[0] for t in DOC_TYPES)
# Types that are not among the 29 (the "unknown type" warning case).
UNKNOWN_TYPES: tuple[str, ...] = ("Thư mời", "Phiếu trình", "Giấy xác nhận", "Lệnh", "Văn bản")
# Types that rarely carry a handling deadline when received (read for information).
INFO_TYPES: frozenset[str] = frozenset({"Giấy mời", "Thông báo", "Báo cáo", "Thông cáo", "Phiếu báo", "Phiếu gửi"})
# Outgoing types that may carry a dossier's result (MaHoSoLienKet).
RESULT_TYPES: frozenset[str] = frozenset({"Quyết định", "Công văn", "Giấy giới thiệu", "Thông báo"})
# Departments in the notation of a Công văn ("123/UBND-VP").
CV_DEPTS: tuple[str, ...] = ("VP", "KT", "VX", "NC", "TH", "NV", "TCKH", "TNMT")

# Senders of incoming documents: (name, notation), weight, for a district and for a commune.
SENDERS_DISTRICT: tuple[tuple[str, str, float], ...] = (
    ("UBND tỉnh Gia Lai", "UBND", 20.0), ("Văn phòng UBND tỉnh Gia Lai", "VP", 8.0),
    ("Sở Nội vụ tỉnh Gia Lai", "SNV", 6.0), ("Sở Tài chính tỉnh Gia Lai", "STC", 5.0),
    ("Sở Kế hoạch và Đầu tư tỉnh Gia Lai", "SKHĐT", 4.0), ("Sở Tư pháp tỉnh Gia Lai", "STP", 3.0),
    ("Sở Tài nguyên và Môi trường tỉnh Gia Lai", "STNMT", 4.0),
    ("Sở Nông nghiệp và Phát triển nông thôn tỉnh Gia Lai", "SNNPTNT", 4.0),
    ("Sở Giáo dục và Đào tạo tỉnh Gia Lai", "SGDĐT", 2.0), ("Sở Y tế tỉnh Gia Lai", "SYT", 3.0),
    ("Sở Lao động - Thương binh và Xã hội tỉnh Gia Lai", "SLĐTBXH", 3.0),
    ("Sở Thông tin và Truyền thông tỉnh Gia Lai", "STTTT", 2.0), ("Ban Dân tộc tỉnh Gia Lai", "BDT", 2.0),
    ("Công an tỉnh Gia Lai", "CAT", 1.5), ("Bộ Chỉ huy Quân sự tỉnh Gia Lai", "BCH", 1.0),
    ("Huyện ủy Krông Pa", "HU", 6.0), ("HĐND huyện Krông Pa", "HĐND", 2.0),
    ("Ủy ban MTTQ Việt Nam huyện Krông Pa", "MTTQ", 1.0), ("Công an huyện Krông Pa", "CAH", 1.5),
    ("UBND xã Uar", "UBND", 1.0), ("UBND xã Ia Rsai", "UBND", 1.0), ("UBND thị trấn Phú Túc", "UBND", 1.5),
    ("UBND xã Chư Ngọc", "UBND", 1.0), ("UBND xã Phú Cần", "UBND", 1.0),
)
SENDERS_COMMUNE: tuple[tuple[str, str, float], ...] = (
    ("UBND huyện Krông Pa", "UBND", 30.0), ("Văn phòng HĐND và UBND huyện Krông Pa", "VP", 8.0),
    ("Phòng Nội vụ huyện Krông Pa", "PNV", 5.0), ("Phòng Tài chính - Kế hoạch huyện Krông Pa", "TCKH", 5.0),
    ("Phòng Tài nguyên và Môi trường huyện Krông Pa", "TNMT", 4.0), ("Phòng Tư pháp huyện Krông Pa", "PTP", 3.0),
    ("Phòng Lao động - Thương binh và Xã hội huyện Krông Pa", "LĐTBXH", 4.0),
    ("Phòng Giáo dục và Đào tạo huyện Krông Pa", "PGDĐT", 2.0),
    ("Phòng Nông nghiệp và Phát triển nông thôn huyện Krông Pa", "NNPTNT", 3.0),
    ("Phòng Văn hóa và Thông tin huyện Krông Pa", "VHTT", 2.0), ("Phòng Dân tộc huyện Krông Pa", "PDT", 2.0),
    ("Công an huyện Krông Pa", "CAH", 2.0), ("Ban Chỉ huy Quân sự huyện Krông Pa", "BCHQS", 2.0),
    ("Huyện ủy Krông Pa", "HU", 4.0), ("Trung tâm Y tế huyện Krông Pa", "TTYT", 2.0),
    ("Chi cục Thuế khu vực Ayun Pa - Krông Pa", "CCT", 1.0),
)
DEPTS_DISTRICT: tuple[str, ...] = (
    "Văn phòng HĐND và UBND huyện", "Phòng Nội vụ", "Phòng Tài chính - Kế hoạch", "Phòng Tài nguyên và Môi trường",
    "Phòng Tư pháp", "Phòng Lao động - Thương binh và Xã hội", "Phòng Giáo dục và Đào tạo",
    "Phòng Kinh tế - Hạ tầng", "Phòng Nông nghiệp và Phát triển nông thôn", "Phòng Văn hóa và Thông tin",
    "Phòng Y tế", "Phòng Dân tộc", "Thanh tra huyện",
)
DEPTS_COMMUNE: tuple[str, ...] = (
    "Văn phòng - Thống kê", "Địa chính - Xây dựng", "Tư pháp - Hộ tịch", "Văn hóa - Xã hội",
    "Tài chính - Kế toán", "Công an xã", "Ban Chỉ huy Quân sự xã", "Chủ tịch UBND xã",
)

TOPICS: tuple[str, ...] = (
    "cải cách hành chính", "chuyển đổi số", "phòng, chống dịch COVID-19", "xây dựng nông thôn mới",
    "giảm nghèo bền vững", "quản lý đất đai", "phòng, chống thiên tai và tìm kiếm cứu nạn",
    "phòng cháy, chữa cháy rừng mùa khô", "tuyển chọn và gọi công dân nhập ngũ", "thu ngân sách nhà nước",
    "giải ngân vốn đầu tư công", "cấp giấy chứng nhận quyền sử dụng đất", "tiêm chủng vắc-xin phòng COVID-19",
    "bảo đảm an ninh, trật tự trên địa bàn", "Chương trình mục tiêu quốc gia vùng đồng bào dân tộc thiểu số",
    "cung cấp dịch vụ công trực tuyến", "triển khai Đề án 06 của Chính phủ", "công tác văn thư, lưu trữ",
    "rà soát văn bản quy phạm pháp luật", "phổ biến, giáo dục pháp luật",
    "bầu cử đại biểu Quốc hội và HĐND các cấp", "phòng, chống bệnh dịch tả lợn châu Phi", "trồng rừng tập trung",
    "chi trả chế độ cho người có công với cách mạng", "tiếp công dân định kỳ",
    "giải quyết đơn thư khiếu nại, tố cáo", "thống kê, kiểm kê đất đai", "rà soát hộ nghèo, hộ cận nghèo",
    "hỗ trợ người dân gặp khó khăn do đại dịch COVID-19", "tổ chức các hoạt động mừng Đảng, mừng Xuân",
    "sắp xếp thôn, buôn", "quản lý, bảo vệ rừng", "phát triển cây mì và cây mía", "sửa chữa đường giao thông nông thôn",
)
# Summary templates per type: (prefix, suffix kind: "" | "year" | "quarter" | "month").
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "Quyết định": (("Về việc phê duyệt kế hoạch ", "year"), ("Về việc thành lập Tổ công tác ", ""),
                   ("Về việc kiện toàn Ban Chỉ đạo ", ""), ("Về việc phân bổ kinh phí ", "year")),
    "Công văn": (("V/v ", ""), ("V/v đôn đốc ", ""), ("V/v hướng dẫn ", ""), ("V/v báo cáo ", "month")),
    "Báo cáo": (("Báo cáo kết quả ", "quarter"), ("Báo cáo tình hình ", "month"), ("Báo cáo tổng kết ", "year")),
    "Kế hoạch": (("Kế hoạch ", "year"), ("Kế hoạch triển khai ", "")),
    "Thông báo": (("Thông báo kết luận của Chủ tịch UBND về ", ""), ("Thông báo về việc ", "")),
    "Giấy mời": (("Mời dự họp về ", ""), ("Mời dự Hội nghị sơ kết ", "quarter")),
    "Tờ trình": (("Về việc đề nghị phê duyệt ", ""), ("Về việc đề nghị bổ sung kinh phí ", "year")),
    "": (("Về việc ", ""), ("Về ", "year")),
}

# Export labels (docs/source-systems.md §4): API code -> Vietnamese.
TRANSPORT = {"DienTu": "Điện tử", "Giay": "Giấy", "CaHai": "Cả hai"}
SECRECY = {"Thuong": "Thường", "Mat": "Mật", "ToiMat": "Tối mật", "TuyetMat": "Tuyệt mật"}
URGENCY = {"Thuong": "Thường", "Khan": "Khẩn", "ThuongKhan": "Thượng khẩn", "HoaToc": "Hỏa tốc"}
STATUS = {"ChuaXuLy": "Chưa xử lý", "DangXuLy": "Đang xử lý", "DaXuLy": "Đã xử lý"}
SECRET_CODES: tuple[str, ...] = ("Mat", "ToiMat", "TuyetMat")
ELECTRONIC_CODES: tuple[str, ...] = ("DienTu", "CaHai")
# Unknown values of the "unknown labels" extras, one field each.
UNKNOWN_LABELS: tuple[tuple[str, str], ...] = (
    ("DoMat", "MatCao"), ("DoKhan", "RatKhan"), ("TrangThai", "ChoDuyet"), ("HinhThuc", "Fax"),
    ("LoaiVanBan", "NOIBO"),
)

# Register exports: (API key, header) after "STT"; the number column depends on the register.
API_FIELDS: tuple[str, ...] = (
    "MaVanBan", "LoaiVanBan", "MaDonVi", "TenDonVi", "MaDVHC", "SoDen", "SoVanBan", "SoKyHieu", "TenLoaiVanBan",
    "NgayBanHanh", "NgayDen", "CoQuanBanHanh", "TrichYeu", "NguoiKy", "DoMat", "DoKhan", "DonViXuLy", "HanXuLy",
    "NgayHoanThanh", "TrangThai", "HinhThuc", "KySo", "MaHoSoLienKet", "NgayCapNhat",
)
DATE_FIELDS: tuple[str, ...] = ("NgayBanHanh", "NgayDen", "HanXuLy", "NgayHoanThanh")
TEXT_FIELDS: tuple[str, ...] = ("TenDonVi", "TenLoaiVanBan", "CoQuanBanHanh", "TrichYeu", "NguoiKy", "DonViXuLy")
INCOMING_ONLY: tuple[str, ...] = ("NgayDen", "DonViXuLy", "HanXuLy", "NgayHoanThanh")
REGISTER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_number", "Số đến"), ("NgayDen", "Ngày đến"), ("SoKyHieu", "Số ký hiệu"), ("NgayBanHanh", "Ngày ban hành"),
    ("TenLoaiVanBan", "Loại văn bản"), ("CoQuanBanHanh", "Cơ quan ban hành"), ("TrichYeu", "Trích yếu"),
    ("NguoiKy", "Người ký"), ("DoMat", "Độ mật"), ("DoKhan", "Độ khẩn"), ("DonViXuLy", "Đơn vị xử lý"),
    ("HanXuLy", "Hạn xử lý"), ("NgayHoanThanh", "Ngày hoàn thành"), ("TrangThai", "Trạng thái"),
    ("HinhThuc", "Hình thức"), ("KySo", "Ký số"), ("MaHoSoLienKet", "Mã hồ sơ liên kết"),
    ("MaVanBan", "Mã văn bản"), ("TenDonVi", "Đơn vị"), ("MaDVHC", "Mã ĐVHC"),
)


def register_headers(register: str) -> tuple[str, ...]:
    """The header row of the incoming ("den") or outgoing ("di") register export."""
    number = "Số đến" if register == "den" else "Số văn bản"
    return ("STT",) + tuple(number if k == "_number" else h for k, h in REGISTER_COLUMNS)


REGISTER_TITLE = {"den": "SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", "di": "SỔ ĐĂNG KÝ VĂN BẢN ĐI"}
REGISTER_OFFICE = "BỘ PHẬN VĂN THƯ"
