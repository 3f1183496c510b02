"""Preparing a write in polars: the rows a mask keeps, one per key, picked once for the main
frame and its personal-data companion, are the rows of filtering first and preparing each
frame on its own (the way it was done before: one copy of the rows more, and two picks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from warehouse_fixtures import core_frame, dossier

from warehouse.personal import COMPANIONS, companion, mask_frame
from warehouse.schema import Column, Strategy, Table
from warehouse.strategies import _version_columns, conform, prepare_split, prepare_write
from warehouse.tables import (
    CORE_ONESTOP_DOSSIERS,
    QUARANTINE_ONESTOP_DOSSIERS,
    RAW_ONESTOP_DOSSIER_VERSIONS,
)

T0 = datetime(2022, 1, 1, tzinfo=UTC)


def _reference_one_per_key(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """One row per key as it was picked before: a stable sort of every row."""
    key = list(table.key)
    if table.strategy is Strategy.APPEND_NEW:
        return frame.unique(subset=key, keep="first", maintain_order=True)
    order = _version_columns(table)
    if not order:
        return frame.unique(subset=key, keep="last", maintain_order=True)
    row = "__row"
    winners = (
        frame.select(*dict.fromkeys([*key, *order])).with_row_index(row)
        .sort(order, descending=[True] + [False] * (len(order) - 1), nulls_last=True,
              maintain_order=True)
        .unique(subset=key, keep="first", maintain_order=True)
        .get_column(row).sort()
    )
    return frame[winners]


def _reference(table: Table, frame: pl.DataFrame, keep: pl.Series | None,
               load_id: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Filter, then conform, mask and pick one row per key, main and companion apart."""
    frame = conform(table, frame if keep is None else frame.filter(keep), load_id)
    main = _reference_one_per_key(table, mask_frame(table, frame))
    twin = COMPANIONS.get(table.name) or (companion(table) if table.pii_columns else None)
    if twin is None:
        return main, None
    return main, _reference_one_per_key(twin, conform(twin, frame.select(twin.column_names)))


def _assert_same(got: tuple[pl.DataFrame, pl.DataFrame | None],
                 want: tuple[pl.DataFrame, pl.DataFrame | None]) -> None:
    for g, w in zip(got, want, strict=True):
        assert (g is None) == (w is None)
        if g is not None:
            assert g.equals(w), (g, w)


KEEP = st.none() | st.lists(st.sampled_from([True, False, None]), min_size=12, max_size=12)


def _keep(values: list[bool | None] | None, height: int) -> pl.Series | None:
    return None if values is None else pl.Series(values[:height], dtype=pl.Boolean)


VERSIONS = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C", "D"]),
        st.sampled_from([0, 1, 2, None]),  # minutes: ties and missing versions on purpose
        st.sampled_from(["h0", "h1", "h2"]),  # hashes: ties on purpose
        st.sampled_from(["Ann", "Bao"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(versions=VERSIONS, keep=KEEP)
def test_core_rows_are_those_of_filtering_then_preparing_each_frame(versions, keep) -> None:
    frame = core_frame(*[
        dossier(code, updated_at=None if m is None else T0 + timedelta(minutes=m), row_hash=h,
                applicant_name=name, status=i % 10 + 1)
        for i, (code, m, h, name) in enumerate(versions)
    ])
    mask = _keep(keep, frame.height)
    prepared = prepare_write(CORE_ONESTOP_DOSSIERS, frame, "L1", keep=mask)
    _assert_same((prepared.main, prepared.companion),
                 _reference(CORE_ONESTOP_DOSSIERS, frame, mask, "L1"))


def _raw(hashes: list[str], reasons: bool) -> pl.DataFrame:
    rows = [{"MaHoSo": f"X{i}", "ChuHoSo": f"name {i}", "row_hash": h, "source": "f.csv",
             "source_row": i, "load_id": "L1"} for i, h in enumerate(hashes)]
    frame = pl.DataFrame(rows)
    if reasons:
        quoted = pl.concat_list(pl.lit("ChuHoSo='") + pl.col("ChuHoSo") + pl.lit("': rule"))
        frame = frame.with_columns(quoted.alias("reasons"))
    return frame


@settings(max_examples=40, deadline=None)
@given(hashes=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=12),
       keep=KEEP)
def test_raw_and_quarantine_rows_are_those_of_filtering_then_preparing(hashes, keep) -> None:
    for table, reasons in ((RAW_ONESTOP_DOSSIER_VERSIONS, False),
                           (QUARANTINE_ONESTOP_DOSSIERS, True)):
        frame = _raw(hashes, reasons)
        mask = _keep(keep, frame.height)
        prepared = prepare_write(table, frame, keep=mask)
        _assert_same((prepared.main, prepared.companion), _reference(table, frame, mask))


def test_a_mask_keeping_every_row_keeps_the_frame_without_a_copy() -> None:
    frame = conform(RAW_ONESTOP_DOSSIER_VERSIONS, _raw(["a", "b", "c"], reasons=False))
    prepared = prepare_write(RAW_ONESTOP_DOSSIER_VERSIONS, frame, keep=pl.Series([True] * 3))
    assert prepared.main.get_column("MaHoSo").equals(frame.get_column("MaHoSo"))
    assert prepared.companion.get_column("ChuHoSo").to_list() == ["name 0", "name 1", "name 2"]
    assert prepared.main.get_column("ChuHoSo").null_count() == 3


def test_a_personal_key_is_picked_apart_for_each_frame() -> None:
    """Masking would rewrite the key: the main frame picks among masked rows, as before."""
    table = Table(
        name="t_personal_key", description="",
        columns=(Column("k", "VARCHAR", "", pii=True), Column("v", "BIGINT", ""),
                 Column("row_hash", "VARCHAR", "")),
        key=("k",), strategy=Strategy.MERGE, version_column="v",
    )
    frame = pl.DataFrame({"k": ["x", "y", "x"], "v": [1, 2, 3], "row_hash": ["a", "b", "c"]})
    got = prepare_split(table, companion(table), frame)
    _assert_same(got, _reference(table, frame, None))
    assert got[0].height == 1 and got[1].height == 2
