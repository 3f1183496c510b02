"""Property: versions of the same documents loaded through the Warehouse writer in any order and
any split into batches leave, per document, the newest ``updated_at`` in core; equal times keep
the smaller ``row_hash``. The personal-data companion (the signer) follows the same version."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc.config import load_settings
from sources.eoffice.tables import CORE_EOFFICE_DOCUMENTS
from warehouse.strategies import WriteResult
from warehouse.writer import Warehouse

T0 = datetime(2022, 3, 1, 1, 30, tzinfo=UTC)
_RUN = itertools.count()


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory):
    """One private warehouse for every example (each example uses its own document ids)."""
    data_dir: Path = tmp_path_factory.mktemp("newest-wins") / "data"
    with Warehouse.open(replace(load_settings(), data_dir=data_dir)) as warehouse:
        yield warehouse


def _row(prefix: str, doc: str, minutes: int, row_hash: str) -> dict:
    version = f"{minutes}:{row_hash}"
    return {
        "document_id": f"{prefix}-{doc}",
        "direction": "DI",
        "status": version,  # the version, readable back from core
        "signer": f"Người ký {version}",  # personal data: goes to the companion table
        "summary": f"V/v {version}",
        "updated_at": T0 + timedelta(minutes=minutes),
        "row_hash": row_hash,
        "load_id": "L",
    }


def _frame(rows: list[dict]) -> pl.DataFrame:
    schema = CORE_EOFFICE_DOCUMENTS.polars_schema()
    frame = pl.DataFrame(rows, schema_overrides={k: schema[k] for k in rows[0]})
    return frame.select(pl.col(c).cast(schema[c]) for c in frame.columns)


VERSIONS = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.integers(0, 3),  # minutes: many ties on purpose
        st.sampled_from(["h0", "h1", "h2", "h3"]),
    ),
    min_size=1,
    max_size=14,
    unique=True,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(versions=VERSIONS, data=st.data())
def test_newest_version_wins_whatever_the_order_and_batching(wh: Warehouse, versions, data) -> None:
    prefix = f"VB-{next(_RUN)}"
    rows = [_row(prefix, doc, minutes, h) for doc, minutes, h in versions]
    # Expected, independently of the writer: max updated_at, then min row_hash.
    expected = {}
    for r in rows:
        best = expected.get(r["document_id"])
        if best is None or (r["updated_at"], _neg(r["row_hash"])) > (best["updated_at"], _neg(best["row_hash"])):
            expected[r["document_id"]] = r

    order = data.draw(st.permutations(rows))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=4)))
    for start, end in zip([0, *cuts], [*cuts, len(order)], strict=True):
        if order[start:end]:
            wh.write(CORE_EOFFICE_DOCUMENTS, _frame(order[start:end]))

    core = wh.query(
        "SELECT document_id, status, updated_at, row_hash, summary, signer FROM core_eoffice__documents "
        "WHERE starts_with(document_id, $p) ORDER BY document_id",
        {"p": prefix + "-"},
    )
    got = {r["document_id"]: r for r in core.iter_rows(named=True)}
    assert set(got) == set(expected)
    for doc, want in expected.items():
        row = got[doc]
        assert (row["status"], row["updated_at"], row["row_hash"], row["summary"]) == (
            want["status"], want["updated_at"], want["row_hash"], want["summary"]), doc
        assert row["signer"] is None  # personal data never in the main file
    personal = wh.personal(CORE_EOFFICE_DOCUMENTS, sorted(expected))
    assert dict(personal.select("document_id", "signer").iter_rows()) == {
        doc: want["signer"] for doc, want in expected.items()
    }
    # Loading everything again, in one batch, changes nothing.
    assert wh.write(CORE_EOFFICE_DOCUMENTS, _frame(order)) == WriteResult(0, 0)


def _neg(text: str) -> tuple[int, ...]:
    """Sort key that makes the smaller string the larger (min row_hash wins a tie)."""
    return tuple(-ord(c) for c in text) + (0,)
