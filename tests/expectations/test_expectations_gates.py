"""Batch gates stop a load with a reason a clerk can act on."""

from __future__ import annotations

import pytest

from expectations.gates import (
    GateFailure,
    check_columns,
    check_declared_total,
    check_not_empty,
    fold,
)
from sources.onestop.fields import (
    DOSSIER_FIELDSET,
    RAW_FIELDS,
    REQUIRED_FIELDS,
    SOURCE_COLUMN,
    SOURCE_ROW_COLUMN,
)

ALL = [*RAW_FIELDS, SOURCE_COLUMN, SOURCE_ROW_COLUMN]


def test_complete_columns_pass_quietly() -> None:
    report = check_columns(ALL, REQUIRED_FIELDS, "a.xlsx", DOSSIER_FIELDSET)
    assert report.unexpected == [] and report.notes == []


def test_missing_required_names_the_export_labels() -> None:
    cols = [c for c in ALL if c not in ("NgayHenTra", "TrangThaiHoSo")]
    with pytest.raises(GateFailure) as err:
        check_columns(cols, REQUIRED_FIELDS, "exports/ia-rsai.xlsx", DOSSIER_FIELDSET)
    reason = err.value.reason
    assert err.value.gate == "columns" and err.value.source == "exports/ia-rsai.xlsx"
    assert "'Ngày hẹn trả' (NgayHenTra)" in reason and "'Trạng thái' (TrangThaiHoSo)" in reason
    assert reason.startswith("exports/ia-rsai.xlsx: required columns missing")
    assert str(err.value) == reason


def test_missing_required_points_at_the_renamed_column() -> None:
    cols = [c for c in ALL if c != "NgayTiepNhan"] + ["Ngày tiếp nhận HS"]
    with pytest.raises(GateFailure) as err:
        check_columns(cols, REQUIRED_FIELDS, "f.csv", DOSSIER_FIELDSET)
    assert "(is 'Ngày tiếp nhận HS' the same column renamed?)" in err.value.reason


def test_optional_field_renamed_is_a_note_not_a_stop() -> None:
    cols = [c for c in ALL if c != "DanhGia"] + ["Đánh giá hài lòng", "Ghi chú"]
    report = check_columns(cols, REQUIRED_FIELDS, "f.csv", DOSSIER_FIELDSET)
    assert report.renamed == {"Đánh giá hài lòng": "DanhGia"}
    assert report.notes == [
        "column 'Đánh giá hài lòng' looks like 'Đánh giá' (DanhGia) renamed",
        "columns cchc does not know (ignored): 'Ghi chú'",
    ]


@pytest.mark.parametrize(
    ("rows", "reported", "fails"),
    [
        (10, 10, False),
        (0, 0, False),
        (10, None, False),
        (0, None, True),
        (0, 7, True),
        (6, 7, True),
    ],
)
def test_not_empty(rows: int, reported: int | None, fails: bool) -> None:
    if not fails:
        check_not_empty(rows, reported, "api window")
        return
    with pytest.raises(GateFailure) as err:
        check_not_empty(rows, reported, "api window")
    assert err.value.gate == "not_empty" and "Nothing was loaded" in err.value.reason


def test_declared_total_must_match_the_rows() -> None:
    check_declared_total(120, 120, "f.xlsx")
    check_declared_total(120, None, "f.xlsx")
    with pytest.raises(GateFailure) as err:
        check_declared_total(118, 120, "f.xlsx")
    assert "'Tổng số: 120 hồ sơ'" in err.value.reason and "118 dossier rows" in err.value.reason


def test_fold_ignores_case_marks_and_spacing() -> None:
    assert fold("Ngày Tiếp  Nhận") == fold("ngay tiep nhan") == "ngaytiepnhan"
    assert fold("Đơn vị") == "donvi"
