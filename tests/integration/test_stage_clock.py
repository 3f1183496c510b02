"""The stage clock's lines say where a load's seconds, CPU and peak memory went."""

from __future__ import annotations

import json
import logging

from cchc.stage_clock import StageClock


def test_each_stage_reports_seconds_cpu_and_the_peak_it_raised(caplog) -> None:
    clock = StageClock()
    with clock.stage("small"):
        sum(range(1000))
    with clock.stage("big"):
        block = bytearray(96 << 20)  # zero-filled: every page touched
        del block
    with caplog.at_level(logging.INFO):
        clock.log(logging.getLogger("t"), "load", "L1")
    lines = {r.getMessage().split(":")[0]: r.getMessage() for r in caplog.records}
    assert set(lines) == {"load timings", "load cpu seconds", "load peak growth MiB"}
    growth = json.loads(lines["load peak growth MiB"].split(": ", 1)[1].split(" (")[0])
    assert growth["big"] >= 90
    cpu = json.loads(lines["load cpu seconds"].split(": ", 1)[1].split(" (")[0])
    assert set(cpu) == {"small", "big"} and all(v >= 0 for v in cpu.values())
    assert lines["load timings"].endswith("(L1)")
