"""The readers against the real simulator (HTTP faults on, file exports): a contract check.

Unit tests use MockTransport and hand-written files; this one proves both sides agree.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from simulator import exports, testing  # noqa: E402
from sources.onestop.api import OnestopClient, pull_to_parquet
from sources.onestop.fields import RAW_FIELDS
from sources.onestop.files import read_dossier_file

pytestmark = pytest.mark.integration

OPTIONS = {
    "scenario": "scale",
    "dossiers": 1500,
    "units": 4,
    "years": 1,
    "seed": 11,
    "rate_5xx": 0.05,
    "rate_drop": 0.05,
    "rate_truncated": 0.05,
}


def test_pull_through_faults_gets_every_item(tmp_path: Path) -> None:
    ds = testing.simulated_dataset(**OPTIONS)
    with (
        testing.running_simulator(**OPTIONS) as base,
        OnestopClient(
            base, "demo-token", page_size=250, backoff_s=0.01, rng=random.Random(0)
        ) as client,
    ):
        since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
        result = pull_to_parquet(client, since, until, tmp_path, rows_per_part=1000,
                                     fields=RAW_FIELDS)
        report = client.report_06(date(2021, 1, 1), date(2021, 12, 31))
    assert result.items == result.total_reported == ds.items.height
    frame = pl.read_parquet(tmp_path / "part-*.parquet")
    assert frame["MaHoSo"].n_unique() == ds.items["MaHoSo"].n_unique()
    assert frame["_source_row"].to_list() == list(range(1, ds.items.height + 1))
    assert set(report["total"]) >= {"c3", "c7", "c11"}


@pytest.mark.parametrize(("suffix", "dates"), [("xlsx", "mixed"), ("csv", "text")])
def test_exports_read_completely(tmp_path: Path, suffix: str, dates: str) -> None:
    ds = testing.simulated_dataset(**OPTIONS)
    out = tmp_path / f"export.{suffix}"
    written = exports.export_dossiers(out, dataset=ds, dates=dates)
    raw = read_dossier_file(out)
    assert raw.data_rows == written.rows and raw.notes == []
    assert raw.declared_total == (written.rows if suffix == "xlsx" else None)
    first = 8 if suffix == "xlsx" else 2
    assert raw.frame["_source_row"].to_list() == list(range(first, first + written.rows))
    assert raw.frame["NgayTiepNhan"].str.contains(r"^\d{4}-\d\d-\d\dT|^\d\d/\d\d/\d{4} ").all()
