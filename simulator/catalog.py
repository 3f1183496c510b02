"""Procedures (TTHC) the simulated units handle, by field (lĩnh vực).

Names follow the national procedure catalogue's wording; the codes are SIMULATED but have the
real shape ``d.dddddd``, some with a local suffix (``.000.00.00.H21`` or ``.H21``) and a few with a
trailing zero (``1.001230``) so that readers that infer numbers lose it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FIELDS: dict[str, str] = {
    "HT": "Hộ tịch",
    "CT": "Chứng thực",
    "DD": "Đất đai",
    "TP": "Tư pháp",
    "BTXH": "Bảo trợ xã hội",
    "NCC": "Người có công",
    "VHTT": "Văn hóa - Thông tin",
    "HKD": "Thành lập và hoạt động của hộ kinh doanh",
    "XD": "Xây dựng",
    "GDDT": "Giáo dục và Đào tạo",
    "NN": "Nông nghiệp",
}

# Field codes as the simulated system stores them (MaLinhVuc): simulated, stable.
FIELD_CODES: dict[str, str] = {k: f"G21-{k}" for k in FIELDS}


@dataclass(frozen=True)
class Procedure:
    """One procedure as a level of government offers it."""

    code: str  # MaTTHC exactly as the system stores it (may carry a suffix)
    name: str
    field: str  # key of FIELDS
    level: int  # 2 information only, 3 partly online, 4 fully online
    days: int  # statutory handling time in working days (0: the same day)
    weight: float  # relative volume at its level of government


COMMUNE: tuple[Procedure, ...] = (
    Procedure("1.001193", "Đăng ký khai sinh", "HT", 4, 0, 12.0),
    Procedure("1.000656", "Đăng ký khai tử", "HT", 4, 0, 3.0),
    Procedure("1.000894", "Đăng ký kết hôn", "HT", 3, 0, 3.0),
    Procedure("1.004873.000.00.00.H21", "Cấp Giấy xác nhận tình trạng hôn nhân", "HT", 4, 3, 5.0),
    Procedure("1.004859", "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", "HT", 3, 3, 1.5),
    Procedure("1.004884", "Đăng ký lại khai sinh", "HT", 3, 5, 1.0),
    Procedure("2.000635.000.00.00.H21", "Cấp bản sao Trích lục hộ tịch", "HT", 4, 0, 4.0),
    Procedure("1.001230", "Đăng ký nhận cha, mẹ, con", "HT", 3, 3, 0.5),
    Procedure("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp", "CT", 2, 0, 30.0),
    Procedure("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "CT", 2, 0, 6.0),
    Procedure("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất và nhà ở", "CT", 2, 2, 4.0),
    Procedure("2.000913", "Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch", "CT", 2, 2, 0.5),
    Procedure("1.001776.H21", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", "BTXH", 3, 10, 1.5),
    Procedure("1.001758", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", "BTXH", 3, 5, 0.5),
    Procedure("1.010832", "Xác nhận hộ gia đình làm nông nghiệp, lâm nghiệp, ngư nghiệp và diêm nghiệp có mức sống trung bình", "NN", 3, 5, 0.8),
    Procedure("1.002519", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", "NCC", 3, 10, 0.4),
    Procedure("2.000440", "Xét tặng danh hiệu Gia đình văn hóa hằng năm", "VHTT", 2, 5, 0.6),
    Procedure("2.001481", "Hòa giải tranh chấp đất đai", "DD", 2, 30, 0.5),
    Procedure("2.000930", "Công nhận hòa giải viên", "TP", 2, 5, 0.2),
    Procedure("1.008901", "Thanh toán thù lao cho hòa giải viên", "TP", 2, 5, 0.2),
)

DISTRICT: tuple[Procedure, ...] = (
    Procedure("1.004227", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "DD", 3, 10, 10.0),
    Procedure("1.004238.000.00.00.H21", "Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất lần đầu", "DD", 3, 30, 4.0),
    Procedure("1.003010", "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền", "DD", 3, 15, 1.5),
    Procedure("1.001612", "Đăng ký thành lập hộ kinh doanh", "HKD", 4, 3, 3.0),
    Procedure("2.000720", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "HKD", 4, 3, 1.5),
    Procedure("1.009994.H21", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "XD", 3, 15, 1.5),
    Procedure("1.005099", "Chuyển trường đối với học sinh trung học cơ sở", "GDDT", 4, 3, 0.6),
    Procedure("2.000843", "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan nước ngoài cấp", "CT", 2, 0, 6.0),
    Procedure("1.001695", "Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực", "CT", 2, 2, 0.8),
    Procedure("2.000528", "Đăng ký khai sinh có yếu tố nước ngoài", "HT", 3, 10, 0.1),
    Procedure("1.010825", "Giải quyết chế độ ưu đãi đối với người có công với cách mạng", "NCC", 3, 20, 0.5),
    Procedure("1.001731", "Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở", "BTXH", 3, 10, 0.3),
    Procedure("1.004946", "Cấp giấy phép kinh doanh bán lẻ sản phẩm rượu", "HKD", 3, 10, 0.4),
)


def catalog() -> tuple[Procedure, ...]:
    """District procedures first, then commune ones."""
    return DISTRICT + COMMUNE


# The province's procedure catalogue as a CSV (what a real installation is given with the
# handling times; the pipeline reads it as dim_procedure, docs/figures.md "Working days").
CATALOGUE_HEADERS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MucDo", "ThoiHanGiaiQuyet", "Nguon")
CATALOGUE_SOURCE = "Danh mục TTHC mô phỏng (cchc simulator)"


def catalogue_rows() -> list[tuple[str, ...]]:
    """One row per procedure, in CATALOGUE_HEADERS order, all text (codes keep their zeros)."""
    return [(p.code, p.name, FIELD_CODES[p.field], FIELDS[p.field], str(p.level), str(p.days), CATALOGUE_SOURCE)
            for p in catalog()]


def write_catalogue(path: Path) -> int:
    """Write the catalogue CSV (UTF-8, no BOM, every value quoted); returns the rows written."""
    rows = catalogue_rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(CATALOGUE_HEADERS)
        writer.writerows(rows)
    return len(rows)
