"""Dirt switches: the manifest says exactly what was emitted, and the truth's totals survive."""

from __future__ import annotations

import unicodedata
from datetime import date

import polars as pl
import pytest

from simulator.dirt import EXTRA_KINDS
from simulator.options import DirtOptions
from simulator.testing import simulated_dataset
from simulator.units import KRONGPA_UNITS

PERIOD = (date(2021, 1, 1), date(2022, 12, 31))


@pytest.fixture(scope="module")
def ds():
    return simulated_dataset()  # the demo scenario with the default dirt


def test_clean_options_emit_every_dossier_once_in_its_newest_version() -> None:
    clean = simulated_dataset(dirt="clean")
    assert clean.items.height == clean.truth.height == clean.items["MaHoSo"].n_unique()
    assert all(v == {"dossiers": 0, "items": 0} for v in clean.manifest.summary().values())
    newest = clean.items.select("MaHoSo", "NgayCapNhat", "TrangThaiHoSo").sort("MaHoSo")
    truth = clean.truth.select("MaHoSo", "NgayCapNhat", "TrangThaiHoSo").sort("MaHoSo")
    assert newest["TrangThaiHoSo"].equals(truth["TrangThaiHoSo"])


def test_default_demo_dirt_has_every_kind(ds) -> None:
    s = ds.manifest.summary()
    n = ds.truth.height
    assert s["duplicates"]["items"] > 0.01 * n and s["reappear"]["dossiers"] == round(0.2 * n)
    assert s["nfd"]["dossiers"] == round(0.02 * n) and s["missing_due"]["dossiers"] == round(0.005 * n)
    assert s["unit_variants"]["dossiers"] == round(0.03 * n)
    for kind in EXTRA_KINDS:
        assert s[kind] == {"dossiers": 50, "items": 50}


def test_duplicates_are_exact_and_counted(ds) -> None:
    items = ds.items.drop("_idx", "_unit", "_key", "_late")
    assert items.height - items.unique().height == ds.manifest.items("duplicates")
    dup_codes = set(items.filter(items.is_duplicated())["MaHoSo"].to_list())
    assert dup_codes == ds.manifest.codes("duplicates")


def test_reappearing_dossiers_emit_their_older_versions(ds) -> None:
    per = ds.items.unique().group_by("MaHoSo").agg(pl.col("NgayCapNhat").n_unique().alias("versions"))
    several = set(per.filter(pl.col("versions") > 1)["MaHoSo"].to_list())
    assert several == ds.manifest.codes("reappear")
    assert int(per["versions"].sum()) - per.height == ds.manifest.items("reappear")
    # The newest version of each is the truth's current state.
    newest = ds.items.sort("NgayCapNhat").unique("MaHoSo", keep="last").filter(pl.col("_idx") >= 0)
    joined = newest.join(ds.truth.select("MaHoSo", pl.col("TrangThaiHoSo").alias("t")), on="MaHoSo")
    assert joined.height == ds.truth.height and (joined["TrangThaiHoSo"] == joined["t"]).all()


def test_nfd_text_is_where_the_manifest_says(ds) -> None:
    text = ("ChuHoSo", "TenDonVi", "TenTTHC", "TenLinhVuc")
    decomposed = ds.items.filter(pl.any_horizontal([pl.col(c) != pl.col(c).str.normalize("NFC") for c in text]))
    assert set(decomposed["MaHoSo"].to_list()) == ds.manifest.codes("nfd")
    assert decomposed.height == ds.manifest.items("nfd")  # duplicate copies included
    name = decomposed["TenTTHC"][0]
    assert unicodedata.normalize("NFD", name) == name != unicodedata.normalize("NFC", name)


