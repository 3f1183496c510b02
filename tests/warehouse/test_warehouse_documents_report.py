"""The e-document report (docs/figures.md §5) and the e-document views on hand-made documents.

Period Q1 2022 (2022-01-01 to 2022-03-31). Unit 24076 holds one document per rule, 24079 an
incoming document completed on its deadline and a signed paper outgoing one; 637 (the
district) and 24082 have nothing and still get their zero rows.
"""

from __future__ import annotations

import hashlib
import io
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
from sources.eoffice.vocabulary import (
    DIRECTION_LABELS,
    SECRECY_LABELS,
    STATUS_LABELS,
    TRANSPORT_LABELS,
    URGENCY_LABELS,
)
from warehouse import documents_report as report_module
from warehouse.ddl import ensure_schema
from warehouse.documents_report import (
    ADDITIVE_COLUMNS,
    COUNT_COLUMNS,
    TOTAL_LABEL,
    DocumentsIdentityError,
    documents_report,
    identity_violations,
    month_label,
)
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_EOFFICE_DOCUMENTS, CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT
from warehouse.views import create_views, label_case
from warehouse.writer import Warehouse

Q1 = (date(2022, 1, 1), date(2022, 3, 31))
runner = CliRunner()


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def document(doc_id: str, direction: str = "DEN", **fields: Any) -> dict[str, Any]:
    """One core e-document row: sensible defaults, dates as 'YYYY-MM-DD' text."""
    row: dict[str, Any] = {
        "document_id": doc_id,
        "direction": direction,
        "unit_code": "24076",
        "body_name": "UBND thị trấn Phú Túc",
        "unit_code_source": "code",
        "notation": f"{doc_id}/UBND",
        "document_type": "Công văn",
        "secrecy": "Thuong",
        "urgency": "Thuong",
        "status": "DangXuLy" if direction == "DEN" else "DaXuLy",
        "transport": "Giay",
        "digitally_signed": False,
        "register_number_repeated": False,
        "secret_leak_dropped": False,
        "updated_at": datetime(2022, 6, 1, tzinfo=UTC),
    }
    row.update(fields)
    for name in ("issued_date", "received_date", "deadline_date", "completed_date"):
        row[name] = _day(row.get(name))
    if row["issued_date"] is None:
        row["issued_date"] = row["received_date"]
    day = row["received_date"] if direction == "DEN" else row["issued_date"]
    row.setdefault("register_year", day.year)
    if "row_hash" not in row:
        row["row_hash"] = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:16]
    return row


def documents_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    """A core frame with every declared column (those not given are null), load_id aside."""
    schema = CORE_EOFFICE_DOCUMENTS.polars_schema()
    frame = pl.DataFrame(list(rows), schema_overrides=schema, infer_schema_length=None)
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in schema.items()
        if c != "load_id"
    )


