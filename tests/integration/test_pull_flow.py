"""The pull flow, run through Prefect against the simulator: accounting, truth, idempotence."""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest

from cchc.config import load_settings
from simulator.testing import running_simulator, simulated_dataset
from warehouse.form06 import TOTAL_LABEL, form06
from warehouse.reader import open_snapshot

pytestmark = pytest.mark.integration

# A small district with every kind of dirt, and HTTP faults the client must ride out.
SIM = dict(scenario="scale", dossiers=3000, seed=5, finish_before_reception=5, unknown_units=5,
           unknown_status=5, duplicates=0.02, reappear=0.3)
FAULTS = dict(rate_429=0.05, rate_5xx=0.05, rate_drop=0.03, rate_truncated=0.03)
SINCE = "2020-01-01T00:00:00Z"
UNTIL = "2026-01-01T00:00:00Z"


def _snapshot_state() -> dict:
    """Everything a re-run must leave unchanged, read from the published snapshot."""
    con = open_snapshot(load_settings())
    try:
        out = {}
        for table in ("raw_onestop__dossier_versions", "core_onestop__dossiers",
                      "quarantine_onestop__dossiers"):
            out[table] = con.execute(
                f"SELECT count(*), coalesce(sum(hash(row_hash)), 0) FROM {table}"
            ).fetchone()
        out["core_state"] = con.execute(
            "SELECT sum(hash(dossier_code, status, updated_at, finished_date, unit_code)) "
            "FROM core_onestop__dossiers"
        ).fetchone()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def pulled(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None):
    """One full pull of the simulated district, through the Prefect flow, shared by the module's
    tests: the first two only read it; the later ones pull again and compare."""
    from flows.pull import pull_onestop

    data_dir = tmp_path_factory.mktemp("pull") / "data"
    with pytest.MonkeyPatch.context() as env:  # the module's tests read this data folder
        env.setenv("CCHC_DATA_DIR", str(data_dir))
        with running_simulator(**SIM, **FAULTS) as url:
            env.setenv("CCHC_ONESTOP_URL", url)
            first = pull_onestop(since=SINCE, until=UNTIL)
        yield data_dir, first


def test_every_row_is_accounted_for_and_dirt_is_resolved_or_quarantined(pulled) -> None:
    _, summary = pulled
    ds = simulated_dataset(**SIM)
    manifest = ds.manifest
    assert summary["status"] == "succeeded"
    assert summary["rows_in"] == ds.items.height
    assert summary["rows_in"] == summary["rows_duplicate"] + summary["rows_loaded"] + summary["rows_quarantined"]
    assert summary["rows_duplicate"] == manifest.items("duplicates")
    untrustable = ("finish_before_reception", "unknown_units", "unknown_status")
    assert summary["rows_quarantined"] == sum(manifest.items(k) for k in untrustable)

    con = open_snapshot(load_settings())
    try:
        quarantined = {r[0] for r in con.execute("SELECT MaHoSo FROM quarantine_onestop__dossiers").fetchall()}
        assert quarantined == set().union(*(manifest.codes(k) for k in untrustable))
        # Every truth dossier is loaded once, in its newest state.
        n_core, n_by_name = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE unit_code_source = 'name') FROM core_onestop__dossiers"
        ).fetchone()
        assert n_core == ds.truth.height
        assert n_by_name >= manifest.dossiers("unit_variants")
        nfd = con.execute(
            "SELECT count(*) FROM core_onestop__dossiers WHERE receiving_unit_name <> nfc_normalize(receiving_unit_name)"
        ).fetchone()[0]
        assert nfd == 0
        loads = con.execute("SELECT status, rows_in, rows_loaded FROM etl_loads ORDER BY started_at").fetchall()
        assert loads[0] == ("succeeded", summary["rows_in"], summary["rows_loaded"])
        dq = con.execute("SELECT count(*), sum(unexpected_count) FROM dq_results WHERE severity = 'critical'").fetchone()
        assert dq[0] > 0 and dq[1] >= summary["rows_quarantined"]
    finally:
        con.close()


def test_form06_equals_the_source_systems_own_report(pulled) -> None:
    ds = simulated_dataset(**SIM)
    expected = ds.expected_report06()
    con = open_snapshot(load_settings())
    try:
        ours = form06(con, date(2021, 1, 1), date(2022, 12, 31), "unit")
    finally:
        con.close()
    total = ours.filter(ours["c2"] == TOTAL_LABEL).row(0, named=True)
    for col in [f"c{i}" for i in range(3, 14)]:
        assert total[col] == expected["total"][col], col
    by_code = {r["code"]: r for r in ours.iter_rows(named=True) if r["code"]}
    for row in expected["rows"]:
        assert {c: by_code[row["code"]][c] for c in row if c.startswith("c")} == {
            c: v for c, v in row.items() if c.startswith("c")
        }, row["code"]


def test_the_same_pull_twice_changes_nothing(pulled) -> None:
    from flows.pull import pull_onestop

    before = _snapshot_state()
    with running_simulator(**SIM) as url2:
        os.environ["CCHC_ONESTOP_URL"] = url2
        again = pull_onestop(since=SINCE, until=UNTIL)
    assert again["status"] == "succeeded"
    assert again["rows_new_versions"] == 0
    assert again["core_inserted"] == 0 and again["core_updated"] == 0
    assert _snapshot_state() == before


def test_an_incremental_pull_starts_at_the_watermark(pulled) -> None:
    from flows.pull import pull_onestop

    with running_simulator(**SIM) as url:
        os.environ["CCHC_ONESTOP_URL"] = url
        nxt = pull_onestop()
    assert nxt["status"] == "succeeded"
    assert f"[{UNTIL}," in nxt["source"]
    items = simulated_dataset(**SIM).items
    until_s = int(datetime.fromisoformat(UNTIL.replace("Z", "+00:00")).timestamp())
    later = items.filter(items["NgayCapNhat"] >= until_s).height  # epoch seconds
    assert nxt["rows_in"] == later