def test_unit_variants_have_no_code_and_resolve_by_folded_name(ds) -> None:
    def fold(s: str) -> str:
        s = unicodedata.normalize("NFD", unicodedata.normalize("NFC", s).casefold().replace("đ", "d"))
        return "".join(c for c in s if not unicodedata.combining(c) and not c.isspace())

    names = {u.name for u in KRONGPA_UNITS}
    no_code = ds.items.filter(pl.col("MaDVHC").is_null() & (pl.col("_idx") >= 0))
    assert set(no_code["MaHoSo"].to_list()) == ds.manifest.codes("unit_variants")
    variants = set(no_code["TenDonVi"].str.normalize("NFC").unique().to_list())
    assert {"UBND xã Ia RSươm", "UBND xã IaRsươm", "UBND xã Ia Dreh", "UBND xã Ia Mláh"} <= variants
    aliases = {fold(n) for n in names} | {fold("UBND xã Ia Dreh")}
    assert all(fold(v) in aliases for v in variants)
    assert variants - names  # most are not the canonical spelling


def test_missing_due_dates_are_on_closed_on_time_dossiers_and_keep_the_totals(ds) -> None:
    missing = ds.items.filter(pl.col("NgayHenTra").is_null() & pl.col("NgayTiepNhan").is_not_null()
                              & (pl.col("_idx") >= 0) & ~pl.col("TrangThaiHoSo").is_in([1, 3]))
    assert set(missing["MaHoSo"].to_list()) == ds.manifest.codes("missing_due")
    clean = simulated_dataset(dirt="clean").expected_report06(*PERIOD)["total"]
    dirty = ds.expected_report06(*PERIOD)["total"]
    same = ("c3", "c4", "c5", "c6", "c7", "c10", "c11")
    assert {k: dirty[k] for k in same} == {k: clean[k] for k in same}
    assert dirty["c8"] + dirty["c9"] == clean["c8"] + clean["c9"] and dirty["c9"] > clean["c9"]


def test_extra_untrustable_dossiers_never_collide_with_the_truth(ds) -> None:
    truth_codes = set(ds.truth["MaHoSo"].to_list())
    extras = ds.items.filter(pl.col("_idx") < 0)
    assert extras.height == 150 and not truth_codes & set(extras["MaHoSo"].to_list())
    fbr = extras.filter(pl.col("MaHoSo").is_in(list(ds.manifest.codes("finish_before_reception"))))
    assert (fbr["NgayKetThucXuLy"] < fbr["NgayTiepNhan"]).all()
    unknown = extras.filter(pl.col("MaHoSo").is_in(list(ds.manifest.codes("unknown_units"))))
    assert unknown["MaDVHC"].is_null().all() and not set(unknown["TenDonVi"]) & {u.name for u in KRONGPA_UNITS}
    status = extras.filter(pl.col("MaHoSo").is_in(list(ds.manifest.codes("unknown_status"))))
    assert set(status["TrangThaiHoSo"].drop_nulls()) <= {0, 99, 11}
    assert set(status["_status_text"].drop_nulls()) == {"Đang chờ", "DaTraKetQua"}


def test_a_dirt_rate_changes_nothing_else() -> None:
    small = {"scenario": "scale", "dossiers": 20_000, "seed": 4}
    base = simulated_dataset(dirt="clean", **small)
    more = simulated_dataset(dirt=DirtOptions.clean(), duplicates=0.1, **small)
    assert more.truth.equals(base.truth)
    assert more.items.unique(maintain_order=True).equals(base.items)
    assert more.manifest.items("duplicates") == round(0.1 * base.items.height)


def test_now_hides_the_future() -> None:
    from datetime import UTC, datetime

    now = datetime(2021, 7, 1, tzinfo=UTC)
    ds = simulated_dataset(dirt="clean", now=now, scenario="scale", dossiers=20_000, seed=4)
    assert ds.items["NgayCapNhat"].max() < int(now.timestamp())
    assert ds.truth["NgayCapNhat"].max() < now
    open_at_now = ds.truth.filter(pl.col("NgayKetThucXuLy").is_null() & ~pl.col("TrangThaiHoSo").is_in([1, 3]))
    assert open_at_now.height > 0 and set(open_at_now["TrangThaiHoSo"].unique()) <= {2, 4, 5}
