"""What a load's outcome does to the alerts: a gate opens gate_failed and the next passing
load resolves it; the quarantine spike is judged against the system's recent loads; row
warnings are info; a secret leak opens and closes. No validation runs: the load's summary is
given."""

from __future__ import annotations

import pytest

from cchc import load_alerts
from cchc.alert_findings import SPIKE_MIN_ROWS, judge_spike
from cchc.config import Settings
from cchc.pipeline import LoadSummary, StagedBatch
from expectations.gates import GateFailure
from sources.registry import source
from warehouse.writer import Warehouse

ONESTOP = source("onestop")
BATCH = StagedBatch(system="onestop", kind="pull", source="http://x/api [2021-01-01, 2021-02-01)",
                    parts=[], rows=1000, reported_total=1000,
                    window_from="2021-01-01T00:00:00Z", window_to="2021-02-01T00:00:00Z")


def test_the_spike_rule() -> None:
    assert not judge_spike(SPIKE_MIN_ROWS - 1, 90, []).spike  # too small to judge
    assert not judge_spike(1000, 9, []).spike  # a handful of rows
    assert not judge_spike(1000, 50, []).spike  # 5 %: no history, not above 5 points
    assert judge_spike(1000, 51, []).spike
    usual = [0.10, 0.12, 0.11, 0.50]  # median 0.115: one bad night does not raise the bar
    verdict = judge_spike(1000, 231, usual)
    assert verdict.usual == pytest.approx(0.115) and verdict.threshold == pytest.approx(0.23)
    assert verdict.spike and not judge_spike(1000, 229, usual).spike
    assert judge_spike(1000, 40, [0.01, 0.01]).usual == 0  # fewer than three earlier loads


def _load(wh: Warehouse, rows: int, quarantined: int, **extra) -> LoadSummary:
    """A finished load with these counts, as the pipeline leaves it."""
    load_id = wh.begin_load("onestop", "pull", BATCH.source)
    wh.finish_load(load_id, "succeeded", rows_in=rows, rows_loaded=rows - quarantined,
                   rows_quarantined=quarantined)
    return LoadSummary(load_id=load_id, source=BATCH.source, status="succeeded", system="onestop",
                       rows_in=rows, rows_loaded=rows - quarantined, rows_quarantined=quarantined,
                       quarantine_reasons={"MaDVHC: unit is unknown": quarantined}, **extra)


def _active(wh: Warehouse) -> dict[str, str]:
    return dict(wh.query("SELECT kind, severity FROM dq_alerts WHERE status = 'open'").rows())


def test_a_spike_against_the_usual_share_opens_and_a_normal_load_resolves_it(
        settings: Settings) -> None:
    with Warehouse.open(settings) as wh:
        for _ in range(4):
            load_alerts.alert_on_quality(wh, ONESTOP, BATCH, _load(wh, 1000, 20))
        assert "quarantine_spike" not in _active(wh)
        load_alerts.alert_on_quality(wh, ONESTOP, BATCH, _load(wh, 1000, 300))
        assert _active(wh)["quarantine_spike"] == "warning"
        [(message, counts)] = wh.query("SELECT message, counts FROM dq_alerts "
                                       "WHERE kind = 'quarantine_spike'").rows()
        assert "300 / 1000" in message and "2.0%" in message and "MaDVHC" in message
        assert '"share_pct": 30.0' in counts
        load_alerts.alert_on_quality(wh, ONESTOP, BATCH, _load(wh, 1000, 25))
        assert "quarantine_spike" not in _active(wh)


def test_row_warnings_are_info_and_a_leak_is_critical_until_a_clean_load(
        settings: Settings) -> None:
    with Warehouse.open(settings) as wh:
        leaky = _load(wh, 50, 3, rows_warned=7, warning_reasons={"NgayHenTra: missing": 7},
                      rows_withheld=2)
        load_alerts.alert_on_quality(wh, ONESTOP, BATCH, leaky)
        rows = wh.query("SELECT kind, severity, finding_key FROM dq_alerts WHERE status = 'open' "
                        "ORDER BY kind, finding_key").rows()
        assert rows == [("row_warnings", "info", "quarantined"), ("row_warnings", "info", "warned"),
                        ("secret_leak", "critical", "withheld_fields")]
        load_alerts.alert_on_quality(wh, ONESTOP, BATCH, _load(wh, 50, 0))
        assert _active(wh) == {}


def test_a_gate_opens_gate_failed_and_the_next_passing_load_resolves_it(
        settings: Settings) -> None:
    gate = GateFailure("columns", BATCH.source, "required column missing: 'Ngày tiếp nhận' "
                       "(NgayTiepNhan) (is 'NgayTiepNhanHS' the same column renamed?)")
    with Warehouse.open(settings) as wh:
        for _ in range(2):
            load_id = wh.begin_load("onestop", "pull", BATCH.source)
            load_alerts.alert_on_gate(wh, ONESTOP, BATCH, load_id, gate)
        [row] = wh.query("SELECT * FROM dq_alerts").to_dicts()
        assert (row["kind"], row["status"], row["seen_count"], row["scope"]) == (
            "gate_failed", "open", 2, "pull")
        assert "Ngày tiếp nhận" in row["message"] and "Cần làm" in row["message"]
        assert str(row["period_from"]) == "2021-01-01" and '"rows_reported": 1000' in row["counts"]
        file_batch = StagedBatch(system="onestop", kind="file", source="a.xlsx", parts=[], rows=5)
        load_alerts.alert_on_quality(wh, ONESTOP, file_batch, _load(wh, 5, 0))
        assert _active(wh) == {"gate_failed": "critical"}  # a file load is another check
        load_alerts.alert_on_quality(wh, ONESTOP, BATCH, _load(wh, 5, 0))
        assert _active(wh) == {}
