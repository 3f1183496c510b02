"""Suites are derived from the declarations: one GX expectation per Check, meta for the way back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expectations import suites
from warehouse.schema import Check, Column, Severity, Table
from warehouse.tables import CORE_ONESTOP_DOSSIERS

pytestmark = pytest.mark.usefixtures("gx_ready")

T = CORE_ONESTOP_DOSSIERS


def test_one_expectation_per_declared_check() -> None:
    suite = suites.build_suite(T)
    assert suite.name == "onestop_dossiers"
    assert len(suite.expectations) == len(T.checks)
    kinds = {
        "not_null": "expect_column_values_to_not_be_null",
        "in_set": "expect_column_values_to_be_in_set",
        "not_in_set": "expect_column_values_to_not_be_in_set",
        "matches": "expect_column_values_to_match_regex",
        "pair_order": "expect_column_pair_values_a_to_be_greater_than_b",
    }
    for exp, (col, chk) in zip(suite.expectations, T.checks, strict=True):
        assert exp.expectation_type == kinds[chk.kind]
        assert exp.meta["reason"] == chk.reason and exp.meta["severity"] == chk.severity.value
        assert exp.severity == chk.severity.value  # GX 1.x's own severity field too
        assert exp.meta["source_fields"][0] == (col.source_field or col.name)


def test_pair_order_ignores_rows_with_a_missing_side() -> None:
    suite = suites.build_suite(T)
    (pair,) = [e for e in suite.expectations if "pair" in e.expectation_type]
    assert (pair.column_A, pair.column_B) == ("finished_date", "received_date")
    assert pair.or_equal is True and pair.ignore_row_if == "either_value_is_missing"
    assert pair.meta["source_fields"] == ["NgayKetThucXuLy", "NgayTiepNhan"]


def test_row_condition_becomes_a_gx_condition_object() -> None:
    from great_expectations.expectations.row_conditions import (
        AndCondition,
        ComparisonCondition,
        PassThroughCondition,
    )

    cond = suites.row_condition("status not in [1, 3]")
    assert isinstance(cond, ComparisonCondition)
    assert (cond.column.name, cond.operator, cond.parameter) == ("status", "NOT_IN", [1, 3])
    both = suites.row_condition("status == 4 and channel != 2")
    assert isinstance(both, AndCondition) and len(both.conditions) == 2
    # Anything richer is handed to DataFrame.query as GX does with legacy strings.
    odd = suites.row_condition("status.isnull() or channel > 1")
    assert isinstance(odd, PassThroughCondition)
    assert suites.row_condition(None) is None


def test_unknown_kind_is_refused() -> None:
    bad = Table(
        "t",
        "bad",
        columns=(Column("x", "VARCHAR", "x", checks=(Check("looks_ok", Severity.WARNING, "?"),)),),
    )
    with pytest.raises(ValueError, match="looks_ok"):
        suites.build_suite(bad)


def test_suite_written_as_json(tmp_path: Path) -> None:
    path = suites.write_suite(suites.build_suite(T), tmp_path / "gx")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["name"] == "onestop_dossiers" and len(data["expectations"]) == len(T.checks)
    received = [e for e in data["expectations"] if e["kwargs"].get("column") == "received_at"][0]
    assert received["kwargs"]["row_condition"]["type"] == "comparison"
    assert "Mã ĐVHC" in path.read_text(encoding="utf-8")  # reasons kept readable


def test_shape_suite_covers_the_frame_columns() -> None:
    shape = suites.build_shape_suite(T)
    columns = suites.frame_columns(T)
    assert "load_id" not in columns and "dq_warnings" not in columns
    assert shape.expectations[0].expectation_type == "expect_table_columns_to_match_set"
    assert len(shape.expectations) == 1 + len(columns)


def test_data_docs_render_the_suite(tmp_path: Path) -> None:
    index = suites.write_data_docs([T], tmp_path / "docs")
    suites.write_data_docs([T], tmp_path / "docs")  # again: same site, suite updated
    assert index.is_file()
    page = (tmp_path / "docs" / "expectations" / "onestop_dossiers.html").read_text(
        encoding="utf-8"
    )
    assert "processing finished before the dossier was received" in page


def test_between_bounds_follow_the_column_type(tmp_path: Path) -> None:
    import datetime as dt

    table = Table(
        "t_bounds",
        "bounds",
        suite="t_bounds",
        columns=(
            Column("d", "DATE", "d", checks=(Check("between", Severity.WARNING, "d", min=dt.date(2020, 1, 1)),)),
            Column("ts", "TIMESTAMPTZ", "ts", checks=(Check("between", Severity.WARNING, "ts", max="2030-01-01"),)),
            Column("n", "INTEGER", "n", checks=(Check("between", Severity.WARNING, "n", min=1, max=9),)),
        ),
    )  # fmt: skip
    d, ts, n = suites.build_suite(table).expectations
    assert d.min_value == dt.datetime(2020, 1, 1) and d.min_value.tzinfo is None
    assert ts.max_value == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert (n.min_value, n.max_value) == (1, 9)
    json.loads(suites.write_suite(suites.build_suite(table), tmp_path).read_text(encoding="utf-8"))
