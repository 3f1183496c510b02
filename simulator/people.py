"""Fake applicants: Kinh and Jrai names, businesses, 12-digit identity numbers, phones.

All of it is invented (personal data under Decree 13/2023 must never be real). Names are built
by gathering from small word lists, so a million applicants take well under a second.
"""

from __future__ import annotations

import numpy as np
import polars as pl

KINH_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
               "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương")
KINH_FAMILY_P = (0.32, 0.11, 0.09, 0.07, 0.05, 0.04, 0.04, 0.04, 0.04, 0.03, 0.03, 0.03, 0.02,
                 0.02, 0.02, 0.02, 0.02, 0.01)
MIDDLE_M = ("Văn", "Đức", "Minh", "Quốc", "Hữu", "Thanh", "Công", "Ngọc", "Xuân")
MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Thùy", "Hồng", "Phương")
GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Hùng", "Hải", "Long", "Minh", "Nam", "Phúc", "Quang",
           "Sơn", "Thắng", "Trung", "Tuấn", "Việt", "Khánh", "Lộc", "Đạt", "Hiếu")
GIVEN_F = ("Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga",
           "Ngọc", "Phương", "Thảo", "Trang", "Yến", "Nhung", "Huyền", "Thủy", "Vân")
JRAI_FAMILY = ("Ksor", "Rơ Mah", "Siu", "Kpă", "Nay", "Rơ Lan", "Rcom", "Puih", "Kpuih", "Rah Lan")
JRAI_GIVEN_M = ("Thuận", "Blưk", "Hyơn", "Đinh", "Tuấn", "Ngưu", "Yă", "Hlim", "Pui", "Khuyên",
                "Dương", "Nhăm", "Prông", "Bơl")
JRAI_GIVEN_F = ("H'Bia", "H'Hen", "H'Yer", "H'Lel", "H'Nhi", "H'Blăh", "H'Đơm", "H'Jút", "H'Mai",
                "H'Luân", "H'Prăk", "H'Nga")
BUSINESS = ("Công ty TNHH Xây dựng Phú Túc", "Công ty TNHH MTV Thương mại Dịch vụ Krông Pa",
            "Công ty TNHH Nông sản Ia Rsươm", "Công ty Cổ phần Mía đường Ayun Pa",
            "Công ty TNHH Vận tải Đất Bằng", "Công ty TNHH MTV Gỗ Chư Drăng",
            "Doanh nghiệp tư nhân Hưng Thịnh", "Công ty TNHH Điện mặt trời Krông Pa")
ORGANISATIONS = ("Hợp tác xã Nông nghiệp Phú Cần", "Trường Tiểu học Lê Lợi",
                 "Trường THCS Nguyễn Du", "Hội Nông dân xã Chư Ngọc",
                 "Chi đoàn thôn Quỳnh 1", "Hợp tác xã Dịch vụ nông nghiệp Uar",
                 "Trạm Y tế xã Ia Rmok", "Hội Phụ nữ thị trấn Phú Túc")
PHONE_PREFIXES = ("090", "091", "093", "094", "096", "097", "098", "086", "032", "033", "034",
                  "035", "036", "037", "038", "039", "070", "077", "079", "081", "082", "083",
                  "084", "085", "088", "0269")

APPLICANT_TYPES = ("CongDan", "DoanhNghiep", "ToChuc")


def _pick(words: tuple[str, ...], idx: np.ndarray) -> pl.Series:
    return pl.Series(words, dtype=pl.String).gather(idx)


