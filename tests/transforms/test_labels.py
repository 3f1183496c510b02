"""Codes and Vietnamese labels of the coded fields (docs/source-systems.md §4–5)."""

from __future__ import annotations

import polars as pl
import pytest
from transforms_samples import nfd

from transforms import labels
from transforms.legacy_text import encode_tcvn3, encode_vni


def _map(fn, values: list) -> list:
    return fn(pl.Series("x", values, dtype=pl.String)).to_list()


def test_status_codes_and_labels() -> None:
    for code, names in labels.STATUS_LABELS.items():
        first = names[0]
        assert (
            _map(
                labels.status, [str(code), first, first.upper(), f"  {first.lower()} ", nfd(first)]
            )
            == [code] * 5
        )
        assert _map(labels.status, [encode_tcvn3(first), encode_vni(first)]) == [code] * 2
    assert _map(labels.status, ["Đang chờ", "11", "0", None, "", "4.0"]) == [
        None,
        None,
        None,
        None,
        None,
        4,
    ]


@pytest.mark.parametrize(
    ("fn", "values", "expected"),
    [
        (
            labels.channel,
            ["1", "2", "3", "Trực tiếp", "Trực tuyến", "Bưu chính công ích", "Fax"],
            [1, 2, 3, 1, 2, 3, None],
        ),
        (
            labels.service_level,
            ["2", "3", "4", "Cung cấp thông tin", "Một phần", "Toàn trình", "5"],
            [2, 3, 4, 2, 3, 4, None],
        ),
        (
            labels.applicant_type,
            ["CongDan", "Công dân", "DoanhNghiep", "Doanh nghiệp", "ToChuc", "Tổ chức", "Khac"],
            ["CongDan", "CongDan", "DoanhNghiep", "DoanhNghiep", "ToChuc", "ToChuc", None],
        ),
        (
            labels.digitisation,
            [
                "0",
                "1",
                "2",
                "3",
                "Chưa số hóa",
                "Chưa số hoá",
                "Đã số hóa",
                "Tái sử dụng thành phần",
                "Tái sử dụng kết quả",
                "7",
            ],
            [0, 1, 2, 3, 0, 0, 1, 2, 3, None],
        ),
        (
            labels.boolean,
            ["true", "false", "1", "0", "Có", "Không", "CÓ", "khong", None],
            [True, False, True, False, True, False, True, None, None],
        ),
        (
            labels.rating,
            [
                "RatHaiLong",
                "HaiLong",
                "KhongHaiLong",
                "Rất hài lòng",
                "Hài lòng",
                "Không hài lòng",
                "",
                "BinhThuong",
            ],
            [
                "RatHaiLong",
                "HaiLong",
                "KhongHaiLong",
                "RatHaiLong",
                "HaiLong",
                "KhongHaiLong",
                None,
                None,
            ],
        ),
    ],
)
def test_coded_fields(fn, values: list, expected: list) -> None:
    assert _map(fn, values) == expected


def test_dtypes() -> None:
    assert labels.status(pl.Series(["1"])).dtype == pl.Int8
    assert labels.boolean(pl.Series(["Có"])).dtype == pl.Boolean
    assert labels.rating(pl.Series([None], dtype=pl.String)).dtype == pl.String


def test_old_and_new_tone_placement_share_a_key() -> None:
    assert labels.label_key("Chưa số hoá") == labels.label_key("Chưa số hóa")
    assert labels.label_key("Uỷ ban") == labels.label_key("Ủy ban")
