"""A checked part's writes (``cchc.part_writes``): the rows each table gets are those of
splitting the part first (as it was done before the masks), and the writer frees each write's
frames once written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import polars as pl
from warehouse_fixtures import core_frame, dossier

from cchc.part_writes import PartWrites, plan_part, raw_rows, write_part
from cchc.pipeline import LoadSummary
from cchc.stage_clock import StageClock
from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN
from sources.registry import source
from warehouse.strategies import WriteResult, prepare_write

T0 = datetime(2022, 1, 1, tzinfo=UTC)
SPEC = source("onestop")
# (dossier, minutes, critical reasons, warnings): A has three versions, one of them bad
ROWS = [("A", 0, [], []), ("A", 5, ["SoGiayTo='0641': rule"], []), ("B", 1, [], ["w"]),
        ("A", 3, [], []), ("C", 2, ["bad"], ["w"]), ("B", 1, [], [])]


def _part() -> tuple[pl.DataFrame, pl.DataFrame, Any, pl.Series, pl.Series]:
    hashes = [f"h{i}" for i in range(len(ROWS))]
    raw = pl.DataFrame({f: [f"{f}{i}" for i in range(len(ROWS))] for f in SPEC.fields.raw_fields})
    raw = raw.with_columns(pl.lit("f.csv").alias(SOURCE_COLUMN),
                           pl.Series(SOURCE_ROW_COLUMN, range(2, len(ROWS) + 2)))
    core = core_frame(*[dossier(code, updated_at=T0 + timedelta(minutes=m), row_hash=h)
                        for (code, m, _, _), h in zip(ROWS, hashes, strict=True)])
    reasons = pl.List(pl.String)
    checked = SimpleNamespace(critical=pl.Series([r[2] for r in ROWS], dtype=reasons),
                              warnings=pl.Series([r[3] for r in ROWS], dtype=reasons))
    return raw, core, checked, checked.critical.list.len() > 0, checked.warnings.list.len() > 0


def _split_first(raw, core, checked, bad) -> dict[str, Any]:
    """The writes as planned before the masks: the part split apart, then each prepared."""
    lid = pl.lit("L1").alias("load_id")
    hashes = core["row_hash"]
    quarantined = raw_rows(SPEC, raw.filter(bad), hashes.filter(bad)).with_columns(
        checked.critical.filter(bad).alias("reasons"), lid)
    good_raw = raw_rows(SPEC, raw.filter(~bad), hashes.filter(~bad)).with_columns(lid)
    good = core.filter(~bad).with_columns(checked.warnings.filter(~bad).alias("dq_warnings"), lid)
    return {
        "quarantine": prepare_write(SPEC.quarantine_table,
                                    quarantined.select(SPEC.quarantine_table.column_names)),
        "raw": prepare_write(SPEC.raw_table, good_raw.select(SPEC.raw_table.column_names)),
        "core": prepare_write(SPEC.core_table, good.select(SPEC.core_table.column_names)),
    }


def test_each_table_gets_the_rows_of_splitting_the_part_first() -> None:
    raw, core, checked, bad, warned = _part()
    planned = plan_part(SPEC, "L1", raw, core, checked, bad, warned)
    assert (planned.quarantined, planned.loaded, planned.warned) == (2, 4, 1)
    want = _split_first(raw, core, checked, bad)
    assert list(planned.writes) == ["quarantine", "raw", "core"]
    for name, write in planned.writes.items():
        assert write.main.equals(want[name].main), name
        assert write.companion.equals(want[name].companion), name
    core_rows = planned.writes["core"].main.select("dossier_code", "row_hash").rows()
    assert core_rows == [("B", "h2"), ("A", "h3")]  # B's smaller hash; A's newest good version
    assert planned.writes["quarantine"].main["reasons"].to_list() == [
        ["SoGiayTo='***': rule"], ["bad"]]  # personal values quoted in reasons are masked


class _Writer:
    """Records what is left in the part while each write runs."""

    def __init__(self, part: PartWrites) -> None:
        self.part, self.seen = part, []

    def write_prepared(self, write) -> WriteResult:
        self.seen.append((write.table.name, sorted(self.part.writes)))
        return WriteResult(write.main.height, 0)


def test_the_writer_lets_go_of_each_write_once_written() -> None:
    planned = plan_part(SPEC, "L1", *_part())
    writer, summary = _Writer(planned), LoadSummary(load_id="L1", source="f", status="running")
    write_part(writer, planned, summary, StageClock())
    assert writer.seen == [
        (SPEC.quarantine_table.name, ["core", "raw"]),
        (SPEC.raw_table.name, ["core"]),
        (SPEC.core_table.name, []),
    ]
    assert planned.writes == {}
    assert (summary.rows_quarantined, summary.rows_loaded, summary.rows_new_versions,
            summary.core_inserted) == (2, 4, 4, 2)
