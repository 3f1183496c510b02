"""Formula injection: a value from the data never becomes a live formula in an output that a
spreadsheet opens (CSV of `cchc sql` and of the reports, the report spreadsheets)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner
from warehouse_fixtures import UNITS_CSV, core_frame, dossier

from cchc.cli import app
from cchc.config import Settings
from warehouse.documents_report import COLUMNS, write_documents_xlsx
from warehouse.form06 import csv_safe
from warehouse.tables import CORE_ONESTOP_DOSSIERS
from warehouse.writer import Warehouse

runner = CliRunner()
PAYLOAD = "=cmd|' /C calc'!A0"
HOSTILE = [PAYLOAD, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _xlsx_parts(path: Path) -> tuple[str, str]:
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
    return sheet, strings


def test_csv_safe_prefixes_text_that_starts_a_formula_and_leaves_numbers() -> None:
    frame = pl.DataFrame({"t": [*HOSTILE, "ok", None, "a=b"], "n": [-5] * 9})
    out = csv_safe(frame)
    assert out["t"].to_list() == [f"'{v}" for v in HOSTILE] + ["ok", None, "a=b"]
    assert out["n"].to_list() == [-5] * 9


def test_sql_csv_writes_a_formula_as_text(settings: Settings) -> None:
    import duckdb

    settings.published_path.parent.mkdir(parents=True)
    duckdb.connect(str(settings.published_path)).close()
    query = "SELECT '=cmd|'' /C calc''!A0' AS v, -5 AS n, '@x' AS w"
    result = runner.invoke(app, ["sql", query, "--format", "csv"])
    assert result.exit_code == 0, result.output
    row = pl.read_csv(io.StringIO(result.stdout)).row(0)
    assert row == ("'" + PAYLOAD, -5, "'@x")


@pytest.fixture
def hostile_unit(settings: Settings, tmp_path: Path) -> Settings:
    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV.replace("Thị trấn Phú Túc", PAYLOAD), encoding="utf-8")
    rows = [dossier("A", channel=2, received_date="2022-01-03", due_date="2022-01-10",
                    finished_date="2022-01-04")]  # fmt: skip
    with Warehouse.open(settings, admin_units_csv=units) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L1")
        wh.publish()
    return settings


def test_form06_csv_and_xlsx_keep_a_hostile_unit_name_as_text(
    hostile_unit: Settings, tmp_path: Path
) -> None:
    args = ["report", "form06", "--from", "2022-01-01", "--to", "2022-01-31"]
    csv = runner.invoke(app, [*args, "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    names = pl.read_csv(io.StringIO(csv.stdout))["(2) Đơn vị"].to_list()
    assert "'" + PAYLOAD in names and PAYLOAD not in names

    out = tmp_path / "bieu06.xlsx"
    xlsx = runner.invoke(app, [*args, "--format", "xlsx", "--out", str(out)])
    assert xlsx.exit_code == 0, xlsx.output
    sheet, strings = _xlsx_parts(out)
    assert "<f>" not in sheet
    assert "=cmd|" in strings


def test_documents_xlsx_writes_text_cells_as_strings(tmp_path: Path) -> None:
    counts = {f"c{i}": 1 for i in range(3, 13)}
    rates = {"electronic_rate": 0.5, "signed_rate": None, "on_time_rate": 1.0}
    rows = [
        {"c1": 1, "code": "+1+1", "c2": PAYLOAD, "level": "commune", **counts, **rates},
        {"c1": None, "code": None, "c2": "Tổng cộng", "level": None, **counts, **rates},
    ]
    frame = pl.DataFrame(
        [{**r, "period_from": date(2022, 1, 1), "period_to": date(2022, 1, 31)} for r in rows]
    ).select(COLUMNS)
    path = write_documents_xlsx(frame, tmp_path / "docs.xlsx", date(2022, 1, 1),
                                date(2022, 1, 31), "unit", "@issuer")  # fmt: skip
    sheet, strings = _xlsx_parts(path)
    assert "<f>" not in sheet
    assert "=cmd|" in strings and "+1+1" in strings and "@issuer" in strings
