"""The streaming CSV stage gives exactly the rows of the general reader, or steps aside."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from simulator.exports import export_dossiers
from simulator.testing import simulator_options
from sources.csv_stream import stage_plain_csv
from sources.onestop.files import read_dossier_file
from sources.registry import SOURCES

SIM = simulator_options(scenario="scale", dossiers=1500, seed=8)


@pytest.mark.parametrize("bom", [True, False])
def test_streamed_parts_equal_the_general_readers_frame(tmp_path: Path, bom: bool) -> None:
    path = export_dossiers(tmp_path / "x.csv", options=SIM, bom=bom, date_from=date(2021, 1, 1),
                           date_to=date(2021, 12, 31)).path
    streamed = stage_plain_csv(path, tmp_path / "parts", rows_per_part=500, layouts=[x.layout for x in SOURCES])
    assert streamed is not None and len(streamed.parts) > 1
    got = pl.concat([pl.read_parquet(p) for p in streamed.parts]).sort("_source_row")
    expected = read_dossier_file(path).frame.sort("_source_row")
    assert streamed.rows == expected.height
    assert got.equals(expected)


def test_files_that_are_not_plain_csv_are_left_to_the_general_reader(tmp_path: Path) -> None:
    path = export_dossiers(tmp_path / "x.csv", options=SIM, date_from=date(2021, 1, 1),
                           date_to=date(2021, 3, 31)).path
    text = path.read_text(encoding="utf-8-sig")
    footer = tmp_path / "footer.csv"
    footer.write_text(text + "Tổng số: 12 hồ sơ\n", encoding="utf-8")
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(text.encode("utf-8") + "Tr\u1ea1ng\n".encode("cp1258", errors="replace") + b"\xe0\xff\n")
    titled = tmp_path / "titled.csv"
    titled.write_text("DANH SÁCH HỒ SƠ\n" + text, encoding="utf-8")
    for bad in (footer, legacy, titled):
        assert stage_plain_csv(bad, tmp_path / f"parts-{bad.stem}", rows_per_part=100, layouts=[x.layout for x in SOURCES]) is None, bad.name


def test_a_plain_csv_past_the_configured_size_is_refused_naming_the_setting(tmp_path: Path) -> None:
    from sources.errors import SourceFileError

    path = export_dossiers(tmp_path / "x.csv", options=SIM, date_from=date(2021, 1, 1),
                           date_to=date(2021, 3, 31)).path
    with pytest.raises(SourceFileError, match=r"max_csv_mb"):
        stage_plain_csv(path, tmp_path / "parts", rows_per_part=500,
                        layouts=[x.layout for x in SOURCES], max_bytes=1000)
    assert stage_plain_csv(path, tmp_path / "ok", rows_per_part=500,
                           layouts=[x.layout for x in SOURCES], max_bytes=path.stat().st_size)


def test_only_a_csv_may_pass_the_general_readers_size_limit(tmp_path: Path) -> None:
    """``[ingest] max_csv_mb`` lifts the limit for CSV exports, which stream in flat memory;
    a workbook is read whole and keeps MAX_FILE_BYTES, whatever the setting says."""
    from cchc.config import IngestSettings, Settings
    from cchc.pipeline import max_file_bytes
    from sources.errors import SourceFileError
    from sources.filecheck import MAX_FILE_BYTES, check_regular

    big = tmp_path / "big.csv"
    with big.open("wb") as fh:  # sparse: no disk is used
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(SourceFileError, match="MAX_FILE_BYTES"):
        check_regular(big)
    settings = Settings(ingest=IngestSettings(max_csv_mb=4096))
    assert check_regular(big, max_file_bytes(settings, big)).st_size == MAX_FILE_BYTES + 1
    assert max_file_bytes(settings, tmp_path / "big.xlsx") == MAX_FILE_BYTES
    assert max_file_bytes(Settings(), big) == MAX_FILE_BYTES
    with pytest.raises(ValueError, match="max_csv_mb"):
        IngestSettings(max_csv_mb=0)
    toml = tmp_path / "cchc.toml"
    toml.write_text("[ingest]\nmax_csv_mb = 4096\n")
    from cchc.config import load_settings

    assert load_settings(toml, env={}).ingest.max_csv_bytes == 4096 << 20


def test_a_cell_is_measured_in_characters_not_bytes(tmp_path: Path) -> None:
    """MAX_CELL_CHARS counts characters: a Vietnamese cell of more bytes than the limit but
    fewer characters streams; a cell of more characters is refused, naming its row and field."""
    from sources.csv_stream import MAX_CELL_CHARS
    from sources.errors import SourceFileError

    path = export_dossiers(tmp_path / "x.csv", options=SIM, date_from=date(2021, 1, 1),
                           date_to=date(2021, 3, 31)).path
    rows = pl.read_csv(path, infer_schema=False)
    layouts = [x.layout for x in SOURCES]

    def with_cell(value: str, name: str) -> Path:
        out = tmp_path / name
        column = rows["Chủ hồ sơ"].scatter(2, value)  # file row 4: the header is row 1
        rows.with_columns(column).write_csv(out)
        return out

    wide = "Đ" * (MAX_CELL_CHARS - 1)  # two bytes each: past the limit in bytes only
    streamed = stage_plain_csv(with_cell(wide, "wide.csv"), tmp_path / "wide", rows_per_part=500,
                               layouts=layouts)
    assert streamed is not None and streamed.rows == rows.height
    long = "x" * (MAX_CELL_CHARS + 1)
    with pytest.raises(SourceFileError, match="MAX_CELL_CHARS") as refused:
        stage_plain_csv(with_cell(long, "long.csv"), tmp_path / "long", rows_per_part=500,
                        layouts=layouts)
    assert refused.value.row == 4 and refused.value.field == "Chủ hồ sơ"
