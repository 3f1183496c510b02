"""A secret document's withheld fields are dropped at the door, on DataFrames and lazy plans."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.eoffice.fields import RAW_FIELDS, SECRET_WITHHELD_FIELDS
from sources.eoffice.secrecy import (
    NOT_SECRET_KEYS,
    WITHHELD_COLUMN,
    is_not_secret_expr,
    withhold_secret_fields,
)
from sources.eoffice.vocabulary import SECRECY_LABELS
from transforms.legacy_text import encode_tcvn3, encode_vni

LEAKED = {
    "TrichYeu": "Về việc bảo vệ bí mật nhà nước",
    "CoQuanBanHanh": "Công an tỉnh Gia Lai",
    "NguoiKy": "Trần Văn Út",
    "MaHoSoLienKet": "000.00.31.H21-240315-0009",
}
ALL_WITHHELD = ",".join(SECRET_WITHHELD_FIELDS)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={f: pl.String for f in RAW_FIELDS})


def _doc(secrecy: str | None, **fields: str | None) -> dict:
    return {"MaVanBan": "VB-1", "DoMat": secrecy, "TenLoaiVanBan": "Công văn", **LEAKED, **fields}


NOT_SECRET = [
    "Thuong",
    "thuong",
    " Thuong ",
    "Thường",
    "THƯỜNG",
    "thường",
    nfd("Thường"),
    "Không mật",
    "KHÔNG MẬT",
    nfd("không  mật"),
    "Bình thường",
    "bình\u00a0thường",  # a non-breaking space from a spreadsheet cell
    encode_tcvn3("Thường"),
    encode_tcvn3("THƯỜNG"),
    encode_tcvn3("Không mật"),
    encode_tcvn3("Bình thường"),
    encode_vni("Thường"),
    encode_vni("THƯỜNG"),
    encode_vni("Không mật"),
    encode_vni("Bình thường"),
]
SECRET = [
    "Mat",
    "ToiMat",
    "TuyetMat",
    "Mật",
    "Tối mật",
    "Tuyệt mật",
    encode_tcvn3("Mật"),
    encode_vni("Tối mật"),
    None,  # fail closed: unknown or missing secrecy counts as secret
    "",
    "   ",
    "??",
    "Thuong khan",
    "Thương",  # not the word "thường"
    "Thuờng",
    "Khẩn",
]


def test_every_label_and_legacy_spelling_of_thuong_is_known() -> None:
    for label in SECRECY_LABELS["Thuong"]:
        for spelling in (
            label,
            label.upper(),
            label.lower(),
            encode_tcvn3(label),
            encode_vni(label),
        ):
            assert pl.select(is_not_secret_expr(pl.lit(spelling))).item(), spelling
    assert "thuong" in NOT_SECRET_KEYS


@pytest.mark.parametrize("secrecy", NOT_SECRET)
def test_ordinary_documents_keep_their_fields(secrecy: str) -> None:
    out = withhold_secret_fields(_frame([_doc(secrecy)]))
    assert out.select(SECRET_WITHHELD_FIELDS).row(0) == tuple(
        LEAKED[f] for f in SECRET_WITHHELD_FIELDS
    )
    assert out[WITHHELD_COLUMN].to_list() == [None]


@pytest.mark.parametrize("secrecy", SECRET)
def test_secret_or_unknown_documents_lose_them(secrecy: str | None) -> None:
    out = withhold_secret_fields(_frame([_doc(secrecy)]))
    assert out.select(SECRET_WITHHELD_FIELDS).row(0) == (None,) * len(SECRET_WITHHELD_FIELDS)
    assert out[WITHHELD_COLUMN].to_list() == [ALL_WITHHELD]
    # Everything else stays, the secrecy text included (validation quotes it).
    assert out["DoMat"].to_list() == [secrecy]
    assert out["TenLoaiVanBan"].to_list() == ["Công văn"]


def test_withheld_names_only_what_was_there() -> None:
    rows = [
        _doc(
            "Mat", TrichYeu="", CoQuanBanHanh="", NguoiKy=None, MaHoSoLienKet=None
        ),  # as the API sends
        _doc("Mat", TrichYeu="  ", CoQuanBanHanh=None, NguoiKy=None, MaHoSoLienKet=None),
        _doc("ToiMat", CoQuanBanHanh=None, MaHoSoLienKet=None),
        _doc("TuyetMat", TrichYeu=None, NguoiKy=None),
        _doc("Thuong", TrichYeu=""),
    ]
    out = withhold_secret_fields(_frame(rows))
    assert out[WITHHELD_COLUMN].to_list() == [
        None,
        None,
        "TrichYeu,NguoiKy",
        "CoQuanBanHanh,MaHoSoLienKet",
        None,
    ]
    assert out.select(SECRET_WITHHELD_FIELDS).rows()[:4] == [(None,) * 4] * 4
    assert out["TrichYeu"].to_list()[4] == ""  # an ordinary row is left exactly as it came
    assert out.columns == [*_frame(rows).columns, WITHHELD_COLUMN]
    assert out.schema[WITHHELD_COLUMN] == pl.String


def test_lazy_plan_gives_the_same_frame() -> None:
    rows = [_doc(s) for s in NOT_SECRET + SECRET]
    eager = withhold_secret_fields(_frame(rows))
    lazy = withhold_secret_fields(_frame(rows).lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect(engine="streaming").equals(eager)
    assert lazy.collect().equals(eager)


def test_lazy_scan_of_a_parquet_part(tmp_path) -> None:
    """The way a staged file is read: scan, withhold, sink; the values never reach the part."""
    path = tmp_path / "part.parquet"
    _frame([_doc("Mat"), _doc("Thuong")]).write_parquet(path)
    out_path = tmp_path / "out.parquet"
    withhold_secret_fields(pl.scan_parquet(path)).sink_parquet(out_path)
    out = pl.read_parquet(out_path)
    assert out[WITHHELD_COLUMN].to_list() == [ALL_WITHHELD, None]
    assert out["TrichYeu"].to_list() == [None, LEAKED["TrichYeu"]]


def test_missing_columns_fail_closed() -> None:
    no_secrecy = pl.DataFrame({"MaVanBan": ["VB-1"], "TrichYeu": ["bí mật"]})
    out = withhold_secret_fields(no_secrecy)
    assert out.to_dicts() == [{"MaVanBan": "VB-1", "TrichYeu": None, WITHHELD_COLUMN: "TrichYeu"}]
    only_some = pl.DataFrame({"DoMat": ["Mat"], "NguoiKy": ["Trần Văn Út"]})
    assert withhold_secret_fields(only_some).to_dicts() == [
        {"DoMat": "Mat", "NguoiKy": None, WITHHELD_COLUMN: "NguoiKy"}
    ]


def test_all_null_columns_of_null_type() -> None:
    frame = pl.DataFrame({"DoMat": [None, "Thuong"], "TrichYeu": [None, None]})
    assert frame.schema["TrichYeu"] == pl.Null
    out = withhold_secret_fields(frame)
    assert out[WITHHELD_COLUMN].to_list() == [None, None]
    assert out.schema["TrichYeu"] == pl.String


def test_existing_withheld_is_kept_and_extended() -> None:
    frame = _frame([_doc("Mat"), _doc("Thuong"), _doc("Mat", TrichYeu=None)]).with_columns(
        pl.Series(WITHHELD_COLUMN, ["TrichYeu", "Other", "NguoiKy,TrichYeu"])
    )
    out = withhold_secret_fields(frame)
    assert out[WITHHELD_COLUMN].to_list() == [
        ALL_WITHHELD,
        "Other",
        "NguoiKy,TrichYeu,CoQuanBanHanh,MaHoSoLienKet",
    ]


def test_values_never_appear_in_withheld() -> None:
    out = withhold_secret_fields(_frame([_doc("Mat")]))
    text = out.write_csv()
    assert all(v not in text for v in LEAKED.values())


# ----------------------------------------------------------------------------- properties

_text = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from([*NOT_SECRET, *(s for s in SECRET if s is not None)]),
    # Any text; whitespace as spreadsheets give it (other control characters are not text).
    st.text(
        st.one_of(st.characters(exclude_categories=("Cc", "Cs")), st.sampled_from(" \t\n\u00a0")),
        max_size=12,
    ),
)
_rows = st.lists(
    st.fixed_dictionaries({"DoMat": _text, **{f: _text for f in SECRET_WITHHELD_FIELDS}}),
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rows)
def test_withholding_is_idempotent_and_leaves_no_secret_value(rows: list[dict]) -> None:
    frame = pl.DataFrame(
        rows, schema={"DoMat": pl.String, **{f: pl.String for f in SECRET_WITHHELD_FIELDS}}
    )
    once = withhold_secret_fields(frame)
    assert withhold_secret_fields(once).equals(once)
    assert withhold_secret_fields(frame.lazy()).collect().equals(once)
    ordinary = once.select(is_not_secret_expr(pl.col("DoMat"))).to_series()
    for row, keep, before in zip(once.iter_rows(named=True), ordinary, rows, strict=True):
        if keep:  # a recognisably ordinary document is untouched
            assert all(row[f] == before[f] for f in SECRET_WITHHELD_FIELDS)
            assert row[WITHHELD_COLUMN] is None
            continue
        assert all(row[f] is None for f in SECRET_WITHHELD_FIELDS)
        named = [f for f in SECRET_WITHHELD_FIELDS if before[f] is not None and before[f].strip()]
        assert row[WITHHELD_COLUMN] == (",".join(named) or None)
