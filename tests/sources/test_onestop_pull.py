"""pull_to_parquet: parts of bounded size, raw-frame contract, restarts when the window changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onestop_fake_api import BASE, TOKEN, FakeApi, api_item

from sources.errors import SourceWindowChangedError
from sources.onestop.api import OnestopClient, pull_to_parquet
from sources.onestop.fields import RAW_FIELDS
from sources.onestop.fields import RAW_FIELDS as _DOSSIER_FIELDS
from sources.raw import items_to_raw_frame, raw_schema, stringify

RAW_SCHEMA = raw_schema(_DOSSIER_FIELDS)

SINCE = datetime(2021, 1, 1, tzinfo=UTC)
UNTIL = datetime(2021, 2, 1, tzinfo=UTC)


def client(api: FakeApi, page_size: int = 7) -> OnestopClient:
    return OnestopClient(
        BASE,
        TOKEN,
        page_size=page_size,
        transport=api.transport(),
        backoff_s=0,
        sleep=lambda s: None,
        rng=random.Random(0),
    )


def test_parts_have_at_most_rows_per_part_and_number_items(tmp_path: Path) -> None:
    data = [api_item(i) for i in range(50)]
    data[3]["Extra"] = 1
    result = pull_to_parquet(client(FakeApi(data)), SINCE, UNTIL, tmp_path, rows_per_part=20,
                             fields=_DOSSIER_FIELDS)
    assert [p.name for p in result.parts] == [
        "part-00001.parquet",
        "part-00002.parquet",
        "part-00003.parquet",
    ]
    sizes = [pl.read_parquet(p).height for p in result.parts]
    assert sizes == [20, 20, 10]
    assert (result.items, result.total_reported, result.pages, result.restarts) == (50, 50, 8, 0)
    assert result.extra_keys == ["Extra"]
    frame = pl.read_parquet(tmp_path / "part-*.parquet")
    assert frame.schema == RAW_SCHEMA
    assert frame["_source_row"].to_list() == list(range(1, 51))
    assert frame["MaHoSo"].to_list() == [d["MaHoSo"] for d in data]
    assert TOKEN not in frame["_source"][0] and "page=1&page_size=7" in frame["_source"][0]
    assert "page=8" in frame["_source"][49]
    row = frame.row(1, named=True)
    assert (
        row["TrangThaiHoSo"] == "5"
        and row["KetQuaDienTu"] == "false"
        and row["MaTTHC"] == "1.001230"
    )
    assert frame["MaDVHC"][0] is None and frame["SoDienThoai"].null_count() == 50
    assert not list(tmp_path.glob("*.tmp"))


def test_empty_window_writes_no_part(tmp_path: Path) -> None:
    result = pull_to_parquet(client(FakeApi([])), SINCE, UNTIL, tmp_path, fields=_DOSSIER_FIELDS)
    assert (result.parts, result.items, result.total_reported) == ([], 0, 0)


def test_old_parts_are_replaced(tmp_path: Path) -> None:
    (tmp_path / "part-00009.parquet").write_bytes(b"stale")
    result = pull_to_parquet(client(FakeApi([api_item(1)])), SINCE, UNTIL, tmp_path,
                             fields=_DOSSIER_FIELDS)
    assert sorted(tmp_path.iterdir()) == result.parts


def test_window_change_restarts_the_pull(tmp_path: Path) -> None:
    data = [api_item(i) for i in range(30)]
    api = FakeApi(data, total_override={2: 29})  # third request: a dossier left the window
    result = pull_to_parquet(client(api, page_size=10), SINCE, UNTIL, tmp_path, rows_per_part=10,
                             fields=_DOSSIER_FIELDS)
    assert result.restarts == 1 and result.items == 30
    assert pl.read_parquet(tmp_path / "part-*.parquet")["_source_row"].to_list() == list(
        range(1, 31)
    )
    assert len(api.requests) == 3 + 3


def test_window_that_keeps_changing_fails_and_leaves_no_parts(tmp_path: Path) -> None:
    data = [api_item(i) for i in range(30)]
    api = FakeApi(data, total_override={n: 29 for n in range(1, 40, 2)})
    with pytest.raises(SourceWindowChangedError):
        pull_to_parquet(
            client(api, page_size=10),
            SINCE,
            UNTIL,
            tmp_path,
            rows_per_part=5,
            max_window_restarts=2,
            fields=_DOSSIER_FIELDS,
        )
    assert not list(tmp_path.glob("part-*"))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), page=st.integers(1, 25), part=st.integers(1, 40))
def test_parts_partition_the_pull(
    tmp_path_factory: pytest.TempPathFactory, n: int, page: int, part: int
) -> None:
    out = tmp_path_factory.mktemp("pull")
    result = pull_to_parquet(
        client(FakeApi([api_item(i) for i in range(n)]), page), SINCE, UNTIL, out, part,
        fields=_DOSSIER_FIELDS,
    )
    sizes = [pl.read_parquet(p).height for p in result.parts]
    assert (
        sum(sizes) == n and all(s == part for s in sizes[:-1]) and all(0 < s <= part for s in sizes)
    )


@settings(deadline=None)
@given(st.integers())
def test_integers_become_their_decimal_text(value: int) -> None:
    assert int(stringify(value)) == value and stringify(value) == str(value)


@settings(max_examples=50, deadline=None)
@given(st.from_regex(r"\A[12]\.\d{6}(\.\d{3}\.\d{2}\.\d{2}\.H\d{2})?\Z"))
def test_code_strings_are_kept_exactly(code: str) -> None:
    frame, _, _ = items_to_raw_frame([{"MaTTHC": code, "TrangThaiHoSo": 10}], "u", 1, _DOSSIER_FIELDS)
    assert frame["MaTTHC"][0] == code


def test_stringify_other_types() -> None:
    assert [stringify(v) for v in (True, False, None, 1.5, {"b": 1, "a": [1]})] == [
        "true",
        "false",
        None,
        "1.5",
        '{"a":[1],"b":1}',
    ]


def test_raw_frame_has_every_raw_field_as_text() -> None:
    frame, extra, seen = items_to_raw_frame([{"MaHoSo": "x", "Nope": None}], "u", 7, _DOSSIER_FIELDS)
    assert frame.columns == [*RAW_FIELDS, "_source", "_source_row"]
    assert frame.schema == RAW_SCHEMA and extra == {"Nope"} and seen == {"MaHoSo", "Nope"} and frame["_source_row"][0] == 7
