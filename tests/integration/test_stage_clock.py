"""The stage clock's lines say where a load's seconds, CPU and peak memory went."""

from __future__ import annotations

import json
import logging

import psutil

import cchc.stage_clock as stage_clock
from cchc.stage_clock import StageClock


def _payload(line: str) -> dict:
    return json.loads(line.split(": ", 1)[1].split(" (")[0])


def test_each_stage_reports_seconds_cpu_and_the_peak_it_raised(caplog, monkeypatch) -> None:
    peaks = iter([500.0, 500.0, 500.0, 620.0, 620.0, 650.0, 650.0, 650.0])
    monkeypatch.setattr(stage_clock, "peak_rss_mib", lambda: next(peaks))
    clock = StageClock()
    with clock.stage("read"):  # the peak stays: not listed
        pass
    with clock.stage("write"):  # +120
        pass
    with clock.stage("write"):  # +30, summed over the parts
        sum(range(10_000))
    with caplog.at_level(logging.INFO):
        clock.log(logging.getLogger("t"), "load", "L1")
    lines = {r.getMessage().split(":")[0]: r.getMessage() for r in caplog.records}
    assert set(lines) == {"load timings", "load cpu seconds", "load peak growth MiB"}
    assert _payload(lines["load peak growth MiB"]) == {"write": 150}
    assert "(peak 650 MiB)" in lines["load peak growth MiB"]
    assert set(_payload(lines["load cpu seconds"])) == {"read", "write"}
    assert lines["load timings"].endswith("(L1)")


def test_no_growth_line_when_no_stage_raised_the_peak(caplog, monkeypatch) -> None:
    monkeypatch.setattr(stage_clock, "peak_rss_mib", lambda: 500.0)
    clock = StageClock()
    with clock.stage("read"):
        pass
    with caplog.at_level(logging.INFO):
        clock.log(logging.getLogger("t"), "load")
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "load timings", "load cpu seconds"]


def test_the_peak_is_at_least_the_resident_memory_now() -> None:
    assert stage_clock.peak_rss_mib() >= psutil.Process().memory_info().rss / 2**20 - 1