CASES = [
    # deadline on the period's last day, open: within the deadline (9)
    document("due_on_to", received_date="2022-03-01", deadline_date="2022-03-31",
             incoming_number=5),
    # completed after `to`: open at the period's end, deadline passed (8); electronic (4)
    document("done_after_to", received_date="2022-03-10", deadline_date="2022-03-20",
             completed_date="2022-04-05", status="DaXuLy", transport="DienTu"),
    # completed late (7); both transports count as electronic (4)
    document("late", received_date="2022-02-01", deadline_date="2022-02-10",
             completed_date="2022-02-15", status="DaXuLy", transport="CaHai"),
    # completed on its deadline day: on time (6)
    document("on_time", received_date="2022-01-10", deadline_date="2022-01-20",
             completed_date="2022-01-20", status="DaXuLy"),
    # no deadline: only (3) and (4)
    document("no_deadline", received_date="2022-01-15", transport="DienTu"),
    # late in the period (7), but open past its deadline at the end of January (8)
    document("late_next_month", received_date="2022-01-20", deadline_date="2022-01-25",
             completed_date="2022-02-10", status="DaXuLy"),
    # open, deadline after the period (9)
    document("open_within", received_date="2022-03-25", deadline_date="2022-04-10"),
    # received before the period and open: in no column
    document("before_open", received_date="2021-12-20", deadline_date="2022-01-10"),
    # received after the period: in no column
    document("after", received_date="2022-04-02", deadline_date="2022-04-10"),
    # outgoing: electronic and signed (10, 11, 12); number 5 used twice in 2022
    document("out_signed_e", "DI", issued_date="2022-02-01", transport="DienTu",
             digitally_signed=True, outgoing_number=5, signer="Nguyễn Văn Ký",
             linked_dossier_code="D-1", document_type="Quyết định"),
    document("out_paper", "DI", issued_date="2022-03-31", outgoing_number=5),
    document("out_cahai", "DI", issued_date="2022-01-01", transport="CaHai", outgoing_number=1),
    # outgoing before the period: in no column; number 5 of 2021 is another register year
    document("out_before", "DI", issued_date="2021-12-31", digitally_signed=True,
             outgoing_number=5),
    # another commune
    document("other_in", unit_code="24079", received_date="2022-02-05",
             deadline_date="2022-02-06", completed_date="2022-02-06", status="DaXuLy",
             transport="DienTu"),
    document("other_out", "DI", unit_code="24079", issued_date="2022-03-01",
             digitally_signed=True, outgoing_number=5),
]  # fmt: skip

EXPECTED_PHU_TUC = {"c3": 7, "c4": 3, "c5": 6, "c6": 1, "c7": 2, "c8": 1, "c9": 2,
                    "c10": 3, "c11": 2, "c12": 1}  # fmt: skip
EXPECTED_IA_RSAI = {"c3": 1, "c4": 1, "c5": 1, "c6": 1, "c7": 0, "c8": 0, "c9": 0,
                    "c10": 1, "c11": 0, "c12": 1}  # fmt: skip
EXPECTED_TOTAL = {"c3": 8, "c4": 4, "c5": 7, "c6": 2, "c7": 2, "c8": 1, "c9": 2,
                  "c10": 4, "c11": 2, "c12": 2}  # fmt: skip


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    seed = Path(tmp_path_factory.mktemp("seed")) / "units.csv"
    seed.write_text(UNITS_CSV, encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(seed))
    write_frame(con, CORE_EOFFICE_DOCUMENTS, documents_frame(*CASES), "L1")
    dossiers = core_frame(
        dossier("D-1", received_date="2022-01-20", due_date="2022-02-03",
                finished_date="2022-01-31", procedure_name="Cấp giấy phép xây dựng"),
        dossier("D-2", received_date="2022-01-21", status=4),
    )  # fmt: skip
    write_frame(con, CORE_ONESTOP_DOSSIERS, dossiers, "L1")
    create_views(con)
    return con


def _row(frame: pl.DataFrame, name: str) -> dict:
    return frame.filter(pl.col("c2") == name).row(0, named=True)


def _counts(row: dict) -> dict:
    return {c: row[c] for c in COUNT_COLUMNS}


def assert_identities(frame: pl.DataFrame) -> None:
    for row in frame.iter_rows(named=True):
        assert row["c5"] == row["c6"] + row["c7"] + row["c8"] + row["c9"], row
        assert row["c4"] <= row["c3"] and row["c11"] <= row["c10"] and row["c12"] <= row["c10"]


