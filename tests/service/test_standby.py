"""The warm standby process that takes the next flow run, and what the forkserver preloads."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cchc.service.standby import StandbyContext, StandbyPool

# forkserver, as in the service: a forked child would inherit the pipe ends of the parent
CONTEXT = multiprocessing.get_context("forkserver")


def _no_warm_up() -> list[str]:
    return []


def _write_pid(path: str, text: str) -> None:
    Path(path).write_text(f"{os.getpid()} {text}")


def test_a_run_goes_to_the_standby_and_a_new_one_stands_by(tmp_path: Path) -> None:
    pool = StandbyPool(CONTEXT, warm=_no_warm_up)
    pool.prepare()
    first = pool._ready.process
    out = tmp_path / "ran"
    process = StandbyContext(pool).Process(target=_write_pid, args=(str(out), "hello"))
    process.start()
    process.join(10)
    assert process.pid == first.pid and process.exitcode == 0  # the runner sees the standby
    assert out.read_text() == f"{first.pid} hello"
    nxt = pool._ready.process
    assert nxt.pid != first.pid and nxt.is_alive()
    pool.close()  # the waiting standby reads end-of-file and exits
    nxt.join(10)
    assert nxt.exitcode == 0


def test_a_dead_standby_is_replaced(tmp_path: Path) -> None:
    pool = StandbyPool(CONTEXT, warm=_no_warm_up)
    pool.prepare()
    pool._ready.process.kill()
    pool._ready.process.join(5)
    out = tmp_path / "ran"
    process = StandbyContext(pool).Process(target=_write_pid, args=(str(out), "again"))
    process.start()
    process.join(10)
    assert process.exitcode == 0 and out.read_text().endswith("again")
    pool.close()


def test_keyword_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        StandbyContext(StandbyPool(CONTEXT, warm=_no_warm_up)).Process(target=print, kwargs={"a": 1})


@pytest.mark.slow
def test_the_forkserver_preloads_start_no_compute_pool() -> None:
    """A child forked after polars' thread pool started may hang: PRELOAD must not start it."""
    code = ("import importlib; from cchc.service import warm_start as w\n"
            "[importlib.import_module(m) for m in w.PRELOAD]\nprint(w.compute_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_compute_threads_sees_a_started_polars_pool() -> None:
    code = ("import polars as pl; from cchc.service import warm_start as w\n"
            "pl.DataFrame({'a': list(range(1000))}).group_by('a').len()\n"
            "print(w.compute_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert "polars-0" in out.stdout