def person_names(rng: np.random.Generator, n: int, jrai_share: float = 0.42) -> pl.Series:
    """Full names: Kinh "Family Middle Given" or Jrai "Family Given" (women's given names H'…)."""
    female = rng.random(n) < 0.5
    jrai = rng.random(n) < jrai_share
    fam = _pick(KINH_FAMILY, rng.choice(len(KINH_FAMILY), n, p=np.array(KINH_FAMILY_P) / sum(KINH_FAMILY_P)))
    mid = pl.select(pl.when(pl.Series(female)).then(_pick(MIDDLE_F, rng.integers(0, len(MIDDLE_F), n)))
                    .otherwise(_pick(MIDDLE_M, rng.integers(0, len(MIDDLE_M), n)))).to_series()
    giv = pl.select(pl.when(pl.Series(female)).then(_pick(GIVEN_F, rng.integers(0, len(GIVEN_F), n)))
                    .otherwise(_pick(GIVEN_M, rng.integers(0, len(GIVEN_M), n)))).to_series()
    jfam = _pick(JRAI_FAMILY, rng.integers(0, len(JRAI_FAMILY), n))
    jgiv = pl.select(pl.when(pl.Series(female)).then(_pick(JRAI_GIVEN_F, rng.integers(0, len(JRAI_GIVEN_F), n)))
                     .otherwise(_pick(JRAI_GIVEN_M, rng.integers(0, len(JRAI_GIVEN_M), n)))).to_series()
    frame = pl.DataFrame({"j": jrai, "fam": fam, "mid": mid, "giv": giv, "jfam": jfam, "jgiv": jgiv})
    return frame.select(
        pl.when(pl.col("j")).then(pl.concat_str("jfam", pl.lit(" "), "jgiv"))
        .otherwise(pl.concat_str("fam", pl.lit(" "), "mid", pl.lit(" "), "giv")).alias("ChuHoSo")
    ).to_series()


def identity_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """CCCD-shaped numbers: province of birth (064 Gia Lai, sometimes elsewhere), sex/century
    digit, two digits of the birth year, six random digits."""
    province = np.where(rng.random(n) < 0.85, 64, rng.choice([38, 40, 46, 52, 54, 66, 1, 79], n))
    born = rng.integers(1945, 2006, n)
    female = rng.random(n) < 0.5
    century = np.where(born >= 2000, 2, 0) + female
    tail = rng.integers(0, 1_000_000, n)
    value = province * 10**9 + century * 10**8 + (born % 100) * 10**6 + tail
    return pl.Series(value, dtype=pl.Int64).cast(pl.String).str.zfill(12)


def phones(rng: np.random.Generator, n: int) -> pl.Series:
    """Mobile numbers (10 digits) and a few landlines of Gia Lai (0269 + 7 digits)."""
    prefix = _pick(PHONE_PREFIXES, rng.integers(0, len(PHONE_PREFIXES), n))
    digits = pl.Series(rng.integers(0, 10_000_000, n), dtype=pl.Int64).cast(pl.String).str.zfill(7)
    return pl.select(pl.concat_str(prefix, digits)).to_series()


def applicants(rng: np.random.Generator, kind: np.ndarray) -> pl.DataFrame:
    """ChuHoSo, SoGiayTo, SoDienThoai for applicant kinds (index into APPLICANT_TYPES)."""
    n = len(kind)
    names = person_names(rng, n)
    biz = _pick(BUSINESS, rng.integers(0, len(BUSINESS), n))
    org = _pick(ORGANISATIONS, rng.integers(0, len(ORGANISATIONS), n))
    ids = identity_numbers(rng, n)
    tel = phones(rng, n)
    no_id = rng.random(n) < 0.03
    no_tel = rng.random(n) < 0.14
    frame = pl.DataFrame({"k": kind, "name": names, "biz": biz, "org": org, "id": ids, "tel": tel,
                          "no_id": no_id, "no_tel": no_tel})
    return frame.select(
        pl.when(pl.col("k") == 1).then("biz").when(pl.col("k") == 2).then("org").otherwise("name").alias("ChuHoSo"),
        pl.when(pl.col("no_id")).then(None).otherwise("id").alias("SoGiayTo"),
        pl.when(pl.col("no_tel")).then(None).otherwise("tel").alias("SoDienThoai"),
    )
