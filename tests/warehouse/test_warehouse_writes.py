"""Write strategies: MERGE newest-wins with a total order, APPEND_NEW, APPEND, REPLACE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warehouse_fixtures import core_frame, dossier

from warehouse.ddl import create_table_sql, ensure_schema
from warehouse.strategies import WriteResult, conform, write_frame
from warehouse.tables import (
    CORE_ONESTOP_DOSSIERS,
    DIM_ADMIN_UNIT,
    DQ_ALERTS,
    DQ_RESULTS,
    RAW_ONESTOP_DOSSIER_VERSIONS,
)

T0 = datetime(2022, 1, 1, tzinfo=UTC)


def _con(*, core_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if core_only:  # property tests: one table is enough and much faster than the whole schema
        con.execute(create_table_sql(CORE_ONESTOP_DOSSIERS))
    else:
        ensure_schema(con)
    return con


def _core(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT dossier_code, status, updated_at, row_hash, load_id "
        "FROM core_onestop__dossiers ORDER BY dossier_code"
    ).fetchall()


def _v(code: str, minutes: int, status: int, row_hash: str) -> dict:
    return dossier(
        code, updated_at=T0 + timedelta(minutes=minutes), status=status, row_hash=row_hash
    )


def test_merge_inserts_then_newer_wins_and_older_never_overwrites() -> None:
    con = _con()
    first = core_frame(_v("A", 0, 2, "h1"), _v("B", 0, 2, "h2"))
    assert write_frame(con, CORE_ONESTOP_DOSSIERS, first, "L1") == WriteResult(2, 0)
    newer = core_frame(_v("A", 10, 4, "h3"), _v("C", 0, 2, "h4"))
    assert write_frame(con, CORE_ONESTOP_DOSSIERS, newer, "L2") == WriteResult(1, 1)
    older = core_frame(_v("A", 5, 9, "h5"))
    assert write_frame(con, CORE_ONESTOP_DOSSIERS, older, "L3") == WriteResult(0, 0)
    assert _core(con) == [
        ("A", 4, T0 + timedelta(minutes=10), "h3", "L2"),
        ("B", 2, T0, "h2", "L1"),
        ("C", 2, T0, "h4", "L2"),
    ]


def test_merge_tie_keeps_the_smaller_row_hash_and_reload_changes_nothing() -> None:
    con = _con()
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(_v("A", 0, 4, "hb")), "L1")
    tie = core_frame(_v("A", 0, 9, "ha"))
    assert write_frame(con, CORE_ONESTOP_DOSSIERS, tie, "L2") == WriteResult(0, 1)
    assert write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(_v("A", 0, 5, "hc")), "L3") == (
        WriteResult(0, 0)
    )
    assert write_frame(con, CORE_ONESTOP_DOSSIERS, tie, "L4") == WriteResult(0, 0)
    assert _core(con) == [("A", 9, T0, "ha", "L2")]


def test_merge_reduces_a_frame_to_one_row_per_key() -> None:
    con = _con()
    frame = core_frame(_v("A", 0, 2, "h1"), _v("A", 3, 4, "h9"), _v("A", 3, 5, "h2"))
    assert write_frame(con, CORE_ONESTOP_DOSSIERS, frame, "L1") == WriteResult(1, 0)
    assert _core(con) == [("A", 5, T0 + timedelta(minutes=3), "h2", "L1")]


VERSIONS = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.integers(0, 3),  # minutes: many ties on purpose
        st.sampled_from(["h0", "h1", "h2", "h3"]),
    ),
    min_size=1,
    max_size=12,
    unique=True,
)


@settings(max_examples=40, deadline=None)
@given(versions=VERSIONS, data=st.data())
def test_merge_result_does_not_depend_on_load_order_or_batching(versions, data) -> None:
    rows = [_v(code, minutes, status=minutes + 2, row_hash=h) for code, minutes, h in versions]
    expected_con = _con(core_only=True)
    write_frame(expected_con, CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L")
    expected = [r[:4] for r in _core(expected_con)]

    order = data.draw(st.permutations(rows))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=4)))
    con = _con(core_only=True)
    for start, end in zip([0, *cuts], [*cuts, len(order)], strict=True):
        if order[start:end]:
            write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*order[start:end]), "L")
    assert [r[:4] for r in _core(con)] == expected
    again = write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*order), "L")
    assert again == WriteResult(0, 0)


def _raw(row_hash: str, code: str, row: int) -> dict:
    return {"MaHoSo": code, "row_hash": row_hash, "source": "f.csv", "source_row": row}


def test_append_new_keeps_the_first_row_per_key_and_skips_stored_keys() -> None:
    con = _con()
    frame = pl.DataFrame([_raw("x", "A", 2), _raw("x", "A", 3), _raw("y", "B", 4)])
    assert write_frame(con, RAW_ONESTOP_DOSSIER_VERSIONS, frame, "L1") == WriteResult(2, 0)
    again = pl.DataFrame([_raw("y", "B", 9), _raw("z", "C", 1)])
    assert write_frame(con, RAW_ONESTOP_DOSSIER_VERSIONS, again, "L2") == WriteResult(1, 0)
    rows = con.execute(
        "SELECT row_hash, source_row, load_id FROM raw_onestop__dossier_versions ORDER BY 1"
    ).fetchall()
    assert rows == [("x", 2, "L1"), ("y", 4, "L1"), ("z", 1, "L2")]


def test_append_and_replace() -> None:
    con = _con()
    result = {"load_id": "L1", "expectation": "e", "success": True}
    for _ in range(2):
        assert write_frame(con, DQ_RESULTS, pl.DataFrame([result])) == WriteResult(1, 0)
    assert con.execute("SELECT count(*) FROM dq_results").fetchone() == (2,)
    units = pl.DataFrame([{"unit_code": "1", "name": "X"}, {"unit_code": "2", "name": "Y"}])
    units = units.with_columns(valid_from=pl.date(2008, 1, 1))  # part of the key
    write_frame(con, DIM_ADMIN_UNIT, units)
    write_frame(con, DIM_ADMIN_UNIT, units.head(1))
    assert con.execute("SELECT unit_code FROM dim_admin_unit").fetchall() == [("1",)]


def test_conform_refuses_unknown_and_missing_required_columns() -> None:
    with pytest.raises(ValueError, match="does not declare.*typo"):
        conform(DQ_ALERTS, pl.DataFrame({"alert_id": ["a"], "typo": [1]}))
    with pytest.raises(ValueError, match="lacks required.*updated_at"):
        conform(
            CORE_ONESTOP_DOSSIERS, pl.DataFrame({"dossier_code": ["A"], "row_hash": ["h"]}), "L"
        )
    out = conform(DQ_ALERTS, pl.DataFrame({"alert_id": ["a"]}))
    assert out.columns == DQ_ALERTS.column_names and out.schema == DQ_ALERTS.polars_schema()