def test_by_unit_counts_every_rule(con: duckdb.DuckDBPyConnection) -> None:
    report = documents_report(con, *Q1)
    assert report["c2"].to_list() == [
        "Huyện Krông Pa", "Thị trấn Phú Túc", "Xã Ia Rsai", "Xã Ia Rsươm", TOTAL_LABEL,
    ]  # fmt: skip
    assert report["code"].to_list() == ["637", "24076", "24079", "24082", None]
    assert report["c1"].to_list() == [1, 2, 3, 4, None]
    assert _counts(_row(report, "Thị trấn Phú Túc")) == EXPECTED_PHU_TUC
    assert _counts(_row(report, "Xã Ia Rsai")) == EXPECTED_IA_RSAI
    assert set(_counts(_row(report, "Huyện Krông Pa")).values()) == {0}
    assert _counts(_row(report, TOTAL_LABEL)) == EXPECTED_TOTAL
    assert_identities(report)
    assert identity_violations(report, "unit") == []
    assert report.select("period_from", "period_to").unique().rows() == [Q1]


def test_rates(con: duckdb.DuckDBPyConnection) -> None:
    report = documents_report(con, *Q1)
    phu_tuc, total = _row(report, "Thị trấn Phú Túc"), _row(report, TOTAL_LABEL)
    assert phu_tuc["electronic_rate"] == 0.5  # (3 + 2) / (7 + 3)
    assert phu_tuc["signed_rate"] == 0.3333  # 1 / 3
    assert phu_tuc["on_time_rate"] == 0.3333  # 1 / (1 + 2)
    assert (total["electronic_rate"], total["signed_rate"], total["on_time_rate"]) == (
        0.5, 0.5, 0.5,  # (4 + 2) / (8 + 4), 2 / 4, 2 / (2 + 2)
    )  # fmt: skip
    district = _row(report, "Huyện Krông Pa")  # nothing to divide: no rate, not 0
    assert district["electronic_rate"] is None and district["on_time_rate"] is None


def test_by_month_each_month_is_its_own_period(con: duckdb.DuckDBPyConnection) -> None:
    report = documents_report(con, *Q1, by="month")
    assert report["c2"].to_list() == ["Tháng 1/2022", "Tháng 2/2022", "Tháng 3/2022",
                                      TOTAL_LABEL]  # fmt: skip
    assert report["code"].to_list() == ["2022-01", "2022-02", "2022-03", None]
    jan, feb, mar = (report.row(i, named=True) for i in range(3))
    # late_next_month is open past its deadline at the end of January (8), late overall (7)
    assert _counts(jan) == {"c3": 3, "c4": 1, "c5": 2, "c6": 1, "c7": 0, "c8": 1, "c9": 0,
                            "c10": 1, "c11": 1, "c12": 0}  # fmt: skip
    assert _counts(feb) == {"c3": 2, "c4": 2, "c5": 2, "c6": 1, "c7": 1, "c8": 0, "c9": 0,
                            "c10": 1, "c11": 1, "c12": 1}  # fmt: skip
    # due_on_to: deadline on the month's last day (9)
    assert _counts(mar) == {"c3": 3, "c4": 1, "c5": 3, "c6": 0, "c7": 0, "c8": 1, "c9": 2,
                            "c10": 2, "c11": 0, "c12": 1}  # fmt: skip
    assert (jan["period_from"], jan["period_to"]) == (date(2022, 1, 1), date(2022, 1, 31))
    # the total is the whole period judged at `to`, not the sum of the months
    total = _row(report, TOTAL_LABEL)
    assert _counts(total) == EXPECTED_TOTAL
    for col in ADDITIVE_COLUMNS:
        assert total[col] == report[col][:-1].sum()
    assert report["c8"][:-1].sum() == 2 and total["c8"] == 1
    assert_identities(report)


