"""validate(): GX verdicts become per-row reasons quoting the raw values, and dq_results rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from expectation_frames import dossier_frames, frames_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expectations.validate import Validation, ValidationError, validate
from warehouse.schema import Check, Column, Severity, Table
from warehouse.tables import CORE_ONESTOP_DOSSIERS

pytestmark = pytest.mark.usefixtures("gx_ready")

T = CORE_ONESTOP_DOSSIERS
C, W = Severity.CRITICAL, Severity.WARNING

# One failure of each check kind the dossier table declares, plus rows the row condition
# lets through (never-received dossiers without a reception date).
BROKEN = [
    ({}, {}),  # 0: valid
    ({"status": None}, {"TrangThaiHoSo": "Đang chờ"}),  # 1: not_null (critical)
    ({"channel": 9}, {}),  # 2: in_set (critical)
    (
        {"procedure_code": None, "procedure_code_raw": "1.00123"},
        {},
    ),  # 3: null is not a regex failure
    ({"procedure_code": "1.00123"}, {"MaTTHC": "1.00123"}),  # 4: matches (warning)
    (
        {"finished_date": dt.date(2021, 3, 10)},
        {"NgayKetThucXuLy": "10/03/2021", "NgayTiepNhan": "15/03/2021"},
    ),  # 5: pair_order (critical), both values quoted
    (
        {"received_at": None, "received_date": None, "status": 4},
        {"NgayTiepNhan": "31/02/2021"},
    ),  # 6
    ({"received_at": None, "received_date": None, "due_date": None, "status": 1}, {}),  # 7: passes
    ({"received_at": None, "received_date": None, "due_date": None, "status": 3}, {}),  # 8: passes
    ({"due_date": None}, {"NgayHenTra": None}),  # 9: not_null when received (warning)
    ({"rating": "Tot", "applicant_id_number": "123"}, {}),  # 10: two warnings, one row
    ({"unit_code": None, "channel": 7}, {"MaDVHC": None}),  # 11: two criticals, declaration order
]


@pytest.fixture(scope="module")
def broken() -> tuple[pl.DataFrame, pl.DataFrame, Validation]:
    core, raw = dossier_frames([c for c, _ in BROKEN], [r for _, r in BROKEN])
    return core, raw, validate(core, raw, T)


def test_reasons_quote_the_raw_field_and_value(broken) -> None:
    _, _, v = broken
    assert v.critical.to_list() == [
        [],
        ["TrangThaiHoSo='Đang chờ': status is missing or not a known status"],
        ["KenhThucHien='9': submission channel is not counter, online or postal"],
        [],
        [],
        [
            "NgayKetThucXuLy='10/03/2021', NgayTiepNhan='15/03/2021': "
            "processing finished before the dossier was received"
        ],
        ["NgayTiepNhan='31/02/2021': reception date is missing or unreadable"],
        [],
        [],
        [],
        [],
        [
            "MaDVHC=(empty): receiving unit not recognised (neither Mã ĐVHC nor the unit name)",
            "KenhThucHien='7': submission channel is not counter, online or postal",
        ],
    ]
    assert v.warnings.to_list() == [
        [],
        [],
        [],
        [],
        ["MaTTHC='1.00123': procedure code is not of the form d.dddddd"],
        [],
        [],
        [],
        [],
        ["NgayHenTra=(empty): due date is missing: the vendor report counts it as on time"],
        [
            "SoGiayTo='123': identity number is not 12 digits",
            "DanhGia='Tot': satisfaction rating is unknown",
        ],
        [],
    ]


def test_series_shape(broken) -> None:
    core, _, v = broken
    assert v.critical.dtype == pl.List(pl.String) and v.warnings.dtype == pl.List(pl.String)
    assert v.critical.len() == v.warnings.len() == core.height
    assert v.quarantined.to_list() == [i in (1, 2, 5, 6, 11) for i in range(core.height)]
    assert v.warned.sum() == 3


def test_results_one_row_per_check_with_counts(broken) -> None:
    core, _, v = broken
    assert len(v.results) == len(T.checks)
    keys = {
        "table_name", "suite", "expectation", "column_name", "severity", "reason",
        "success", "element_count", "unexpected_count",
    }  # fmt: skip
    assert all(set(r) == keys for r in v.results)
    by = {(r["expectation"], r["column_name"]): r for r in v.results}
    status = by["expect_column_values_to_not_be_null", "status"]
    assert (status["element_count"], status["unexpected_count"], status["success"]) == (
        12,
        1,
        False,
    )
    assert status["severity"] == "critical" and status["suite"] == "onestop_dossiers"
    # The row condition: rows 7 and 8 (status 1 and 3) are not examined at all.
    received = by["expect_column_values_to_not_be_null", "received_at"]
    assert (received["element_count"], received["unexpected_count"]) == (10, 1)
    pair = by["expect_column_pair_values_a_to_be_greater_than_b", "finished_date,received_date"]
    assert pair["unexpected_count"] == 1
    regex = by["expect_column_values_to_match_regex", "procedure_code"]
    assert (regex["unexpected_count"], regex["severity"]) == (1, "warning")
    assert by["expect_column_values_to_not_be_null", "dossier_code"]["success"] is True
    assert sum(r["unexpected_count"] for r in v.results) == 10


def test_valid_rows_pass_everything() -> None:
    core, raw = dossier_frames([{}] * 5)
    v = validate(core, raw, T)
    assert v.critical.to_list() == [[]] * 5 and v.warnings.to_list() == [[]] * 5
    assert all(r["success"] and r["unexpected_count"] == 0 for r in v.results)


def test_empty_frame() -> None:
    core, raw = dossier_frames([{}])
    v = validate(core.head(0), raw.head(0), T)
    assert v.critical.len() == 0 and v.critical.dtype == pl.List(pl.String)
    assert all(r["element_count"] == 0 and r["success"] for r in v.results)


def test_chunking_gives_the_same_answer(broken) -> None:
    core, raw, whole = broken
    chunked = validate(core, raw, T, chunk_rows=5)
    assert chunked.critical.to_list() == whole.critical.to_list()
    assert chunked.warnings.to_list() == whole.warnings.to_list()
    assert chunked.results == whole.results


def test_chunking_on_synthetic_rows() -> None:
    from synthetic_dossiers import make_frames

    core, raw, counts = make_frames(30_000, broken_share=0.02, seed=3)
    whole = validate(core, raw, T, chunk_rows=1_000_000)
    chunked = validate(core, raw, T, chunk_rows=7_001)
    assert chunked.critical.equals(whole.critical) and chunked.warnings.equals(whole.warnings)
    assert chunked.results == whole.results
    by = {(r["expectation"], r["column_name"]): r["unexpected_count"] for r in whole.results}
    assert by["expect_column_values_to_be_in_set", "channel"] == counts["channel"]
    assert by["expect_column_values_to_match_regex", "dossier_code"] == counts["dossier_code"]


def test_misaligned_frames_are_refused(broken) -> None:
    core, raw, _ = broken
    with pytest.raises(ValidationError, match="rows"):
        validate(core, raw.head(3), T)


def test_core_frame_breaking_the_contract_is_refused() -> None:
    core, raw = dossier_frames([{}])
    with pytest.raises(ValidationError, match="status"):
        validate(core.with_columns(pl.col("status").cast(pl.String)), raw, T)
    with pytest.raises(ValidationError, match="channel"):
        validate(core.drop("channel"), raw, T)


# A small table with the kinds the dossier table does not declare (between, unique), chunked.
SMALL = Table(
    name="test_small",
    description="between and unique",
    suite="test_small",
    columns=(
        Column("code", "VARCHAR", "a code", source_field="Ma",
               checks=(Check("unique", C, "code appears twice"),)),
        Column("n", "INTEGER", "a count", source_field="SoLuong",
               checks=(Check("between", W, "count is not 1–10", min=1, max=10),)),
        Column("kind", "TINYINT", "a kind", source_field="Loai"),
        Column("ended", "DATE", "end", source_field="Den",
               checks=(Check("pair_order", C, "ends before it starts", other="started", when="kind == 2"),)),
        Column("started", "DATE", "start", source_field="Tu"),
    ),
)  # fmt: skip


def test_between_and_unique_across_chunks() -> None:
    d = dt.date(2024, 1, 1)
    rows = [{"code": f"c{i}", "n": 5, "kind": 1, "ended": d, "started": d} for i in range(40)]
    rows[3]["code"] = rows[37]["code"] = "dup"  # far apart: different row chunks
    rows[5]["n"] = 11
    rows[6]["n"] = None  # null is not out of range
    rows[8].update(kind=2, ended=dt.date(2023, 12, 31))  # fails the pair check
    rows[9].update(kind=1, ended=dt.date(2023, 12, 31))  # condition false: passes
    rows[10].update(kind=2, ended=None)  # either side missing: passes
    core, raw = frames_for(SMALL, rows)
    for chunk_rows in (1_000, 7):
        v = validate(core, raw, SMALL, chunk_rows=chunk_rows)
        failed = {i: r for i, r in enumerate(v.critical.to_list()) if r}
        assert failed == {
            3: ["Ma='dup': code appears twice"],
            8: ["Den='2023-12-31', Tu='2024-01-01': ends before it starts"],
            37: ["Ma='dup': code appears twice"],
        }, chunk_rows
        warned = {i: r for i, r in enumerate(v.warnings.to_list()) if r}
        assert warned == {5: ["SoLuong='11': count is not 1–10"]}
        pair = [r for r in v.results if r["column_name"] == "ended,started"][0]
        assert pair["element_count"] == 2  # rows of kind 2 only


ORDER = Table(
    name="test_order",
    description="reference comparison",
    suite="test_order",
    columns=(
        Column("status", "TINYINT", "status", source_field="TrangThai",
               checks=(Check("in_set", C, "bad status", values=(1, 2, 3, 4)),)),
        Column("a", "DATE", "a", source_field="A",
               checks=(Check("not_null", W, "a missing", when="status not in [1, 3]"),
                       Check("pair_order", C, "a before b", other="b", or_equal=False))),
        Column("b", "DATE", "b", source_field="B"),
    ),
)  # fmt: skip

_dates = st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2024, 1, 5)))
_rows = st.lists(
    st.fixed_dictionaries(
        {"status": st.one_of(st.none(), st.integers(0, 5)), "a": _dates, "b": _dates}
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_rows)
def test_gx_agrees_with_a_plain_polars_reading(rows) -> None:
    core, raw = frames_for(ORDER, rows)
    v = validate(core, raw, ORDER)
    ref = core.select(
        bad_status=pl.col("status").is_not_null() & ~pl.col("status").is_in([1, 2, 3, 4]),
        a_missing=pl.col("a").is_null() & ~pl.col("status").is_in([1, 3]).fill_null(False),
        order=(pl.col("a") <= pl.col("b")).fill_null(False),
    )
    assert (v.critical.list.len() > 0).to_list() == (ref["bad_status"] | ref["order"]).to_list()
    assert (v.warnings.list.len() > 0).to_list() == ref["a_missing"].to_list()


DATES = Table(
    name="test_dates",
    description="between on dates and instants",
    suite="test_dates",
    columns=(
        Column("d", "DATE", "a day", source_field="Ngay",
               checks=(Check("between", W, "day outside 2020–2029", min=dt.date(2020, 1, 1), max="2029-12-31"),)),
        Column("ts", "TIMESTAMPTZ", "an instant", source_field="Luc",
               checks=(Check("between", C, "instant before 2020", min=dt.date(2020, 1, 1)),)),
    ),
)  # fmt: skip


def test_between_on_dates_and_instants() -> None:
    rows = [
        {"d": dt.date(2021, 1, 1), "ts": dt.datetime(2021, 1, 1, tzinfo=dt.UTC)},
        {"d": dt.date(1999, 1, 1), "ts": dt.datetime(2019, 12, 31, 23, tzinfo=dt.UTC)},
        {"d": None, "ts": None},
        {"d": dt.date(2030, 1, 1), "ts": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
    ]
    core, raw = frames_for(DATES, rows)
    v = validate(core, raw, DATES)
    assert [bool(w) for w in v.warnings.to_list()] == [False, True, False, True]
    assert [bool(c) for c in v.critical.to_list()] == [False, True, False, False]


def test_a_check_gx_cannot_evaluate_stops_validation() -> None:
    broken = Table(
        name="test_broken",
        description="a pattern no regex engine accepts",
        suite="test_broken",
        columns=(
            Column("n", "VARCHAR", "n", source_field="N",
                   checks=(Check("matches", W, "n is odd", pattern="([a-z"),)),
        ),
    )  # fmt: skip
    core, raw = frames_for(broken, [{"n": "1"}, {"n": "2"}])
    with pytest.raises(ValidationError, match="could not evaluate"):
        validate(core, raw, broken)


def test_warm_up_threads_share_one_runtime_with_validate(broken) -> None:
    """Warm-ups started while a load stages (and a validate racing them) build GX once."""
    import threading

    from expectations import validate as v

    core, raw, _ = broken
    threads = [v.warm_up([T]) for _ in range(3)]
    racer = threading.Thread(target=lambda: validate(core, raw, T))
    racer.start()
    for t in (*threads, racer):
        t.join(timeout=60)
    assert len(v._RUNTIME) == 1
    assert validate(core, raw, T).critical.to_list() == broken[2].critical.to_list()
