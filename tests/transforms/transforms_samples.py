"""Real Vietnamese words and names for the transforms tests (NFC).

Chosen to cover every vowel with every tone, the old and new tone placements (hoà/hòa,
thuỷ/thủy), qu/gi onsets, three-vowel clusters, and the minority-language place names of
Krông Pa that do not follow Kinh spelling.
"""

from __future__ import annotations

import unicodedata

WORDS: tuple[str, ...] = tuple(
    """
    a à ả ã á ạ ăn ằm ẳng ẵm ắt ặc ân ầm ẩn ẫn ấm ậm em è ẻ ẽ é ẹ êm ề ể ễ ế ệ
    im ì ỉ ĩ í ị o ò ỏ õ ó ọ ôm ồ ổ ỗ ố ộ ơ ờ ở ỡ ớ ợ u ù ủ ũ ú ụ ư ừ ử ữ ứ ự
    y ỳ ỷ ỹ ý ỵ
    cộng hòa hoà xã hội chủ nghĩa việt nam độc lập tự do hạnh phúc
    ủy uỷ ban nhân dân huyện tỉnh thị trấn phường quận thành phố
    hộp mứt tết xin chào các bạn người được những trường đường giường
    giữa quốc quyết quý quỳnh khuya khuỷu ngoài ngoáy thoại hoạch hoặc
    tuổi suối hiếu yêu yến cứu hươu rượu thuở khuếch tuần xuân huế
    thủy thuỷ khỏe khoẻ hóa hoá tòa toà múa lửa gửi mía kìa của
    thủ tục hành chính hồ sơ tiếp nhận giải quyết trả kết quả đúng hạn trễ hạn
    đăng ký khai sinh kết hôn chứng thực bản sao từ chính đất đai tư pháp hộ tịch
    văn hóa thông tin lĩnh vực mức độ một phần toàn trình cung cấp
    trực tiếp trực tuyến bưu chính công ích công dân doanh nghiệp tổ chức
    mới được không đang xử lý yêu cầu bổ sung giấy tờ thực hiện nghĩa vụ tài chính
    rút dừng đã xong số hóa chưa tái sử dụng thành phần rất hài lòng có
    nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý
    văn thị minh thanh hương lan anh ánh tuấn dũng hùng phương thu hà
    nga hằng tâm tú út ý ước ẩn ơn ấn ân
    krông pa phú túc ia rsai rsươm chư gu đất bằng mlah mláh drăng cần hdreh dreh rmok
    ngọc uar rcăm năng gia lai đắk lắk kpă tóh púk
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Names as they are written in full (title case).
NAMES: tuple[str, ...] = (
    "Nguyễn Thị Ánh",
    "Trần Văn Út",
    "Lê Thị Ý",
    "Phạm Hữu Ước",
    "Hoàng Thị Ân",
    "Rơ Mah Thị Hằng",
    "Ksor Thị Tóh",
    "Đỗ Đức Ấn",
)

# Official names of the 14 units of Krông Pa and their spelling variants (docs/figures.md §2).
UNIT_VARIANTS: dict[str, tuple[str, ...]] = {
    "24076": ("Thị trấn Phú Túc", "TT Phú Túc", "UBND thị trấn Phú Túc", "Phu Tuc"),
    "24079": ("Xã Ia Rsai", "Ia RSai", "IaRsai", "UBND xã Ia Rsai"),
    "24082": (
        "Xã Ia Rsươm",
        "Ia RSươm",
        "IaRsươm",
        "UBND xã Ia Rsươm",
        "Ủy ban nhân dân xã Ia RSươm",
    ),
    "24085": ("Xã Chư Gu", "UBND xã Chư Gu", "Chu Gu"),
    "24088": ("Xã Đất Bằng", "UBND xã Đất Bằng", "Dat Bang"),
    "24091": ("Xã Ia Mlah", "Ia Mláh", "Ia Mlăh", "UBND xã Ia Mláh"),
    "24094": ("Xã Chư Drăng", "UBND xã Chư Drăng"),
    "24097": ("Xã Phú Cần", "UBND xã Phú Cần"),
    "24100": ("Xã Ia Hdreh", "Ia HDreh", "Ia Dreh", "UBND xã Ia Dreh", "IaHdreh"),
    "24103": ("Xã Ia Rmok", "Ia RMok", "UBND xã Ia Rmok"),
    "24106": ("Xã Chư Ngọc", "UBND xã Chư Ngọc"),
    "24109": ("Xã Uar", "UBND xã Uar", "UBND Xã UAR"),
    "24112": ("Xã Chư Rcăm", "Chư RCăm", "UBND xã Chư Rcăm"),
    "24115": ("Xã Krông Năng", "UBND xã Krông Năng"),
}


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)
