"""The service-index indicators (docs/figures.md §6) on hand-made dossiers and documents.

Period Q1 2022. Unit 24076 (a town) holds one dossier per rule, 24079 an online and a counter
dossier (online rate exactly 50 %); the district 637 has documents only (electronic exactly
80 %), 24082 nothing and still gets its zero row.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner
from warehouse_fixtures import UNITS_CSV, core_frame, dossier

from cchc.cli import app
from cchc.config import Settings
from warehouse.ddl import ensure_schema
from warehouse.form06 import TOTAL_LABEL, form06
from warehouse.indicators import (
    COLUMNS,
    COUNT_COLUMNS,
    FORM06_COLUMNS,
    INDICATORS,
    KEYS,
    MONTH_ADDITIVE,
    indicators,
    indicators_for_periods,
    long_form,
    summary_table,
    with_headers,
)
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_EOFFICE_DOCUMENTS, CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT
from warehouse.targets import TARGETS, target, target_for
from warehouse.views import create_views
from warehouse.writer import Warehouse

Q1 = (date(2022, 1, 1), date(2022, 3, 31))
MONTHS = [(date(2022, 1, 1), date(2022, 1, 31)), (date(2022, 2, 1), date(2022, 2, 28)),
          (date(2022, 3, 1), date(2022, 3, 31))]  # fmt: skip
runner = CliRunner()

DOSSIERS = [
    # online, level 4, finished early, digitised, paid online, electronic result, very satisfied
    dossier("online_early", channel=2, service_level=4, procedure_code="1.000001",
            received_date="2022-01-10", due_date="2022-01-20", finished_date="2022-01-12",
            digitisation=1, paid_online=True, electronic_result=True, rating="RatHaiLong"),
    # counter, level 3, finished late (status 9), not digitised, dissatisfied
    dossier("late", status=9, service_level=3, procedure_code="1.000002",
            received_date="2022-02-01", due_date="2022-02-10", finished_date="2022-02-15",
            digitisation=0, rating="KhongHaiLong"),
    # withdrawn: resolved on time (c9) but not finished with a result; reused a component
    dossier("withdrawn", channel=3, status=7, received_date="2022-02-03", due_date="2022-02-04",
            finished_date="2022-02-05", digitisation=2),
    # open within its due day (c12), level 3 offered from 28 March; reused a result, paid online
    dossier("open_within", status=4, service_level=3, procedure_code="1.000003",
            received_date="2022-03-28", due_date="2022-04-10", digitisation=3, paid_online=True),
    # open and overdue (c13), level 2
    dossier("overdue", status=4, service_level=2, procedure_code="1.000004",
            received_date="2022-03-01", due_date="2022-03-10"),
    # carried over (c6) and on its due day (c9); online and level 4, but received before Q1
    dossier("carried", channel=2, service_level=4, procedure_code="1.000005",
            received_date="2021-12-20", due_date="2022-01-05", finished_date="2022-01-05",
            paid_online=True, rating="HaiLong"),
    # online but level 2: counts in c4, the procedure is not offered online
    dossier("level2_online", channel=2, service_level=2, procedure_code="1.000004",
            received_date="2022-03-02", due_date="2022-03-20", finished_date="2022-03-05"),
    # level 3 from April: not yet offered in Q1
    dossier("offered_later", status=4, service_level=3, procedure_code="1.000006",
            received_date="2022-04-05", due_date="2022-04-20"),
    # refused at reception: never received, so it offers nothing
    dossier("refused", status=3, channel=2, service_level=4, procedure_code="1.000007",
            received_date="2022-01-05"),
    # another commune: one online (same procedure as online_early: its own pair), one counter
    dossier("other_online", unit_code="24079", channel=2, service_level=4,
            procedure_code="1.000001", received_date="2022-02-10", due_date="2022-02-12",
            finished_date="2022-02-11", rating="HaiLong"),
    dossier("other_counter", unit_code="24079", status=4, received_date="2022-02-20",
            due_date="2022-03-31"),
]  # fmt: skip


def document(doc_id: str, direction: str, day: str, unit_code: str = "637",
             transport: str = "Giay", signed: bool = False) -> dict[str, Any]:
    """One core e-document row, received (DEN) or issued (DI) on ``day``."""
    on = date.fromisoformat(day)
    row = {
        "document_id": doc_id, "direction": direction, "unit_code": unit_code,
        "unit_code_source": "code", "notation": f"{doc_id}/UBND", "document_type": "Công văn",
        "secrecy": "Thuong", "urgency": "Thuong", "status": "DaXuLy", "transport": transport,
        "digitally_signed": signed, "register_number_repeated": False,
        "secret_leak_dropped": False, "issued_date": on, "register_year": on.year,
        "received_date": on if direction == "DEN" else None,
        "updated_at": datetime(2022, 6, 1, tzinfo=UTC),
    }  # fmt: skip
    row["row_hash"] = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:16]
    return row


def documents_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = CORE_EOFFICE_DOCUMENTS.polars_schema()
    frame = pl.DataFrame(list(rows), schema_overrides=schema, infer_schema_length=None)
    return frame.select(pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                        for c, t in schema.items() if c != "load_id")  # fmt: skip


DOCUMENTS = [
    # the district: 3 of 4 incoming electronic, 1 outgoing electronic and signed: 4 / 5 = 80 %
    document("d-in-1", "DEN", "2022-01-05", transport="DienTu"),
    document("d-in-2", "DEN", "2022-02-05", transport="CaHai"),
    document("d-in-3", "DEN", "2022-03-05", transport="DienTu"),
    document("d-in-4", "DEN", "2022-03-06"),
    document("d-out-1", "DI", "2022-02-07", transport="DienTu", signed=True),
    # the town: 1 of 2 incoming electronic, 1 outgoing on paper: 1 / 3
    document("t-in-1", "DEN", "2022-01-07", unit_code="24076", transport="DienTu"),
    document("t-in-2", "DEN", "2022-03-08", unit_code="24076"),
    document("t-out-1", "DI", "2022-03-09", unit_code="24076"),
    # outside the period: in no count
    document("d-in-old", "DEN", "2021-12-31", transport="DienTu"),
]  # fmt: skip

EXPECTED_TOWN = {
    "c3": 7, "c4": 2, "c5": 4, "c6": 1, "c7": 5, "c8": 2, "c9": 2, "c10": 1,
    "c11": 2, "c12": 1, "c13": 1, "no_due_date": 0, "withdrawn": 1,
    "received": 6, "digitised": 3, "paid_online": 2, "finished": 4, "electronic_results": 1,
    "rated": 3, "satisfied": 2, "procedures_offered_online": 4, "procedures_with_online": 1,
    "docs_received": 2, "docs_received_electronic": 1, "docs_issued": 1,
    "docs_issued_electronic": 0, "docs_issued_signed": 0,
}  # fmt: skip
EXPECTED_OTHER = {
    "c3": 2, "c4": 1, "c5": 1, "c6": 0, "c7": 1, "c8": 1, "c9": 0, "c10": 0,
    "c11": 1, "c12": 1, "c13": 0, "no_due_date": 0, "withdrawn": 0,
    "received": 2, "digitised": 0, "paid_online": 0, "finished": 1, "electronic_results": 0,
    "rated": 1, "satisfied": 1, "procedures_offered_online": 1, "procedures_with_online": 1,
    "docs_received": 0, "docs_received_electronic": 0, "docs_issued": 0,
    "docs_issued_electronic": 0, "docs_issued_signed": 0,
}  # fmt: skip
EXPECTED_DISTRICT = {c: 0 for c in COUNT_COLUMNS} | {
    "docs_received": 4, "docs_received_electronic": 3, "docs_issued": 1,
    "docs_issued_electronic": 1, "docs_issued_signed": 1,
}  # fmt: skip


def _load(con: duckdb.DuckDBPyConnection, units_csv: Path) -> None:
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(units_csv))
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*DOSSIERS), "L1")
    write_frame(con, CORE_EOFFICE_DOCUMENTS, documents_frame(*DOCUMENTS), "L1")
    create_views(con)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    seed = Path(tmp_path_factory.mktemp("seed")) / "units.csv"
    seed.write_text(UNITS_CSV, encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    _load(con, seed)
    return con


def _row(frame: pl.DataFrame, code: str | None) -> dict:
    rows = [r for r in frame.iter_rows(named=True) if r["code"] == code]
    assert len(rows) == 1, code
    return rows[0]


def _counts(row: dict) -> dict:
    return {c: row[c] for c in COUNT_COLUMNS}


def test_by_unit_counts_every_rule(con: duckdb.DuckDBPyConnection) -> None:
    frame = indicators(con, *Q1, by="unit")
    assert frame.columns == list(COLUMNS)
    assert frame["code"].to_list() == ["637", "24076", "24079", "24082", None]
    assert frame["name"].to_list()[-1] == TOTAL_LABEL
    assert _counts(_row(frame, "24076")) == EXPECTED_TOWN
    assert _counts(_row(frame, "24079")) == EXPECTED_OTHER
    assert _counts(_row(frame, "637")) == EXPECTED_DISTRICT
    assert set(_counts(_row(frame, "24082")).values()) == {0}
    total = _counts(_row(frame, None))
    assert total == {c: EXPECTED_TOWN[c] + EXPECTED_OTHER[c] + EXPECTED_DISTRICT[c]
                     for c in COUNT_COLUMNS}  # fmt: skip
    assert frame.select("period_from", "period_to").unique().rows() == [Q1]


def test_rates_have_their_numerators_and_denominators(con: duckdb.DuckDBPyConnection) -> None:
    town = _row(indicators(con, *Q1), "24076")
    expected = {  # key: (numerator, denominator, rate)
        "on_time": (4, 5, 0.8), "progress": (5, 7, 0.7143), "online": (2, 6, 0.3333),
        "online_uptake": (1, 4, 0.25), "digitised": (3, 6, 0.5),
        "electronic_result": (1, 4, 0.25), "online_payment": (2, 6, 0.3333),
        "satisfaction": (2, 3, 0.6667), "edoc_electronic": (1, 3, 0.3333), "edoc_signed": (0, 1, 0.0),
    }  # fmt: skip
    assert set(expected) == set(KEYS)
    for key, values in expected.items():
        got = tuple(town[f"{key}_{s}"] for s in ("numerator", "denominator", "rate"))
        assert got == values, key
    empty = _row(indicators(con, *Q1), "24082")
    assert all(empty[f"{k}_rate"] is None and empty[f"{k}_meets"] is None for k in KEYS)


def test_targets_depend_on_the_level_and_verdicts_are_exact(
    con: duckdb.DuckDBPyConnection,
) -> None:
    frame = indicators(con, *Q1)
    other, town, district = _row(frame, "24079"), _row(frame, "24076"), _row(frame, "637")
    total = _row(frame, None)
    # exactly 50 % online meets ≥ 50 %; nothing digitised does not meet 80 %
    assert (other["online_rate"], other["online_target"], other["online_meets"]) == (0.5, 0.5, True)
    assert (other["digitised_target"], other["digitised_meets"]) == (0.8, False)
    assert (other["satisfaction_rate"], other["satisfaction_meets"]) == (1.0, True)
    # e-documents: 80 % for the district (met exactly), 60 % for a town or commune
    assert (district["edoc_electronic_rate"], district["edoc_electronic_target"],
            district["edoc_electronic_meets"]) == (0.8, 0.8, True)  # fmt: skip
    assert (town["edoc_electronic_target"], town["edoc_electronic_meets"]) == (0.6, False)
    assert (total["edoc_electronic_rate"], total["edoc_electronic_target"],
            total["edoc_electronic_meets"]) == (0.625, 0.8, False)  # fmt: skip
    # no stated target: no verdict
    for key in ("on_time", "progress", "online_uptake", "electronic_result", "online_payment",
                "edoc_signed"):  # fmt: skip
        assert town[f"{key}_target"] is None and town[f"{key}_meets"] is None, key


def test_the_targets_are_declared_once_with_their_source() -> None:
    assert {t.indicator for t in TARGETS} <= set(KEYS)
    assert target("online", "commune") == target("online", None) == 0.5
    assert target("edoc_electronic", "district") == target("edoc_electronic", None) == 0.8
    assert target("edoc_electronic", "commune") == target("edoc_electronic", "town") == 0.6
    assert target("on_time", "district") is None and target_for("nope", None) is None
    for t in TARGETS:
        assert "766/QĐ-TTg" in t.source and "configurable" in t.note


def test_dossier_columns_equal_form06_by_unit_and_by_month(
    con: duckdb.DuckDBPyConnection,
) -> None:
    ours = indicators(con, *Q1, by="unit")
    form = form06(con, *Q1, by="unit")
    assert ours.select(FORM06_COLUMNS).rows() == form.select(FORM06_COLUMNS).rows()
    months = indicators(con, *Q1, by="month")
    for i, (first, last) in enumerate(MONTHS):
        expected = form06(con, first, last).row(-1, named=True)
        assert {c: months.row(i, named=True)[c] for c in FORM06_COLUMNS} == {
            c: expected[c] for c in FORM06_COLUMNS}, first  # fmt: skip


def test_by_month_rows_and_the_whole_period_total(con: duckdb.DuckDBPyConnection) -> None:
    months = indicators(con, date(2022, 1, 15), date(2022, 3, 31), by="month")
    assert months["code"].to_list() == ["2022-01", "2022-02", "2022-03", None]
    assert months["name"].to_list() == ["Tháng 1/2022 (15/01 - 31/01)", "Tháng 2/2022",
                                        "Tháng 3/2022", TOTAL_LABEL]  # fmt: skip
    assert months["period_from"].to_list()[0] == date(2022, 1, 15)
    body, total = months.head(3), months.row(-1, named=True)
    for col in MONTH_ADDITIVE:
        assert total[col] == body[col].sum(), col
    whole = _row(indicators(con, date(2022, 1, 15), date(2022, 3, 31), by="unit"), None)
    assert _counts(total) == _counts(whole)
    # offered online: the town's 1.000001 and 1.000005 by January; 1.000002 and 24079's
    # 1.000001 in February; 1.000003 in March (level 2 and April's never)
    assert body["procedures_offered_online"].to_list() == [2, 4, 5]
    # online_early was on 10/01, before the cut; level2_online's procedure is not offered
    assert body["procedures_with_online"].to_list() == [0, 1, 0]
    assert months["edoc_electronic_target"].to_list() == [0.8] * 4  # district-wide rows


def test_the_views_agree_with_the_function_for_whole_months(
    con: duckdb.DuckDBPyConnection,
) -> None:
    view = con.execute("SELECT * FROM out_onestop__indicators_by_unit_month").pl()
    docs = con.execute("SELECT * FROM out_eoffice__indicators_by_unit_month").pl()
    for first, last in MONTHS:
        frame = indicators(con, first, last, by="unit")
        for unit in ("24076", "24079"):
            row = view.filter((pl.col("unit_code") == unit) & (pl.col("month") == first))
            mine = _row(frame, unit)
            if row.height == 0:  # a unit with nothing in the month has no row in the view
                assert {mine[c] for c in FORM06_COLUMNS + ("procedures_offered_online",)} == {0}
                continue
            got = row.row(0, named=True)
            for col in row.columns:
                if col in COUNT_COLUMNS or col.endswith(("_numerator", "_denominator", "_rate")):
                    assert got[col] == mine[col], (unit, first, col)
        district = docs.filter((pl.col("unit_code") == "637") & (pl.col("month") == first))
        got = district.row(0, named=True)
        assert got["level"] == "district"
        for col in district.columns:
            if col.startswith(("docs_", "edoc_")):
                assert got[col] == _row(frame, "637")[col], (first, col)


def test_long_form_and_vietnamese_headers(con: duckdb.DuckDBPyConnection) -> None:
    frame = indicators(con, *Q1)
    long = long_form(frame)
    assert long.height == frame.height * len(INDICATORS)
    assert long["indicator"].to_list()[: len(KEYS)] == list(KEYS)
    csv = with_headers(frame, "unit")
    assert csv.columns == ["Mã", "Đơn vị", "Mã chỉ số", "Chỉ số", "Công thức", "Tử số", "Mẫu số",
                           "Tỷ lệ (%)", "Mục tiêu (%)", "Đánh giá"]  # fmt: skip
    other_online = csv.filter((pl.col("Mã") == "24079") & (pl.col("Mã chỉ số") == "online"))
    assert other_online.row(0)[-3:] == (50.0, 50.0, "Đạt")
    summary = summary_table(frame)
    assert summary.height == len(INDICATORS) and "Chưa đạt" in summary["Đánh giá"].to_list()


def test_several_periods_counted_together_equal_each_counted_alone(
    con: duckdb.DuckDBPyConnection,
) -> None:
    spans = [Q1, *MONTHS, (date(2021, 12, 1), date(2022, 4, 30)), Q1, (date(2023, 1, 1),
             date(2023, 1, 31))]  # fmt: skip
    for units in ("received", "new"):
        together = indicators_for_periods(con, spans, units=units)
        assert len(together) == len(spans)
        for span, frame in zip(spans, together, strict=True):
            alone = indicators_for_periods(con, [span], units=units)[0]
            assert frame.equals(alone), (units, span)
            assert frame.equals(indicators(con, *span, units=units)), (units, span)
    assert _counts(_row(together[0], "24076")) == EXPECTED_TOWN
    assert indicators_for_periods(con, []) == []
    with pytest.raises(ValueError, match="starts"):
        indicators_for_periods(con, [Q1, (date(2022, 3, 1), date(2022, 1, 1))])


def test_bad_arguments(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="starts"):
        indicators(con, date(2022, 3, 1), date(2022, 1, 1))
    with pytest.raises(ValueError, match="by must be"):
        indicators(con, *Q1, by="field")  # type: ignore[arg-type]


@pytest.fixture
def published(settings: Settings, units_csv: Path) -> Settings:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*DOSSIERS), "L1")
        wh.write(CORE_EOFFICE_DOCUMENTS, documents_frame(*DOCUMENTS), "L1")
        wh.publish()
    return settings


def test_cli_every_format(published: Settings, tmp_path: Path) -> None:
    args = ["report", "indicators", "--from", "2022-01-01", "--to", "2022-03-31"]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "Tỷ lệ hồ sơ nộp trực tuyến" in table.output and "Thị trấn Phú Túc" in table.output
    assert "50.00 % ✓" in table.output and "≥ 80 %" in table.output

    csv = runner.invoke(app, [*args, "--by", "month", "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    frame = pl.read_csv(io.StringIO(csv.stdout))
    assert frame.columns[:4] == ["Mã", "Tháng", "Từ ngày", "Đến ngày"]
    assert frame.height == 4 * len(INDICATORS)

    js = runner.invoke(app, [*args, "-f", "json"])
    rows = json.loads(js.stdout)
    district_edoc = next(r for r in rows if r["code"] == "637" and r["indicator"] == "edoc_electronic")
    assert (district_edoc["numerator"], district_edoc["denominator"], district_edoc["meets"]) == (4, 5, True)

    out = tmp_path / "chiso.xlsx"
    xlsx = runner.invoke(app, [*args, "-f", "xlsx", "--out", str(out)])
    assert xlsx.exit_code == 0, xlsx.output
    sheet = pl.read_excel(out, has_header=False, infer_schema_length=0)
    cells = [str(v) for row in sheet.iter_rows() for v in row if v is not None]
    assert "UBND HUYỆN KRÔNG PA" in cells and "Tỷ lệ hài lòng" in cells and "Đạt" in cells

    bad = runner.invoke(app, ["report", "indicators", "--from", "2022-03-01", "--to", "2022-01-01"])
    assert bad.exit_code == 1 and "starts" in bad.output
