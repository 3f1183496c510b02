"""The one-stop system's coded values: API code -> the labels its screens and exports show.

Declared once: ``transforms.labels`` maps labels to codes from these tables, the GX suites take
their allowed values from them (``sources.onestop.tables``), the views show the first label of
each code and test membership of the groups below (``{{label onestop.…}}`` and
``{{codes onestop.…}}`` in ``warehouse/views.sql``), and form 06, the timeliness class and the
console use the groups. The API sends the codes ("4", "CongDan", "RatHaiLong"); file exports
send the labels (docs/source-systems.md §4–5). Statuses and form 06 rules: docs/source-systems.md §2, docs/figures.md §4.

The first label of each code is the one shown; the others are spellings exports also use.
"""

from __future__ import annotations

# TrangThaiHoSo: the life of a dossier (docs/source-systems.md §2).
STATUS_LABELS: dict[int, tuple[str, ...]] = {
    1: ("Mới đăng ký",),
    2: ("Được tiếp nhận", "Đã tiếp nhận"),
    3: ("Không được tiếp nhận", "Từ chối tiếp nhận"),
    4: ("Đang xử lý", "Đang giải quyết"),
    5: ("Yêu cầu bổ sung giấy tờ", "Yêu cầu bổ sung"),
    6: ("Yêu cầu thực hiện nghĩa vụ tài chính", "Chờ thực hiện nghĩa vụ tài chính"),
    7: ("Công dân yêu cầu rút hồ sơ", "Rút hồ sơ"),
    8: ("Dừng xử lý",),
    9: ("Đã xử lý xong",),
    10: ("Đã trả kết quả",),
}
# KenhThucHien: how the dossier was submitted.
CHANNEL_LABELS: dict[int, tuple[str, ...]] = {
    1: ("Trực tiếp",),
    2: ("Trực tuyến",),
    3: ("Bưu chính công ích", "Dịch vụ bưu chính công ích", "Bưu chính", "BCCI"),
}
# MucDo: the online service level of the procedure.
SERVICE_LEVEL_LABELS: dict[int, tuple[str, ...]] = {
    2: ("Cung cấp thông tin", "Mức độ 2", "Mức 2"),
    3: ("Một phần", "Trực tuyến một phần", "Mức độ 3", "Mức 3"),
    4: ("Toàn trình", "Trực tuyến toàn trình", "Mức độ 4", "Mức 4"),
}
# LoaiDoiTuong: who applies.
APPLICANT_LABELS: dict[str, tuple[str, ...]] = {
    "CongDan": ("Công dân", "Cá nhân"),
    "DoanhNghiep": ("Doanh nghiệp",),
    "ToChuc": ("Tổ chức",),
}
# TrangThaiSoHoa: whether the dossier's papers were digitised or reused.
DIGITISATION_LABELS: dict[int, tuple[str, ...]] = {
    0: ("Chưa số hóa", "Không số hóa"),
    1: ("Đã số hóa",),
    2: ("Tái sử dụng thành phần", "Tái sử dụng thành phần hồ sơ"),
    3: ("Tái sử dụng kết quả",),
}
# DanhGia: the applicant's satisfaction rating.
RATING_LABELS: dict[str, tuple[str, ...]] = {
    "RatHaiLong": ("Rất hài lòng",),
    "HaiLong": ("Hài lòng",),
    "KhongHaiLong": ("Không hài lòng",),
}

# --- Status groups (docs/source-systems.md §2, docs/figures.md §4). Together NOT_RECEIVED, IN_PROGRESS, WITHDRAWN and FINISHED
# cover every status exactly once; WAITING is part of IN_PROGRESS.

# Never received: submitted online but not yet accepted (1), or refused at reception (3). No
# reception date is expected, and form 06 leaves them out of every column.
NOT_RECEIVED: tuple[int, ...] = (1, 3)
# Received and still being handled: accepted (2), processing (4) and the WAITING statuses.
IN_PROGRESS: tuple[int, ...] = (2, 4, 5, 6, 8)
# Waiting for the applicant's papers (5) or fees (6), or suspended (8): the clock is stopped, so
# form 06 counts them as not overdue (column 12) whatever their due day.
WAITING: tuple[int, ...] = (5, 6, 8)
# Withdrawn at the applicant's request: closed, counted resolved on time in form 06 (column 9),
# but not a finished case (no result, not in the electronic-result rate).
WITHDRAWN: tuple[int, ...] = (7,)
# Processing finished (9) or the result returned (10): closed with a result, compared with the
# due day in form 06 (columns 8–10).
FINISHED: tuple[int, ...] = (9, 10)

# --- Other groups the reports use.

# Channels that count as online submission (form 06 column 4; the rest is column 5).
ONLINE_CHANNELS: tuple[int, ...] = (2,)
# Service levels at which a procedure is offered online: partly (3, "Một phần") or fully (4,
# "Toàn trình"); level 2 only publishes information (online uptake, Decision 766/QĐ-TTg).
ONLINE_LEVELS: tuple[int, ...] = (3, 4)
# Digitisation states that count as digitised (the digitised rate, Decision 766/QĐ-TTg).
DIGITISED: tuple[int, ...] = (1, 2, 3)
# Ratings that count as satisfied (the satisfaction rate).
SATISFIED: tuple[str, ...] = ("RatHaiLong", "HaiLong")
