"""The e-document side: determinism, truth invariants, §2.1 report identities, dirt and manifest,
and that the dossier side is untouched."""

from __future__ import annotations

import unicodedata
from datetime import date

import numpy as np
import polars as pl
import pytest

from simulator import doc_catalog as dc
from simulator.dataset import build_dataset, get_dataset
from simulator.doc_dataset import build_documents
from simulator.doc_dirt import KINDS, LEAK_PREFIX
from simulator.options import DocDirtOptions, make_options
from simulator.testing import simulated_dataset, simulated_documents

ID_RE = r"^VB-\d{3,5}-20\d\d-(DEN|DI)-\d{6}$"
Q4 = (date(2022, 10, 1), date(2022, 12, 31))
SCENARIO = (date(2021, 1, 1), date(2022, 12, 31))


@pytest.fixture(scope="module")
def docs():
    return simulated_documents()


@pytest.fixture(scope="module")
def clean():
    return simulated_documents(dirt="clean")


def test_deterministic_and_seeded() -> None:
    opts = make_options(scenario="scale", dossiers=6000, units=4, years=1, seed=11)
    a, b = build_documents(opts), build_documents(opts)
    assert a.items.equals(b.items) and a.manifest.entries.equals(b.manifest.entries)
    c = build_documents(make_options(opts, seed=12))
    assert not a.truth["MaVanBan"].equals(c.truth["MaVanBan"]) or not a.truth.equals(c.truth)
    assert a.truth.height == round(0.43 * 6000) and build_documents(make_options(opts, documents=500)).truth.height == 500


def test_volumes_and_seasons(docs) -> None:
    t = docs.truth
    year = pl.coalesce("NgayDen", "NgayBanHanh").dt.year()
    per = t.group_by("MaDVHC", "LoaiVanBan", year.alias("y")).len()
    district = per.filter(pl.col("MaDVHC") == "637")
    assert district.filter(pl.col("LoaiVanBan") == "DEN")["len"].is_between(2700, 3400).all()
    assert district.filter(pl.col("LoaiVanBan") == "DI")["len"].is_between(1800, 2300).all()
    communes = per.filter(pl.col("MaDVHC") != "637")
    assert communes.filter(pl.col("LoaiVanBan") == "DEN")["len"].is_between(420, 1050).all()
    assert communes.filter(pl.col("LoaiVanBan") == "DI")["len"].is_between(280, 700).all()
    month = t.group_by(pl.coalesce("NgayDen", "NgayBanHanh").dt.month().alias("m")).len().sort("m")["len"].to_list()
    assert month[1] < min(month[2:11]) and month[11] > max(month[:11])
    assert t.filter(pl.col("NgayBanHanh").dt.weekday() >= 6, pl.col("LoaiVanBan") == "DI").height == 0


