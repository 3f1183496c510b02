"""TCVN3 / VNI → Unicode: anchors, every letter with every tone, detection never fires on Unicode."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transforms_samples import NAMES, WORDS, nfd

from transforms.legacy_text import (
    decode_tcvn3,
    decode_vni,
    detect,
    encode_tcvn3,
    encode_vni,
    repair,
    repair_frame,
)

VOWELS = "aăâeêioôơuưy"
TONED = [
    unicodedata.normalize("NFC", v + t)
    for v in VOWELS
    for t in ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
]
LETTERS = TONED + ["đ"]


# -- anchors from docs/source-systems.md §6 and the classic slogans ---------------------------------------


@pytest.mark.parametrize(
    ("legacy", "unicode", "encoding"),
    [
        ("hép møt tÕt", "hộp mứt tết", "tcvn3"),
        ("Xin chaøo caùc baïn", "Xin chào các bạn", "vni"),
        ("Céng hßa x· héi chñ nghÜa ViÖt Nam", "Cộng hòa xã hội chủ nghĩa Việt Nam", "tcvn3"),
        ("§éc lËp - Tù do - H¹nh phóc", "Độc lập - Tự do - Hạnh phúc", "tcvn3"),
        ("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam", "Cộng hòa xã hội chủ nghĩa Việt Nam", "vni"),
        ("Ñoäc laäp - Töï do - Haïnh phuùc", "Độc lập - Tự do - Hạnh phúc", "vni"),
        ("CéNG HßA X· HéI CHñ NGHÜA VIÖT NAM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "tcvn3"),
        ("UBND x· Ia Rs\xad¬m", "UBND xã Ia Rsươm", "tcvn3"),
        ("NguyÔn ThÞ ¸nh", "Nguyễn Thị Ánh", "tcvn3"),
        ("§· tr¶ kÕt qu¶", "Đã trả kết quả", "tcvn3"),
        ("Ñaõ traû keát quaû", "Đã trả kết quả", "vni"),
        ("Maõ hoà sô", "Mã hồ sơ", "vni"),
        ("Sè hãa", "Số hóa", "tcvn3"),
    ],
)
def test_known_samples(legacy: str, unicode: str, encoding: str) -> None:
    assert detect(legacy) == encoding
    assert repair(legacy) == unicode


def test_tables_cover_every_letter_once() -> None:
    """Both encodings give each of the 134 Vietnamese letters its own spelling."""
    lower = [encode_tcvn3(c) for c in LETTERS]
    assert len(set(lower)) == len(LETTERS)
    vni = [encode_vni(c) for c in LETTERS] + [encode_vni(c.upper()) for c in LETTERS]
    assert len(set(vni)) == 2 * len(LETTERS)


# -- round trips: encode, then decode gives the text back -------------------------------------


@pytest.mark.parametrize("letter", LETTERS)
def test_vni_round_trip_every_letter(letter: str) -> None:
    for text in (
        f"b{letter}n",
        letter,
        f"B{letter.upper()}N",
        letter.upper(),
        f"{letter.upper()}n",
    ):
        assert decode_vni(encode_vni(text)) == text


@pytest.mark.parametrize("letter", LETTERS)
def test_tcvn3_round_trip_every_letter(letter: str) -> None:
    # Inside a word, as a capital opening a cell, and in an all-caps word (.VnTimeH).
    for text in (f"b{letter}n", f"{letter.upper()}n thi", f"B{letter.upper()}N", f"x {letter}"):
        assert decode_tcvn3(encode_tcvn3(text)) == text


def test_tcvn3_capitals_of_names() -> None:
    for name in NAMES:
        assert decode_tcvn3(encode_tcvn3(name)) == name


def test_decoders_leave_ascii_alone() -> None:
    text = "MaHoSo 000.00.12.H21-210315-0007 (UBND) #1"
    assert decode_tcvn3(text) == text
    assert decode_vni(text) == text


vietnamese_text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)


def _styled(text: str, style: str) -> str:
    if style == "sentence":
        return text[:1].upper() + text[1:]
    if style == "title":
        return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
    if style == "upper":
        return text.upper()
    return text


@settings(max_examples=150, deadline=None)
@given(vietnamese_text, st.sampled_from(["lower", "sentence", "title", "upper"]))
def test_vni_round_trip_property(text: str, style: str) -> None:
    text = _styled(text, style)
    assert decode_vni(encode_vni(text)) == text


@settings(max_examples=150, deadline=None)
@given(vietnamese_text)
def test_tcvn3_round_trip_property(text: str) -> None:
    """Sentence case, the form of labels, names of procedures and units."""
    text = _styled(text, "sentence")
    assert decode_tcvn3(encode_tcvn3(text)) == text


@settings(max_examples=150, deadline=None)
@given(vietnamese_text)
def test_tcvn3_round_trip_all_caps(text: str) -> None:
    text = "UBND " + text.upper()  # a heading: ASCII capitals mark the .VnTimeH font
    assert decode_tcvn3(encode_tcvn3(text)) == text


# -- detection never fires on Unicode or ASCII -----------------------------------------------


@settings(max_examples=500, deadline=None)
@given(vietnamese_text, st.sampled_from(["lower", "sentence", "title", "upper"]), st.booleans())
def test_detect_does_not_fire_on_unicode(text: str, style: str, decomposed: bool) -> None:
    text = _styled(text, style)
    if decomposed:
        text = nfd(text)
    assert detect(text) is None
    assert repair(text) == text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_detect_does_not_fire_on_ascii(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize(
    "text", ["2×3 = 6", "Nhiệt độ 30°C", "© 2021", "½", "Hoà Bình", "Tú", "", None]
)
def test_detect_leaves_ordinary_text(text: str | None) -> None:
    assert detect(text) is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=3, max_size=8).map(" ".join))
def test_detect_finds_most_legacy_sentences(text: str) -> None:
    """A sentence in a legacy encoding is recognised, or left alone: never misread as Unicode
    of another kind (a converted text is well-formed Vietnamese by construction)."""
    text = _styled(text, "sentence")
    for enc, encode in (("tcvn3", encode_tcvn3), ("vni", encode_vni)):
        legacy = encode(text)
        if legacy == text:
            continue
        found = detect(legacy)
        assert found in (enc, "tcvn3", "vni", None)
        if found == enc:
            assert repair(legacy) == text


# -- frames ------------------------------------------------------------------------------------


def test_repair_frame_converts_a_legacy_column_and_reports_it() -> None:
    status = ["§· tr¶ kÕt qu¶", "§ang xö lý", "Cã", None, "Kh«ng"]
    df = pl.DataFrame(
        {
            "TrangThaiHoSo": status,
            "KetQuaDienTu": ["Cã", "Kh«ng", "Cã", "Cã", "Kh«ng"],
            "MaHoSo": ["a", "b", "c", "d", "e"],
        }
    )
    out, notes = repair_frame(df, ["TrangThaiHoSo", "KetQuaDienTu", "MaHoSo"])
    assert out["TrangThaiHoSo"].to_list() == ["Đã trả kết quả", "Đang xử lý", "Có", None, "Không"]
    # "Cã" alone reads as Unicode; next to "Kh«ng" the column is TCVN3, so it is "Có".
    assert out["KetQuaDienTu"].to_list() == ["Có", "Không", "Có", "Có", "Không"]
    assert {(n.column, n.encoding, n.cells) for n in notes} == {
        ("TrangThaiHoSo", "tcvn3", 4),
        ("KetQuaDienTu", "tcvn3", 5),
    }
    assert "TCVN3" in str(notes[0])
    assert df["TrangThaiHoSo"].to_list() == status  # the input frame is not modified


def test_repair_frame_follows_the_file_for_a_column_without_evidence() -> None:
    df = pl.DataFrame({"a": ["Kh«ng", "§· tr¶"], "b": ["Cã", "Cã"]})
    out, _ = repair_frame(df, ["a", "b"])
    assert out["b"].to_list() == ["Có", "Có"]


def test_repair_frame_vni_column_reads_ambiguous_cells_as_vni() -> None:
    df = pl.DataFrame({"name": ["Nguyeãn Vaên Tö", "Tö", "Traàn Thò Böu"]})
    out, notes = repair_frame(df, ["name"])
    assert out["name"].to_list() == ["Nguyễn Văn Tư", "Tư", "Trần Thị Bưu"]
    assert [(n.encoding, n.cells) for n in notes] == [("vni", 3)]


def test_repair_frame_keeps_unicode_and_nfd_cells() -> None:
    cells = ["Nguyễn Thị Ánh", nfd("Lê Văn Tú"), "Hoà Bình", "Tú", "UBND xã Uar"]
    df = pl.DataFrame({"name": cells + ["NguyÔn V¨n B"]})
    out, notes = repair_frame(df, ["name"])
    assert out["name"].to_list()[:5] == cells
    assert out["name"][5] == "Nguyễn Văn B"
    assert [(n.encoding, n.cells) for n in notes] == [("tcvn3", 1)]


def test_repair_frame_on_clean_unicode_changes_nothing() -> None:
    df = pl.DataFrame({"t": [" ".join(WORDS[i : i + 4]) for i in range(0, len(WORDS) - 4)]})
    out, notes = repair_frame(df, ["t"])
    assert notes == []
    assert out.equals(df)
