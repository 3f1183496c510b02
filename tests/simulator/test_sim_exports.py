"""File exports parse back: title block, exact header, rows, total, signature; CSV alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from simulator import labels
from simulator.exports import export_dossiers
from simulator.testing import simulated_dataset

MARCH = (date(2021, 3, 1), date(2021, 3, 31))


@pytest.fixture(scope="module")
def ds():
    return simulated_dataset()


def _sheet(path: Path) -> pl.DataFrame:
    return pl.read_excel(path, engine="calamine", has_header=False, infer_schema_length=0, drop_empty_rows=False)


def test_xlsx_layout(ds, tmp_path: Path) -> None:
    result = export_dossiers(tmp_path / "uar.xlsx", dataset=ds, unit="24109", date_from=MARCH[0],
                             date_to=MARCH[1])
    sheet = _sheet(result.path)
    col0 = sheet["column_0"].to_list()
    assert col0[0] == "UBND XÃ UAR" and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in sheet.row(0)
    assert "Độc lập - Tự do - Hạnh phúc" in sheet.row(1)
    assert col0[3] == labels.TITLE and col0[4] == "Từ ngày 01/03/2021 đến ngày 31/03/2021"
    assert list(sheet.row(6)) == list(labels.HEADERS)
    data = sheet.slice(7, result.rows)
    assert data["column_0"].to_list() == [str(i) for i in range(1, result.rows + 1)]
    assert col0[7 + result.rows] == f"Tổng số: {result.rows} hồ sơ"
    tail = [v for row in sheet.slice(8 + result.rows).iter_rows() for v in row if v]
    assert "Người lập biểu" in tail and labels.SIGNER_NAME in tail
    assert set(data["column_7"].drop_nulls()) <= {"24109"} and result.rows > 100
    assert data["column_14"].str.contains(r"^\d\d/\d\d/\d{4} \d\d:\d\d$").all()


def test_xlsx_values_are_vietnamese_labels(ds, tmp_path: Path) -> None:
    result = export_dossiers(tmp_path / "q1.xlsx", dataset=ds, date_from=date(2021, 1, 4), date_to=date(2021, 1, 8))
    data = _sheet(result.path).slice(7, result.rows)
    data.columns = list(labels.HEADERS)
    assert set(data["Kênh nộp"]) <= set(labels.CHANNEL.values())
    assert set(data["Mức độ"]) == set(labels.LEVEL.values())
    assert set(data["Đối tượng"]) <= set(labels.APPLICANT.values())
    assert set(data["Số hóa"]) <= set(labels.DIGITISATION.values())
    assert set(data["Kết quả điện tử"]) | set(data["Thanh toán trực tuyến"]) <= {"Có", "Không"}
    assert set(data["Đánh giá"].drop_nulls()) <= set(labels.RATING.values())
    known = set(labels.STATUS.values())
    assert "Đã trả kết quả" in set(data["Trạng thái"]) and set(data["Trạng thái"]) - known <= {"0", "99", "11", "Đang chờ", "DaTraKetQua"}
    assert data.height == result.rows


def test_excel_date_cells_and_codes_as_numbers(tmp_path: Path) -> None:
    assert simulated_dataset(codes_as_numbers=1.0) is simulated_dataset()  # files only: same data
    result = export_dossiers(tmp_path / "x.xlsx", unit="637", date_from=MARCH[0], date_to=date(2021, 3, 10),
                             dates="excel", codes_as_numbers=1.0)
    typed = pl.read_excel(result.path, engine="calamine", read_options={"header_row": 6},
                          schema_overrides={"Ngày cập nhật": pl.Datetime})
    assert typed.height >= result.rows
    assert typed["Ngày cập nhật"].drop_nulls().len() == result.rows  # real date cells, all of them
    assert result.codes_as_numbers and result.manifest.dossiers("codes_as_numbers") == len(result.codes_as_numbers)
    raw = _sheet(result.path).slice(7, result.rows)
    changed = raw.filter(pl.col("column_1").is_in(list(result.codes_as_numbers)))
    assert changed["column_2"].str.contains(r"^\d\.\d{1,5}$").all()  # 1.001230 -> 1.00123


def test_csv_same_header_values_no_title(ds, tmp_path: Path) -> None:
    xlsx = export_dossiers(tmp_path / "a.xlsx", dataset=ds, unit="24082", date_from=MARCH[0], date_to=MARCH[1])
    csv = export_dossiers(tmp_path / "a.csv", dataset=ds, unit="24082", date_from=MARCH[0], date_to=MARCH[1])
    assert csv.rows == xlsx.rows
    raw = csv.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + "STT,Mã hồ sơ".encode())
    frame = pl.read_csv(csv.path, infer_schema=False)
    assert frame.columns == list(labels.HEADERS) and frame.height == csv.rows
    sheet = _sheet(xlsx.path).slice(7, xlsx.rows)
    assert frame["Mã hồ sơ"].to_list() == sheet["column_1"].to_list()
    assert frame["Trạng thái"].to_list() == sheet["column_18"].to_list()
    no_bom = export_dossiers(tmp_path / "b.csv", dataset=ds, unit="24082", date_from=MARCH[0], date_to=MARCH[1],
                             bom=False)
    assert no_bom.path.read_bytes() == raw[3:]


def test_export_selects_dossiers_relevant_to_the_period(ds, tmp_path: Path) -> None:
    result = export_dossiers(tmp_path / "all.csv", dataset=ds, unit="24109")
    frame = pl.read_csv(result.path, infer_schema=False)
    uar = ds.truth.filter(pl.col("MaDVHC") == "24109")
    relevant = uar.filter((pl.col("NgayKetThucXuLy").is_null() & pl.col("NgayTiepNhan").is_not_null())
                          | (pl.col("NgayKetThucXuLy") >= pl.datetime(2020, 12, 31, 17, time_zone="UTC")))
    codes = set(frame["Mã hồ sơ"].to_list())
    assert set(relevant["MaHoSo"].to_list()) <= codes and len(relevant) > 4000
    finished_in_2020 = uar.filter(pl.col("NgayKetThucXuLy") < pl.datetime(2020, 12, 31, 17, time_zone="UTC"))
    assert finished_in_2020.height > 100 and not set(finished_in_2020["MaHoSo"].to_list()) & codes
    assert result.manifest.codes("duplicates") <= set(frame["Mã hồ sơ"].to_list())
    assert frame.height == result.rows
    dup = frame.drop("STT")
    assert dup.height - dup.unique().height == result.manifest.items("duplicates")


def test_big_scale_exports_stream_shard_by_shard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SHARD_MAX dossiers the CSV is written one shard (unit group) at a time, in bounded
    memory, and holds exactly the rows of the same system built in memory."""
    import simulator.generate as generate
    from simulator.dataset import build_dataset
    from simulator.exports import select_rows
    from simulator.options import SimOptions

    monkeypatch.setattr(generate, "SHARD_MAX", 3000)
    opts = SimOptions(scenario="scale", dossiers=8000, units=6, seed=8)
    assert len(generate.shards(opts)) == 3
    result = export_dossiers(tmp_path / "s.csv", options=opts)
    frame = pl.read_csv(result.path, infer_schema=False)
    whole = build_dataset(opts)
    expected = select_rows(whole, *whole.period)
    assert frame.height == result.rows == expected.height
    assert frame["STT"].to_list() == [str(i) for i in range(1, frame.height + 1)]
    assert sorted(frame["Mã hồ sơ"].to_list()) == sorted(expected["MaHoSo"].to_list())
    assert whole.truth.height == 8000 and whole.truth["MaHoSo"].n_unique() == 8000
    assert result.manifest.summary()["unknown_units"]["dossiers"] == 50
    assert result.manifest.entries.filter(pl.col("kind") != "codes_as_numbers").equals(whole.manifest.entries)