def test_truth_invariants(docs) -> None:
    t = docs.truth
    assert t["MaVanBan"].is_unique().all() and t["MaVanBan"].str.contains(ID_RE).all()
    den, di = t.filter(pl.col("LoaiVanBan") == "DEN"), t.filter(pl.col("LoaiVanBan") == "DI")
    assert den["SoVanBan"].is_null().all() and di["SoDen"].is_null().all() and di["NgayDen"].is_null().all()
    assert (den["NgayDen"] >= den["NgayBanHanh"]).all()
    # Numbers: 1..N per body, year, direction (the repeated ones aside, N is still the count).
    for frame, num, day in ((den, "SoDen", "NgayDen"), (di, "SoVanBan", "NgayBanHanh")):
        g = frame.group_by("MaDonVi", pl.col(day).dt.year()).agg(pl.len(), pl.col(num).max(), pl.col(num).n_unique().alias("u"))
        assert (g[num] == g["len"]).all()
        assert int((g["len"] - g["u"]).sum()) == docs.manifest.entries.filter(
            pl.col("kind") == "repeated_numbers", pl.col("detail").str.starts_with(num)).height
    assert set(t["TenLoaiVanBan"]) - set(dc.TYPE_NAMES) <= set(dc.UNKNOWN_TYPES)
    assert t["SoKyHieu"].str.contains(r"^\d+/\S+-\S+$").all()
    # Status follows completion; incoming only.
    assert (den.filter(pl.col("NgayHoanThanh").is_not_null())["TrangThai"] == "DaXuLy").all()
    assert set(den.filter(pl.col("NgayHoanThanh").is_null())["TrangThai"]) == {"ChuaXuLy", "DangXuLy"}
    assert den.filter(pl.col("TrangThai") == "ChuaXuLy")["DonViXuLy"].is_null().all()
    assert (di["TrangThai"] == "DaXuLy").all() and di["NgayHoanThanh"].is_null().all()
    assert (den["NgayHoanThanh"].drop_nulls() >= den.filter(pl.col("NgayHoanThanh").is_not_null())["NgayDen"]).all()
    assert t.select(pl.max_horizontal(dc.DATE_FIELDS).max()).item() <= date(2023, 2, 28)
    assert t["NgayHoanThanh"].max() <= date(2022, 12, 31)
    # Secrecy and its withholding; dirt never reaches the truth.
    counts = t["DoMat"].value_counts()
    share = dict(zip(counts["DoMat"], counts["count"], strict=True))
    assert 0.006 < share["Mat"] / t.height < 0.015 and share["ToiMat"] > share["TuyetMat"] > 0
    secret = t.filter(pl.col("DoMat").is_in(list(dc.SECRET_CODES)))
    assert (secret["TrichYeu"] == "").all() and (secret["CoQuanBanHanh"] == "").all()
    assert secret["NguoiKy"].is_null().all() and secret["MaHoSoLienKet"].is_null().all()
    assert di.filter(pl.col("DoMat") == "Thuong")["NguoiKy"].is_not_null().all() and den["NguoiKy"].is_null().all()
    assert not t["TrichYeu"].str.starts_with(LEAK_PREFIX).any() and t["MaDVHC"].is_not_null().all()
    assert t["TrichYeu"].str.normalize("NFC").equals(t["TrichYeu"])
    # Electronic share rises; signatures mostly on electronic outgoing documents.
    e = t.group_by(pl.coalesce("NgayDen", "NgayBanHanh").dt.year().alias("y")).agg(
        pl.col("HinhThuc").is_in(["DienTu", "CaHai"]).mean()).sort("y")["HinhThuc"].to_list()
    assert e[1] > e[0] + 0.05
    assert di.filter(pl.col("HinhThuc") == "DienTu")["KySo"].mean() > 0.9
    assert di.filter(pl.col("HinhThuc") == "Giay")["KySo"].sum() == 0


def test_dossier_links_are_finished_dossiers_of_the_same_unit(docs) -> None:
    t = docs.truth.filter(pl.col("MaHoSoLienKet").is_not_null())
    assert t.height > 300 and t["MaHoSoLienKet"].is_unique().all() and (t["LoaiVanBan"] == "DI").all()
    dossiers = simulated_dataset().truth.select("MaHoSo", pl.col("MaDonVi").alias("unit"), "NgayKetThucXuLy",
                                                "TrangThaiHoSo")
    j = t.join(dossiers, left_on="MaHoSoLienKet", right_on="MaHoSo", how="left")
    assert j["unit"].is_not_null().all() and (j["unit"] == j["MaDonVi"]).all()
    assert j["TrangThaiHoSo"].is_in([9, 10]).all()
    fin_day = j["NgayKetThucXuLy"].dt.convert_time_zone("Asia/Ho_Chi_Minh").dt.date()
    assert (fin_day <= j["NgayBanHanh"]).all()


