"""The warehouse's service-index indicators for scenario krongpa-2021-2022 equal the simulator's
own (``simulator.indicators``, computed from the systems' state, not by the pipeline's code).

No other test loads this scenario into a warehouse, so the module builds one: the simulator's
dossier list and both document registers exported as CSV over the whole scenario (from 2020,
so the procedures offered before 2021 are in), each staged and loaded by the pipeline's own
functions (``stage_file``, ``load_batch``; no Prefect), then published. About 12 s.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from simulator.indicators import COUNT_COLUMNS as SIMULATED_COUNTS
from simulator.indicators import RATES, expected_indicators
from simulator.testing import simulated_dataset, simulated_documents
from warehouse.indicators import TOTAL_LABEL, indicators

pytestmark = pytest.mark.integration

EVERYTHING_FROM = date(2020, 1, 1)
PERIODS = {
    "2021-2022": (date(2021, 1, 1), date(2022, 12, 31)),
    "March 2022": (date(2022, 3, 1), date(2022, 3, 31)),
}


@pytest.fixture(scope="module")
def krongpa(tmp_path_factory: pytest.TempPathFactory, published_from_exports):
    """A published warehouse holding the whole krongpa scenario; yields a reader connection."""
    from simulator.doc_exports import export_register
    from simulator.exports import export_dossiers

    def exports(root: Path) -> list[Path]:
        return [export_dossiers(root / "dossiers.csv", "csv", date_from=EVERYTHING_FROM).path,
                *(export_register(root / f"{register}.csv", "csv", register=register,
                                  date_from=EVERYTHING_FROM).path for register in ("den", "di"))]

    with published_from_exports(tmp_path_factory.mktemp("krongpa"), exports) as con:
        yield con


def test_indicators_equal_the_simulators_own_by_unit_and_by_month(krongpa) -> None:
    dataset, documents = simulated_dataset(), simulated_documents()
    compared = [*SIMULATED_COUNTS, *(f"{k}_{s}" for k in RATES for s in ("numerator", "denominator"))]
    for label, (first, last) in PERIODS.items():
        ours = indicators(krongpa, first, last, by="unit")
        truth = expected_indicators(dataset, documents, first, last)
        assert ours["code"].to_list() == [*sorted(truth["code"].drop_nulls(), key=_district_first),
                                          None], label  # fmt: skip
        joined = ours.join(truth, on="code", how="left", suffix="_sim", nulls_equal=True)
        for col in compared:
            differ = joined.filter(pl.col(col) != pl.col(f"{col}_sim"))
            assert differ.is_empty(), (label, col, differ.select("code", col, f"{col}_sim").rows())
    # by month: a month's district-wide row is the simulator's total for that month (the first,
    # one in the middle, the last)
    months = indicators(krongpa, *PERIODS["2021-2022"], by="month")
    assert months.height == 25 and months["name"][-1] == TOTAL_LABEL
    for row in months[[0, 14, 23]].iter_rows(named=True):
        truth = expected_indicators(dataset, documents, row["period_from"], row["period_to"])
        expected = truth.row(-1, named=True)
        assert {c: row[c] for c in compared} == {c: expected[c] for c in compared}, row["code"]
    # the calibrated figures come through: 85,928 of 87,221 on time, 1,019 of 87,107 online
    total = months.row(-1, named=True)
    assert (total["on_time_numerator"], total["on_time_denominator"]) == (85_928, 87_221)
    assert (total["online_numerator"], total["online_denominator"]) == (1_019, 87_107)


def _district_first(code: str) -> tuple[int, str]:
    return (0 if code == "637" else 1, code)
