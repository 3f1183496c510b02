"""Backfill windows, resume state and the loop, without Prefect."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cchc.service.backfill import (
    BackfillError,
    BackfillState,
    Window,
    month_windows,
    run_backfill,
    via_flow,
)

TZ = "Asia/Ho_Chi_Minh"


def test_local_months_as_utc_instants() -> None:
    windows = month_windows(date(2021, 1, 1), date(2022, 12, 31), TZ)
    assert len(windows) == 24
    assert windows[0] == Window("2021-01", "2020-12-31T17:00:00Z", "2021-01-31T17:00:00Z")
    assert windows[-1] == Window("2022-12", "2022-11-30T17:00:00Z", "2022-12-31T17:00:00Z")
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.until == b.since  # contiguous: nothing falls between two months


def test_partial_first_and_last_months() -> None:
    windows = month_windows(date(2021, 1, 15), date(2021, 3, 10), TZ)
    assert [(w.label, w.since, w.until) for w in windows] == [
        ("2021-01", "2021-01-14T17:00:00Z", "2021-01-31T17:00:00Z"),
        ("2021-02", "2021-01-31T17:00:00Z", "2021-02-28T17:00:00Z"),
        ("2021-03", "2021-02-28T17:00:00Z", "2021-03-10T17:00:00Z"),
    ]


def test_reversed_range_is_an_error() -> None:
    with pytest.raises(ValueError):
        month_windows(date(2022, 1, 1), date(2021, 1, 1), TZ)


def test_interrupted_backfill_resumes_where_it_stopped(tmp_path: Path) -> None:
    windows = month_windows(date(2021, 1, 1), date(2021, 6, 30), TZ)
    state_path = tmp_path / "backfill.json"
    calls: list[str] = []

    def flaky(window: Window) -> dict:
        calls.append(window.label)
        if window.label == "2021-04":
            raise KeyboardInterrupt  # Ctrl-C in the middle of April
        return {"mode": "test"}

    with pytest.raises(KeyboardInterrupt):
        run_backfill(windows, BackfillState(state_path), flaky)
    assert calls == ["2021-01", "2021-02", "2021-03", "2021-04"]

    calls.clear()
    ran, skipped = run_backfill(windows, BackfillState(state_path), lambda w: calls.append(w.label) or {})
    assert (ran, skipped) == (3, 3)
    assert calls == ["2021-04", "2021-05", "2021-06"]

    calls.clear()
    assert run_backfill(windows, BackfillState(state_path), lambda w: calls.append(w.label) or {}) == (0, 6)
    assert run_backfill(windows, BackfillState(state_path), lambda w: calls.append(w.label) or {},
                        redo=True) == (6, 0)


def test_direct_mode_passes_the_window_and_fails_on_a_rejected_load() -> None:
    seen = []

    def flow(since: str, until: str) -> dict:
        seen.append((since, until))
        return {"status": "succeeded", "rows_in": 3, "load_id": "L1", "other": 1}

    w = Window("2021-01", "2020-12-31T17:00:00Z", "2021-01-31T17:00:00Z")
    assert via_flow(flow)(w) == {"mode": "direct", "load_id": "L1", "rows_in": 3}
    assert seen == [(w.since, w.until)]
    with pytest.raises(BackfillError):
        via_flow(lambda since, until: {"status": "rejected", "message": "gate"})(w)