def test_by_month_cuts_the_months_to_the_period(con: duckdb.DuckDBPyConnection) -> None:
    report = documents_report(con, date(2022, 1, 15), date(2022, 2, 10), by="month")
    assert report["c2"].to_list() == [
        "Tháng 1/2022 (15/01 - 31/01)", "Tháng 2/2022 (01/02 - 10/02)", TOTAL_LABEL,
    ]  # fmt: skip
    jan, feb, total = (report.row(i, named=True) for i in range(3))
    assert (feb["period_from"], feb["period_to"]) == (date(2022, 2, 1), date(2022, 2, 10))
    assert (jan["c3"], jan["c8"]) == (2, 1)  # no_deadline, late_next_month (open on 31/01)
    # late: deadline 10/02 = the cut month's last day, completed after it: within (9)
    assert (feb["c3"], feb["c6"], feb["c9"], feb["c10"]) == (2, 1, 1, 1)
    assert (total["c3"], total["c5"], total["c6"], total["c7"], total["c9"]) == (4, 3, 1, 1, 1)
    assert month_label(date(2022, 2, 1), date(2022, 2, 28)) == "Tháng 2/2022"


def test_a_deadline_on_the_last_day_is_within_it(con: duckdb.DuckDBPyConnection) -> None:
    # 2022-03-20 is done_after_to's deadline: open on that day, deadline = to -> (9)
    day = documents_report(con, date(2022, 3, 10), date(2022, 3, 20))
    assert (_row(day, TOTAL_LABEL)["c8"], _row(day, TOTAL_LABEL)["c9"]) == (0, 1)
    # a day later it is past its deadline (8)
    later = documents_report(con, date(2022, 3, 10), date(2022, 3, 21))
    assert (_row(later, TOTAL_LABEL)["c8"], _row(later, TOTAL_LABEL)["c9"]) == (1, 0)


def test_bad_arguments_and_broken_identities(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="starts"):
        documents_report(con, date(2022, 2, 1), date(2022, 1, 1))
    with pytest.raises(ValueError, match="by must be"):
        documents_report(con, *Q1, by="field")  # type: ignore[arg-type]
    # a (9) that forgot "on the last day" loses due_on_to: (5) != (6)+(7)+(8)+(9)
    broken = report_module.BY_UNIT_SQL.replace(
        "d.deadline_date >= p.period_to) AS c9", "d.deadline_date > p.period_to) AS c9"
    )
    assert broken != report_module.BY_UNIT_SQL
    monkeypatch.setattr(report_module, "BY_UNIT_SQL", broken)
    with pytest.raises(DocumentsIdentityError, match="c5=6 but c6 \\+ c7 \\+ c8 \\+ c9=5"):
        documents_report(con, *Q1)
    assert documents_report(con, *Q1, strict=False)["c9"][-1] == 1


def test_identity_violations_are_reported() -> None:
    zeros = {c: 0 for c in COUNT_COLUMNS}
    bad = pl.DataFrame(
        [{"c2": "X", **zeros, "c4": 1, "c5": 1, "c12": 2, "c10": 1},
         {"c2": TOTAL_LABEL, **zeros}]
    )  # fmt: skip
    problems = identity_violations(bad, "unit")
    assert "X: c5=1 but c6 + c7 + c8 + c9=0" in problems
    assert "X: c4=1 > c3=0" in problems and "X: c12=2 > c10=1" in problems
    assert f"{TOTAL_LABEL}: c10=0 but rows sum to 1" in problems
    assert issubclass(DocumentsIdentityError, ValueError)


# --- views ---------------------------------------------------------------------------------


def test_documents_view_labels_from_the_vocabulary(con: duckdb.DuckDBPyConnection) -> None:
    view = con.execute("SELECT * FROM out_eoffice__documents ORDER BY document_id").pl()
    assert view.height == len(CASES)
    assert "signer" not in view.columns
    row = view.filter(pl.col("document_id") == "late").row(0, named=True)
    assert row["direction_label"] == "Văn bản đến" and row["transport_label"] == "Cả hai"
    assert row["status_label"] == "Đã xử lý" and row["secrecy_label"] == "Thường"
    assert row["urgency_label"] == "Thường" and row["unit_name"] == "Thị trấn Phú Túc"
    assert row["electronic"] is True and row["handling_days"] == 14
    out = view.filter(pl.col("document_id") == "out_signed_e").row(0, named=True)
    assert out["direction_label"] == "Văn bản đi" and out["register_number"] == 5
    # every code of every vocabulary gets its first label
    for vocabulary, labels in (("eoffice_direction", DIRECTION_LABELS),
                               ("eoffice_secrecy", SECRECY_LABELS),
                               ("eoffice_urgency", URGENCY_LABELS),
                               ("eoffice_status", STATUS_LABELS),
                               ("eoffice_transport", TRANSPORT_LABELS)):  # fmt: skip
        for code, names in labels.items():
            shown = con.execute(f"SELECT {label_case(vocabulary, '$c')}", {"c": code}).fetchone()
            assert shown == (names[0],)


