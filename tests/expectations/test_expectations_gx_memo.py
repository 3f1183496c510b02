"""The GX speed-ups in validate(): the configuration memo and one GX call per shared frame."""

from __future__ import annotations

import logging
import threading

import polars as pl
import pytest
from expectation_frames import dossier_frames, frames_for
from test_expectations_validate import BROKEN

from expectations import gx_memo
from expectations.validate import Validation, ValidationError, _groups, _plans, validate
from warehouse.schema import Check, Column, Severity, Table
from warehouse.tables import CORE_ONESTOP_DOSSIERS

pytestmark = pytest.mark.usefixtures("gx_ready")

T = CORE_ONESTOP_DOSSIERS


def _frames() -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    from synthetic_dossiers import make_frames

    core, raw, _ = make_frames(5_000, broken_share=0.05, seed=11)
    return [dossier_frames([c for c, _ in BROKEN], [r for _, r in BROKEN]), (core, raw)]


def _same(a: Validation, b: Validation) -> bool:
    return (
        a.critical.equals(b.critical) and a.warnings.equals(b.warnings) and a.results == b.results
    )


def test_the_runtime_installs_the_memo() -> None:
    assert gx_memo.installed()


def test_results_are_identical_without_the_memo() -> None:
    frames = _frames()
    with_memo = [validate(core, raw, T, chunk_rows=1_500) for core, raw in frames]
    gx_memo.uninstall()
    try:
        assert not gx_memo.installed()
        without = [validate(core, raw, T, chunk_rows=1_500) for core, raw in frames]
    finally:
        assert gx_memo.install()
    assert gx_memo.installed()
    assert all(_same(a, b) for a, b in zip(with_memo, without, strict=True))
    assert any(r["unexpected_count"] for r in with_memo[1].results)


def test_the_memo_answers_once_per_object_inside_a_scope_only() -> None:
    exp = _plans(T)[0].expectation
    assert exp.configuration is not exp.configuration  # GX's own: rebuilt on every read
    seen_elsewhere: list[bool] = []
    with gx_memo.scope():
        config = exp.configuration
        assert exp.configuration is config and config.to_domain_obj() is config.to_domain_obj()
        other = threading.Thread(
            target=lambda: seen_elsewhere.append(exp.configuration is exp.configuration)
        )
        other.start()
        other.join()
    assert seen_elsewhere == [False]  # another thread never sees this call's memo
    assert exp.configuration is not config and exp.configuration == config


def test_an_unexpected_gx_shape_leaves_gx_alone(monkeypatch, caplog) -> None:
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    gx_memo.uninstall()
    try:
        with monkeypatch.context() as m:
            m.setattr(ExpectationConfiguration, "to_domain_obj", lambda self, strict=True: None)
            with caplog.at_level(logging.WARNING, logger="expectations.gx_memo"):
                assert gx_memo.install() is False
            assert not gx_memo.installed()
        assert "memo not installed" in caplog.text
        assert not gx_memo.installed()  # GX's configuration property was not wrapped either
    finally:
        assert gx_memo.install()


def test_plans_share_a_call_only_with_the_same_columns() -> None:
    groups = _groups(T)
    assert len(groups) < len(_plans(T))
    assert sorted(p.ref.index for g in groups for p in g.plans) == [p.ref.index for p in _plans(T)]
    for group in groups:
        assert all(p.columns == group.columns for p in group.plans)
        assert len(group.plans) == 1 or not any(p.partition_by_value for p in group.plans)


def test_the_first_broken_check_in_declaration_order_is_reported() -> None:
    """Checks 0 and 2 share a frame, check 1 (broken) does not: 1 is reported, not 2."""
    w = Severity.WARNING
    table = Table(
        name="test_error_order",
        description="two broken patterns",
        suite="test_error_order",
        columns=(
            Column("n", "VARCHAR", "n", source_field="N", checks=(
                Check("not_null", w, "n missing"),
                Check("matches", w, "n odd when k", pattern="([a-z", when="k == 1"),
                Check("matches", w, "n odd", pattern="(?P<x"),
            )),
            Column("k", "TINYINT", "k", source_field="K"),
        ),
    )  # fmt: skip
    assert [[p.ref.index for p in g.plans] for g in _groups(table)] == [[0, 2], [1]]
    core, raw = frames_for(table, [{"n": "1", "k": 1}, {"n": "2", "k": 2}])
    with pytest.raises(ValidationError, match=r"on n: .*missing \]: \[a-z"):
        validate(core, raw, table)
