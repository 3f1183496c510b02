"""Identity numbers become keyed hashes before anything is written (sources/idhash.py)."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given as given_values
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cchc.config import Settings
from cchc.redacted_copy import write_redacted_copy
from sources.idhash import (
    IRREGULAR_PREFIX,
    KEY_ENV,
    canonical_id,
    hash_columns,
    hash_id,
    id_hash_key,
    key_path,
    keyed_hmac,
    scrub_bytes,
)
from sources.onestop.spec import ONESTOP

KEY = b"test-key-0123456789abcdef"
NUMBER = "064123456789"


def _hmac(text: str, key: bytes = KEY) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("given", [
    "064123456789", "64123456789", "64123456789.0", "6.4123456789E+10", " 064 123 456 789 ",
    "064-123-456-789", "０６４１２３４５６７８９",
])  # fmt: skip
def test_every_spelling_of_one_number_hashes_alike(given: str) -> None:
    assert canonical_id(given) == NUMBER
    assert hash_id(given, KEY) == _hmac(NUMBER)


def test_hanoi_numbers_get_both_leading_zeros_back() -> None:
    assert canonical_id("1123456789") == "001123456789"


def test_irregular_shapes_are_hashed_and_marked_empty_is_null() -> None:
    assert hash_id("123456789", KEY) == IRREGULAR_PREFIX + _hmac("123456789")  # old CMND
    assert hash_id("b1234567", KEY) == IRREGULAR_PREFIX + _hmac("B1234567")  # a passport
    assert hash_id("  ", KEY) is None and hash_id(None, KEY) is None


@hypothesis_settings(max_examples=200, deadline=None)
@given_values(st.lists(st.one_of(
    st.from_regex(r"[0-9]{12}", fullmatch=True),  # canonical as it stands: the fast path
    st.from_regex(r"[0-9 .\-]{8,14}(\.0)?", fullmatch=True),
    st.text(alphabet="0123456789０１２３abcXYZĐđ .-/E+", max_size=16),
    st.none()), max_size=40))
def test_a_column_hashes_every_value_as_hash_id_does(values: list[str | None]) -> None:
    frame = pl.DataFrame({"SoGiayTo": values}, schema={"SoGiayTo": pl.String})
    hashed = hash_columns(frame, ("SoGiayTo",), KEY)["SoGiayTo"].to_list()
    assert hashed == [hash_id(v, KEY) for v in values]


@given_values(st.binary(max_size=200), st.lists(st.binary(max_size=80), max_size=5))
def test_the_keyed_hmac_is_the_standard_hmac(key: bytes, messages: list[bytes]) -> None:
    """Keys shorter and longer than SHA-256's 64-byte block; the precomputed pads are reused."""
    mac = keyed_hmac(key)
    assert [mac(m) for m in messages] == [hmac.new(key, m, hashlib.sha256).hexdigest()
                                          for m in messages]


def test_hashing_is_idempotent_and_keyed() -> None:
    once = hash_id(NUMBER, KEY)
    assert hash_id(once, KEY) == once
    irregular = hash_id("123", KEY)
    assert hash_id(irregular, KEY) == irregular
    assert hash_id(NUMBER, b"another-key-0123456789") != once


def test_key_from_the_environment_else_generated_once_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert id_hash_key(settings, {KEY_ENV: "k" * 20}) == b"k" * 20
    with pytest.raises(ValueError, match="too short"):
        id_hash_key(settings, {KEY_ENV: "short"})
    generated = id_hash_key(settings, {})
    assert len(generated) == 64 and id_hash_key(settings, {}) == generated
    assert stat.S_IMODE(os.stat(key_path(settings)).st_mode) == 0o600


def test_the_spec_redacts_pages_and_lazy_file_plans_alike(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    redact = ONESTOP.redactor(settings)
    key = id_hash_key(settings)
    frame = pl.DataFrame({"MaHoSo": ["A", "B", "C"], "SoGiayTo": [NUMBER, "64123456789", None]})
    eager = redact(frame)
    assert eager["SoGiayTo"].to_list() == [_hmac(NUMBER, key), _hmac(NUMBER, key), None]
    assert redact(frame.lazy()).collect().equals(eager)
    assert eager["MaHoSo"].to_list() == ["A", "B", "C"]


def test_scrub_replaces_identity_like_runs_only() -> None:
    text = (b"STT,So,Ngay\n1,064123456789,15/03/2021 17:00,44270.437500000001,"
            b"000.00.37.H21-210315-0007,1.001234,64123456789.0,20210315103000\n")
    out = scrub_bytes(text, KEY)
    assert b"064123456789" not in out and b"64123456789" not in out
    assert out.count(_hmac(NUMBER).encode()) == 2
    for kept in (b"44270.437500000001", b"000.00.37.H21-210315-0007", b"1.001234",
                 b"20210315103000", b"15/03/2021 17:00"):
        assert kept in out


def test_redacted_copy_of_a_csv_across_blocks_and_of_a_workbook(tmp_path: Path,
                                                                monkeypatch) -> None:
    import cchc.redacted_copy as rc

    monkeypatch.setattr(rc, "BLOCK", 7)  # tokens straddle many block boundaries
    csv = tmp_path / "in.csv"
    csv.write_bytes(b"a,064123456789,b\n" * 5 + b"x,123456789")
    out = write_redacted_copy(csv, tmp_path / "out.csv", KEY).read_bytes()
    assert out == scrub_bytes(csv.read_bytes(), KEY) and b"064123456789" not in out

    book = tmp_path / "in.xlsx"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("xl/sharedStrings.xml", f"<sst><si><t>{NUMBER}</t></si></sst>")
        z.writestr("xl/worksheets/sheet1.xml", "<c><v>64123456789</v></c>")
        z.writestr("docProps/app.xml", "<x>keep 123456789012 here</x>")
    copy = write_redacted_copy(book, tmp_path / "out.xlsx", KEY)
    with zipfile.ZipFile(copy) as z:
        assert _hmac(NUMBER) in z.read("xl/sharedStrings.xml").decode()
        assert z.read("xl/worksheets/sheet1.xml").decode() == f"<c><v>{_hmac(NUMBER)}</v></c>"
        assert z.read("docProps/app.xml") == b"<x>keep 123456789012 here</x>"