def test_rates_by_unit_month_match_the_report(con: duckdb.DuckDBPyConnection) -> None:
    view = con.execute(
        "SELECT * FROM out_eoffice__rates_by_unit_month WHERE month BETWEEN $a AND $b",
        {"a": date(2022, 1, 1), "b": date(2022, 3, 1)},
    ).pl()
    names = ["received", "received_electronic", "with_deadline", "completed_on_time",
             "completed_late", "open_overdue", "open_within_deadline", "issued",
             "issued_electronic", "issued_signed"]  # fmt: skip
    by_month = view.group_by("month").agg(pl.col(names).sum()).sort("month")
    report = documents_report(con, *Q1, by="month")[:-1]
    assert by_month.select(names).rows() == report.select(COUNT_COLUMNS).rows()
    phu_tuc_mar = view.filter((pl.col("unit_code") == "24076")
                              & (pl.col("month") == date(2022, 3, 1))).row(0, named=True)  # fmt: skip
    assert phu_tuc_mar["unit_name"] == "Thị trấn Phú Túc"
    assert (phu_tuc_mar["open_overdue"], phu_tuc_mar["open_within_deadline"]) == (1, 2)
    assert phu_tuc_mar["electronic_rate"] == 0.25  # (1 + 0) / (3 + 1)
    assert phu_tuc_mar["signed_rate"] == 0.0 and phu_tuc_mar["on_time_rate"] is None


def test_repeated_register_numbers(con: duckdb.DuckDBPyConnection) -> None:
    view = con.execute("SELECT * FROM out_eoffice__repeated_register_numbers").pl()
    # number 5 of 24076's 2022 outgoing register: not the incoming 5, nor 2021's, nor 24079's
    assert view["document_id"].to_list() == ["out_paper", "out_signed_e"]
    row = view.row(0, named=True)
    assert (row["unit_code"], row["register_year"], row["direction"], row["register_number"],
            row["documents_sharing"]) == ("24076", 2022, "DI", 5, 2)  # fmt: skip
    assert row["direction_label"] == "Văn bản đi" and row["unit_name"] == "Thị trấn Phú Túc"


def test_dossier_result_documents(con: duckdb.DuckDBPyConnection) -> None:
    view = con.execute("SELECT * FROM out_onestop__dossier_result_documents").pl()
    assert view.height == 1  # D-2 has no result document
    row = view.row(0, named=True)
    assert (row["dossier_code"], row["document_id"]) == ("D-1", "out_signed_e")
    assert row["unit_name"] == "Thị trấn Phú Túc" and row["finished_date"] == date(2022, 1, 31)
    assert row["notation"] == "out_signed_e/UBND" and row["register_number"] == 5
    assert row["issued_date"] == date(2022, 2, 1) and row["days_finish_to_issue"] == 1
    assert row["transport_label"] == "Điện tử" and row["digitally_signed"] is True


# --- CLI -------------------------------------------------------------------------------------


@pytest.fixture
def published(settings: Settings, units_csv: Path) -> Settings:
    with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
        wh.write(CORE_EOFFICE_DOCUMENTS, documents_frame(*CASES), "L1")
        wh.publish()
    return settings


ARGS = ["report", "documents", "--from", "2022-01-01", "--to", "2022-03-31"]


