"""Scenario krongpa-2024-2026 loaded with the default scope (province 64, district 637): the
district totals are the same grouped by the units that received or by today's units, and each
new commune's form 06 equals the simulator's own report by today's units.

A few months either side of 1 July 2025, a low volume, exported as CSV and loaded by the
pipeline's own functions (``stage_file``, ``load_batch``; no Prefect). Unit names without a
code (dirt ``unit_variants``) and dossiers received before and still open after the reform are
in it. About 10 s.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from simulator.report06 import COLUMNS
from simulator.testing import simulated_dataset
from simulator.units import KRONGPA_NEW_UNITS
from warehouse.form06 import TOTAL_LABEL, form06

pytestmark = pytest.mark.integration

OPTIONS = dict(scenario="krongpa-2024-2026", dossiers=2500, dirt="clean", unit_variants=0.3,
               now=datetime(2026, 12, 1, tzinfo=UTC))
WINDOW = (date(2025, 4, 1), date(2025, 9, 30))
PERIODS = {
    "before": (date(2025, 4, 1), date(2025, 6, 30)),
    "after": (date(2025, 7, 1), date(2025, 9, 30)),
    "across": WINDOW,
}


@pytest.fixture(scope="module")
def reform(tmp_path_factory: pytest.TempPathFactory, published_from_exports):
    """A published warehouse holding the window; yields a reader connection."""
    from simulator.exports import export_dossiers

    def exports(root: Path) -> list[Path]:
        return [export_dossiers(root / "dossiers.csv", "csv", dataset=simulated_dataset(**OPTIONS),
                                date_from=WINDOW[0], date_to=WINDOW[1]).path]

    with published_from_exports(tmp_path_factory.mktemp("reform"), exports,
                                check=lambda s: s.status == "succeeded"
                                and s.rows_quarantined == 0) as con:
        yield con


def _counts(row: dict) -> dict:
    return {c: row[c] for c in COLUMNS}


def test_totals_agree_by_received_or_new_units_and_new_communes_equal_the_truth(reform) -> None:
    dataset = simulated_dataset(**OPTIONS)
    for label, (first, last) in PERIODS.items():
        received = form06(reform, first, last, units="received")
        new = form06(reform, first, last, units="new")
        truth = dataset.expected_report06(first, last, by="new_unit")
        assert _counts(received.row(-1, named=True)) == _counts(new.row(-1, named=True)) \
            == truth["total"], label
        # by today's units: the district's desk and the four new communes, nothing else
        assert new["code"].to_list() == ["637", *sorted(u.code for u in KRONGPA_NEW_UNITS),
                                         None], label
        expected = {r["code"]: _counts(r) for r in truth["rows"]}
        for row in new.filter(pl.col("c2") != TOTAL_LABEL).iter_rows(named=True):
            assert _counts(row) == expected[row["code"]], (label, row["code"])
    # by the units that received: a reused code before and after the reform is two rows
    across = form06(reform, *PERIODS["across"], units="received")
    uar = across.filter(pl.col("code") == "24109")["c2"].to_list()
    assert uar == ["Xã Uar (đến 30/06/2025)", "Xã Uar (từ 01/07/2025)"]
    # after the reform the old units receive nothing, but keep the dossiers they carried over
    carried = form06(reform, *PERIODS["after"], units="received")
    new_codes = [u.code for u in KRONGPA_NEW_UNITS]
    old_rows = carried.filter(pl.col("c2").str.contains("đến 30/06/2025")
                              | (~pl.col("code").is_in(new_codes) & pl.col("code").is_not_null()))
    assert old_rows["c6"].sum() > 0 and old_rows["c4"].sum() + old_rows["c5"].sum() == 0




def test_the_monthly_views_keep_a_reused_code_before_and_after_the_reform_apart(reform) -> None:
    """A reused code names the old unit until 30 June 2025 and the new commune from 1 July: the
    by-month views key their rows by (code, validity), so what a unit received is counted under
    the unit that existed that month, and both eras of a code are there."""
    reform_day = date(2025, 7, 1)
    reused = tuple(u.code for u in KRONGPA_NEW_UNITS)
    for view in ("out_onestop__rates_by_unit_month", "out_onestop__indicators_by_unit_month"):
        rows = reform.execute(
            f"SELECT unit_code, unit_valid_from, month, received FROM {view} "
            f"WHERE unit_code IN {reused} AND received > 0"
        ).fetchall()
        for code, valid_from, month, _ in rows:
            assert (valid_from == reform_day) == (month >= reform_day), (view, code, month)
        eras = {(code, valid_from == reform_day) for code, valid_from, _, _ in rows}
        assert eras == {(code, new) for code in reused for new in (False, True)}, (view, eras)
