"""`cchc sql` and `cchc report form06` on a small published warehouse."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner
from warehouse_fixtures import ROOT, core_frame, dossier

from cchc.cli import app
from cchc.config import Settings
from warehouse.tables import CORE_ONESTOP_DOSSIERS
from warehouse.writer import Warehouse

runner = CliRunner()


@pytest.fixture
def published(settings: Settings, units_csv: Path) -> Settings:
    rows = [
        dossier("A", channel=2, received_date="2022-01-03", due_date="2022-01-10",
                finished_date="2022-01-04", dq_warnings=["x", "y"]),
        dossier("B", unit_code="24079", status=4, received_date="2022-01-05"),
        dossier("C", status=4, received_date="2022-01-05", due_date="2022-01-06"),
    ]  # fmt: skip
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L1")
        wh.publish()
    return settings


def test_sql_without_a_snapshot_says_what_to_run(settings: Settings) -> None:
    result = runner.invoke(app, ["sql", "SELECT 1"])
    assert result.exit_code == 1
    assert "cchc run" in result.output and "cchc demo" in result.output


def test_sql_formats(published: Settings) -> None:
    query = "SELECT dossier_code, status_label, dq_warnings FROM out_onestop__dossiers ORDER BY 1"
    table = runner.invoke(app, ["sql", query])
    assert table.exit_code == 0, table.output
    assert "Đã trả kết quả" in table.output and "Đang xử lý" in table.output
    csv = runner.invoke(app, ["sql", query, "--format", "csv"])
    assert csv.exit_code == 0
    frame = pl.read_csv(io.StringIO(csv.stdout))
    assert frame.row(0) == ("A", "Đã trả kết quả", "x | y")
    js = runner.invoke(
        app, ["sql", "SELECT count(*) AS n FROM out_onestop__dossiers", "-f", "json"]
    )
    assert json.loads(js.stdout) == [{"n": 3}]


def test_sql_refuses_writes(published: Settings) -> None:
    result = runner.invoke(app, ["sql", "DELETE FROM core_onestop__dossiers"])
    assert result.exit_code == 2
    assert "refused a DELETE statement" in result.output


def test_report_form06_table_csv_and_xlsx(published: Settings, tmp_path: Path) -> None:
    args = ["report", "form06", "--from", "2022-01-01", "--to", "2022-01-31"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "Tổng cộng" in table.output and "Thị trấn Phú Túc" in table.output

    csv = runner.invoke(app, [*args, "--by", "field", "--format", "csv"])
    frame = pl.read_csv(io.StringIO(csv.stdout))
    assert frame.columns[:4] == ["(1) STT", "Mã", "(2) Lĩnh vực", "(3) Tổng số nhận"]
    total = frame.row(-1, named=True)
    assert total["(2) Lĩnh vực"] == "Tổng cộng" and total["(3) Tổng số nhận"] == 3
    assert total["(4) Trực tuyến"] == 1 and total["(13) Quá hạn"] == 1

    out = tmp_path / "bieu06.xlsx"
    xlsx = runner.invoke(app, [*args, "--format", "xlsx", "--out", str(out)])
    assert xlsx.exit_code == 0, xlsx.output
    sheet = pl.read_excel(out, has_header=False, infer_schema_length=0)
    cells = [str(v) for row in sheet.iter_rows() for v in row if v is not None]
    assert "UBND HUYỆN KRÔNG PA" in cells and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells
    assert "Tháng 1/2022" in " ".join(cells) and "Xã, phường, thị trấn" in cells
    assert [f"({i})" for i in range(1, 14)] == [c for c in cells if c.startswith("(") and
                                                c[1:-1].isdigit()]  # fmt: skip
    total_row = next(row for row in sheet.iter_rows() if row[1] == "Tổng cộng")
    assert [int(float(v)) for v in total_row[2:13]] == [3, 1, 2, 0, 1, 1, 0, 0, 2, 1, 1]


def test_sql_shell_is_the_duckdb_cli_on_the_snapshot(published: Settings) -> None:
    cchc = Path(sys.executable).parent / "cchc"
    result = subprocess.run(
        [str(cchc), "sql"],
        input="SELECT count(*) AS n FROM out_onestop__dossiers;\nCREATE TABLE x (a INTEGER);\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CCHC_DATA_DIR": str(published.data_dir)},
        timeout=60,
    )
    assert "3" in result.stdout
    assert "read-only" in (result.stdout + result.stderr).lower()


def test_sql_shell_falls_back_to_python_without_the_duckdb_binary(
    published: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cchc import query_cli

    monkeypatch.setattr(query_cli.sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setattr(query_cli, "duckdb_binary", lambda: None)
    result = runner.invoke(
        app,
        ["sql"],
        input="SELECT count(*) AS n\nFROM out_onestop__dossiers;\nDROP VIEW x;\n.quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "3" in result.output and "refused a DROP statement" in result.output


# One value of each DuckDB type that polars cannot hold or an output cannot write, and the
# nested types around them.
TYPED_VALUES = {
    "interval": "INTERVAL 3 DAY + INTERVAL 2 HOUR",
    "map": "MAP {'a': 1, 'b': 2}",
    "blob": "'\\xAA\\x00abc'::BLOB",
    "bit": "'0101'::BIT",
    "union": "union_value(num := 2)::UNION(num INTEGER, s VARCHAR)",
    "timetz": "'12:00:00+07'::TIMETZ",
    "hugeint": "170141183460469231731687303715884105727::HUGEINT",
    "list_of_interval": "[INTERVAL 1 DAY]",
    "struct_of_map": "{'m': MAP {'k': 'v'}}",
    "array": "[1, 2]::INTEGER[2]",
    "list_of_struct": "[{'a': 1, 'b': [2, 3]}]",
    "struct": "{'a': 1, 'b': 'x'}",
    "list": "['x', 'y']",
    "decimal": "1.5::DECIMAL(20, 3)",
}


@pytest.fixture
def tiny(settings: Settings) -> Settings:
    """A published file with one table: enough for queries that read no warehouse table."""
    import duckdb

    settings.published_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.published_path))
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    con.close()
    return settings


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
@pytest.mark.parametrize("kind", sorted(TYPED_VALUES))
def test_sql_renders_every_type_in_every_format(tiny: Settings, kind: str, fmt: str) -> None:
    query = f"SELECT {TYPED_VALUES[kind]} AS v, 1 AS n"
    result = runner.invoke(app, ["sql", query, "--format", fmt])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "v" in result.stdout and "1" in result.stdout
    if fmt == "json":
        assert json.loads(result.stdout)[0]["n"] == 1


def test_sql_types_read_as_duckdb_text(tiny: Settings) -> None:
    query = ("SELECT INTERVAL 3 DAY AS i, MAP {'a': 1} AS m, '0101'::BIT AS b, "
             "[1, 2]::INTEGER[2] AS arr")  # fmt: skip
    csv = runner.invoke(app, ["sql", query, "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    frame = pl.read_csv(io.StringIO(csv.stdout), infer_schema=False)
    assert frame.row(0) == ("3 days", "{a=1}", "0101", "1 | 2")


def test_status_before_the_first_load_says_what_to_run(settings: Settings) -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert "cchc run" in result.output and "Traceback" not in result.output


@pytest.fixture
def corrupt(tiny: Settings) -> Settings:
    path = tiny.published_path
    path.write_bytes(b"not a duckdb file\n" * 1000)
    return tiny


@pytest.mark.parametrize("command", [["sql", "SELECT 1"], ["status"],
                                     ["report", "form06", "--from", "2022-01-01",
                                      "--to", "2022-01-31"]])  # fmt: skip
def test_a_corrupt_snapshot_is_named_in_one_line(corrupt: Settings, command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    text = " ".join(result.output.replace("│", " ").split())
    assert "corrupt" in text and "cchc run" in text
    if command[0] != "status":  # status shows it in typer's error box
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_the_shell_on_a_corrupt_snapshot_says_so(corrupt: Settings) -> None:
    result = runner.invoke(app, ["sql"], input="SELECT 1;\n")
    assert result.exit_code == 1
    assert "corrupt" in result.output and "Traceback" not in result.output
