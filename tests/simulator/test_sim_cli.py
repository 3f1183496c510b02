"""`cchc simulate`: help shows the switches and defaults; export and truth work."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from simulator.cli import app

runner = CliRunner()


def test_serve_help_shows_dirt_and_fault_defaults() -> None:
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    out = result.output
    for switch in ("--duplicates", "--reappear", "--nfd", "--unit-variants", "--missing-due",
                   "--finish-before-reception", "--unknown-units", "--unknown-status", "--rate-429",
                   "--rate-5xx", "--rate-slow", "--rate-drop", "--rate-truncated", "--no-faults", "--clean"):
        assert switch in out
    assert "0.015" in out and "127.0.0.1" in out and "krongpa-2021-2022" in out


def test_export_csv_of_a_small_scale_system(tmp_path: Path) -> None:
    out = tmp_path / "d.csv"
    result = runner.invoke(app, ["export", "--format", "csv", "--out", str(out), "--scenario", "scale",
                                 "--dossiers", "3000", "--units", "3", "--years", "1", "--no-bom", "--clean"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.height == 3000 and frame.columns[:2] == ["STT", "Mã hồ sơ"]
    assert not out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_truth_prints_the_calibrated_totals() -> None:
    result = runner.invoke(app, ["truth", "--from", "2021-01-01", "--to", "2022-12-31", "--json"])
    assert result.exit_code == 0, result.output
    total = json.loads(result.output)["total"]
    assert (total["c3"], total["c4"], total["c5"], total["c6"], total["c10"], total["c11"]) == (
        87_221, 1_019, 86_088, 114, 1_293, 0)
    table = runner.invoke(app, ["truth"], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "Tổng cộng" in table.output and "87,221" in table.output