@pytest.mark.parametrize("period", [SCENARIO, Q4, (date(2021, 2, 1), date(2021, 2, 28))])
def test_report_identities_and_rules(docs, period) -> None:
    r = docs.expected_report(*period)
    assert r.height == 15 and r["code"].to_list()[0] == "637"
    assert (r["c5"] == r["c6"] + r["c7"] + r["c8"] + r["c9"]).all()
    assert (r["c4"] <= r["c3"]).all() and (r["c5"] <= r["c3"]).all()
    assert (r["c11"] <= r["c10"]).all() and (r["c12"] <= r["c10"]).all()
    # Recomputed row by row in Python from the truth, by the words of §2.1.
    f, to = period
    total = dict.fromkeys(r.columns[2:], 0)
    for d in docs.truth.iter_rows(named=True):
        if d["LoaiVanBan"] == "DEN" and d["NgayDen"] and f <= d["NgayDen"] <= to:
            total["c3"] += 1
            total["c4"] += d["HinhThuc"] in ("DienTu", "CaHai")
            if d["HanXuLy"]:
                total["c5"] += 1
                done = d["NgayHoanThanh"] is not None and d["NgayHoanThanh"] <= to
                if done:
                    total["c6" if d["NgayHoanThanh"] <= d["HanXuLy"] else "c7"] += 1
                else:
                    total["c8" if d["HanXuLy"] < to else "c9"] += 1
        if d["LoaiVanBan"] == "DI" and f <= d["NgayBanHanh"] <= to:
            total["c10"] += 1
            total["c11"] += d["HinhThuc"] in ("DienTu", "CaHai")
            total["c12"] += d["KySo"]
    assert docs.expected_total(*period) == total
    full = docs.expected_report(*period, with_total=True)
    assert full.height == 16 and full.row(-1, named=True)["name"] == "Tổng cộng"


def test_report_has_every_outcome(docs) -> None:
    t = docs.expected_total(*SCENARIO)
    assert min(t["c6"], t["c7"], t["c8"], t["c9"]) > 0
    q = docs.expected_total(*Q4)
    assert q["c9"] > 0 and q["c8"] > 0
    # Completed after the period's end still counts as open at the end.
    sept = docs.expected_total(date(2022, 9, 1), date(2022, 9, 30))
    assert sept["c8"] + sept["c9"] > 0


def test_clean_emits_the_truth_once(clean) -> None:
    assert clean.items.height == clean.truth.height
    assert all(v["documents"] == 0 for v in clean.manifest.summary().values())
    assert (clean.items["_idx"] >= 0).all()
    assert set(clean.truth["TenLoaiVanBan"]) <= set(dc.TYPE_NAMES)


