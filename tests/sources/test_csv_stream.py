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
