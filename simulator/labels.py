"""Vietnamese labels the report screens and file exports show for codes (docs/source-systems.md §4)."""

from __future__ import annotations

STATUS = {1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
          5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính",
          7: "Công dân yêu cầu rút hồ sơ", 8: "Dừng xử lý", 9: "Đã xử lý xong", 10: "Đã trả kết quả"}
CHANNEL = {"1": "Trực tiếp", "2": "Trực tuyến", "3": "Bưu chính công ích"}
LEVEL = {"2": "Cung cấp thông tin", "3": "Một phần", "4": "Toàn trình"}
APPLICANT = {"CongDan": "Công dân", "DoanhNghiep": "Doanh nghiệp", "ToChuc": "Tổ chức"}
DIGITISATION = {0: "Chưa số hóa", 1: "Đã số hóa", 2: "Tái sử dụng thành phần", 3: "Tái sử dụng kết quả"}
YES_NO = {True: "Có", False: "Không"}
RATING = {"RatHaiLong": "Rất hài lòng", "HaiLong": "Hài lòng", "KhongHaiLong": "Không hài lòng"}

# (API key, export header) in the export's column order, after "STT" (same as the pipeline's
# sources.onestop.fields, restated here because the simulator is a separate system).
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("MaHoSo", "Mã hồ sơ"), ("MaTTHC", "Mã TTHC"), ("TenTTHC", "Tên thủ tục"), ("TenLinhVuc", "Lĩnh vực"),
    ("MucDo", "Mức độ"), ("TenDonVi", "Đơn vị tiếp nhận"), ("MaDVHC", "Mã ĐVHC"), ("KenhThucHien", "Kênh nộp"),
    ("LoaiDoiTuong", "Đối tượng"), ("ChuHoSo", "Chủ hồ sơ"), ("SoGiayTo", "Số giấy tờ"),
    ("SoDienThoai", "Số điện thoại"), ("NgayNopHoSo", "Ngày nộp"), ("NgayTiepNhan", "Ngày tiếp nhận"),
    ("NgayHenTra", "Ngày hẹn trả"), ("NgayKetThucXuLy", "Ngày hoàn thành"), ("NgayTra", "Ngày trả kết quả"),
    ("TrangThaiHoSo", "Trạng thái"), ("TrangThaiSoHoa", "Số hóa"), ("KetQuaDienTu", "Kết quả điện tử"),
    ("ThanhToanTrucTuyen", "Thanh toán trực tuyến"), ("DanhGia", "Đánh giá"), ("NgayCapNhat", "Ngày cập nhật"),
)
HEADERS: tuple[str, ...] = ("STT",) + tuple(h for _, h in EXPORT_COLUMNS)

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
TITLE = "DANH SÁCH HỒ SƠ TIẾP NHẬN VÀ GIẢI QUYẾT"
OFFICE = "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
SIGNER_ROLE = "Người lập biểu"
SIGNER_NAME = "Nguyễn Thị Hồng Nhung"