def test_dirt_kinds_in_the_manifest(docs, clean) -> None:
    m, items, truth = docs.manifest, docs.items, docs.truth
    s = m.summary()
    assert set(s) == set(KINDS)
    d = DocDirtOptions()
    assert s["unknown_bodies"]["documents"] == d.doc_unknown_bodies
    assert s["completed_before_receipt"]["documents"] == d.doc_completed_before_receipt
    assert s["unknown_labels"]["documents"] == d.doc_unknown_labels
    assert s["repeated_numbers"]["documents"] == d.doc_repeated_numbers
    assert s["secret_leak"]["documents"] == d.doc_secret_leak
    n = truth.height
    assert s["unknown_type"]["documents"] == round(d.doc_unknown_type * n)
    assert s["nfd"]["documents"] == round(d.doc_nfd * n) and s["body_variants"]["documents"] == round(d.doc_body_variants * n)
    assert s["reappear"]["documents"] == round(d.doc_reappear * n) and s["duplicates"]["items"] > 0
    # Same truth counts with and without dirt: the warning cases never change a count.
    assert docs.expected_total() == clean.expected_total()
    extras = items.filter(pl.col("_idx") < 0)
    assert extras.height == 30 + 30 + 25 and not extras["MaVanBan"].is_in(truth["MaVanBan"].implode()).any()
    assert extras["MaVanBan"].str.contains(r"-9\d{5}$").all()
    ub = items.filter(pl.col("MaVanBan").is_in(list(m.ids("unknown_bodies"))))
    assert ub["MaDVHC"].is_null().all() and not ub["MaDonVi"].str.ends_with(".37.H21").any()
    cb = items.filter(pl.col("MaVanBan").is_in(list(m.ids("completed_before_receipt"))))
    assert (cb["NgayHoanThanh"] < cb["NgayDen"]).all() and (cb["LoaiVanBan"] == "DEN").all()
    labels = m.entries.filter(pl.col("kind") == "unknown_labels")
    assert labels["detail"].value_counts()["count"].to_list() == [5] * 5
    for field, value in dc.UNKNOWN_LABELS:
        ids = labels.filter(pl.col("detail") == field)["MaVanBan"]
        assert (items.filter(pl.col("MaVanBan").is_in(ids.implode()))[field] == value).all()
    # Warning cases stay in the truth.
    assert m.ids("unknown_type") <= set(truth.filter(pl.col("TenLoaiVanBan").is_in(list(dc.UNKNOWN_TYPES)))["MaVanBan"])
    assert m.ids("repeated_numbers") <= set(truth["MaVanBan"])
    leaked = items.filter(pl.col("TrichYeu").str.starts_with(LEAK_PREFIX))
    assert set(leaked["MaVanBan"]) == m.ids("secret_leak") and (leaked["CoQuanBanHanh"] != "").all()
    assert leaked["DoMat"].is_in(list(dc.SECRET_CODES)).all()
    assert (truth.filter(pl.col("MaVanBan").is_in(leaked["MaVanBan"].implode()))["TrichYeu"] == "").all()
    # Variants and NFD.
    bv = items.filter(pl.col("MaVanBan").is_in(list(m.ids("body_variants"))))
    assert bv["MaDVHC"].is_null().all()
    folded = bv["TenDonVi"].str.normalize("NFC").str.to_lowercase().str.replace(r"^ubnd ", "")
    assert folded.str.contains(r"^(xã|huyện|thị trấn) ").all() and bv["TenDonVi"].n_unique() > 20
    assert {"Xã Uar", "xã Uar"} & set(bv["TenDonVi"])
    nfd = items.filter(pl.col("MaVanBan").is_in(list(m.ids("nfd"))))
    assert (nfd["TrichYeu"].str.normalize("NFC") != nfd["TrichYeu"]).any()
    assert all(unicodedata.is_normalized("NFD", v) for v in nfd["TenDonVi"])
    # Older versions and exact duplicates.
    counts = items.group_by("MaVanBan").agg(pl.len(), pl.col("NgayCapNhat").n_unique().alias("v"))
    assert counts.filter(pl.col("v") > 1).height == s["reappear"]["documents"]
    assert items.height - items.unique().height == s["duplicates"]["items"]
    assert items["NgayCapNhat"].is_sorted()


def test_dirt_streams_are_independent() -> None:
    a = simulated_documents(doc_reappear=0.5)
    b = simulated_documents()
    assert a.manifest.ids("nfd") == b.manifest.ids("nfd") and a.truth.equals(b.truth)
    assert a.manifest.ids("secret_leak") == b.manifest.ids("secret_leak")


def test_dossier_side_is_untouched() -> None:
    base = make_options()
    assert make_options(doc_dirt="clean", doc_secret_leak=0, documents=5).data_key == base.data_key
    before = get_dataset(base)
    snapshot = (before.items.height, before.truth.hash_rows().sum(), before.manifest.entries.height)
    simulated_documents(doc_nfd=0.3)
    after = get_dataset(base)
    assert (after.items.height, after.truth.hash_rows().sum(), after.manifest.entries.height) == snapshot
    assert after.expected_report06()["total"]["c3"] == 87_221
    assert np.array_equal(before.updated, after.updated)
    assert build_dataset(base).items.equals(after.items)