def test_cli_table_and_csv(published: Settings) -> None:
    table = runner.invoke(app, ARGS)
    assert table.exit_code == 0, table.output
    assert "Tổng cộng" in table.output and "Thị trấn Phú Túc" in table.output
    assert "50.0 %" in table.output

    csv = runner.invoke(app, [*ARGS, "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    frame = pl.read_csv(io.StringIO(csv.stdout), schema_overrides={"Mã": pl.String})
    assert frame.columns[:4] == ["(1) STT", "Mã", "(2) Đơn vị", "(3) Văn bản đến trong kỳ"]
    assert frame.columns[-3:] == ["Tỷ lệ trao đổi điện tử (%)", "Tỷ lệ ký số (%)",
                                  "Tỷ lệ xử lý đúng hạn (%)"]  # fmt: skip
    total = frame.row(-1, named=True)
    assert total["(2) Đơn vị"] == "Tổng cộng"
    assert [total[c] for c in frame.columns[3:13]] == list(EXPECTED_TOTAL.values())
    assert total["Tỷ lệ ký số (%)"] == 50.0
    phu_tuc = frame.filter(pl.col("Mã") == "24076").row(0, named=True)
    assert phu_tuc["(9) Chưa hoàn thành, trong hạn"] == 2

    months = runner.invoke(app, [*ARGS, "--by", "month", "--format", "csv"])
    frame = pl.read_csv(io.StringIO(months.stdout))
    assert frame["(2) Tháng"].to_list()[:3] == ["Tháng 1/2022", "Tháng 2/2022", "Tháng 3/2022"]
    assert "Từ ngày" in frame.columns and frame["(8) Chưa hoàn thành, quá hạn"].to_list() == [
        1, 0, 1, 1,
    ]  # fmt: skip

    bad = runner.invoke(app, ["report", "documents", "--from", "2022-03-01", "--to", "2022-01-01"])
    assert bad.exit_code == 1 and "starts" in bad.output


def test_cli_xlsx(published: Settings, tmp_path: Path) -> None:
    xlsx = runner.invoke(app, [*ARGS, "--format", "xlsx"])
    assert xlsx.exit_code == 0, xlsx.output
    path = published.reports_dir / "documents_unit_2022-01-01_2022-03-31.xlsx"
    assert path.is_file()
    sheet = pl.read_excel(path, has_header=False, infer_schema_length=0)
    cells = [str(v) for row in sheet.iter_rows() for v in row if v is not None]
    assert "UBND HUYỆN KRÔNG PA" in cells and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells
    assert "Kỳ báo cáo: Quý 1/2022" in cells and "Xã, phường, thị trấn" in cells
    assert [f"({i})" for i in range(1, 13)] == [c for c in cells if c.startswith("(") and
                                                c[1:-1].isdigit()]  # fmt: skip
    assert "[(4)+(11)] / [(3)+(10)]" in cells
    total_row = next(row for row in sheet.iter_rows() if row[2] == TOTAL_LABEL)
    assert [int(float(v)) for v in total_row[3:13]] == list(EXPECTED_TOTAL.values())
    assert [float(v) for v in total_row[13:16]] == [0.5, 0.5, 0.5]
    phu_tuc = next(row for row in sheet.iter_rows() if row[2] == "Thị trấn Phú Túc")
    assert phu_tuc[1] == "24076" and float(phu_tuc[14]) == 0.3333

    out = tmp_path / "vb_thang.xlsx"
    months = runner.invoke(app, [*ARGS, "--by", "month", "-f", "xlsx", "--out", str(out)])
    assert months.exit_code == 0, months.output
    sheet = pl.read_excel(out, has_header=False, infer_schema_length=0)
    names = [row[2] for row in sheet.iter_rows()]
    assert [n for n in names if n and (n.startswith("Tháng ") or n == TOTAL_LABEL)] == [
        "Tháng 1/2022",
        "Tháng 2/2022",
        "Tháng 3/2022",
        TOTAL_LABEL,
    ]
