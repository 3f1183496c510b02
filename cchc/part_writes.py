"""One checked part's writes: planned in polars by the thread that prepared the part, then
written by the writer.

A load keeps two parts in flight (``cchc.pipeline._load_parts``): DuckDB writes part *k* while
a second thread reads, transforms and validates part *k + 1*. The writer is the critical path,
so everything a write needs that is polars alone — the quarantined and the good rows split
apart, shaped like their tables, personal data split off and masked, one row per key
(``warehouse.strategies.prepare_write``) — is done in the preparing thread (:func:`plan_part`),
and the writer only runs DuckDB (:func:`write_part`). The part's raw and core frames are freed
once planned, so the part in flight holds its write frames only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from cchc.stage_clock import StageClock
from sources.fields import SOURCE_COLUMN, SOURCE_ROW_COLUMN, WITHHELD_COLUMN
from sources.spec import SourceSpec
from warehouse.strategies import PreparedWrite, prepare_write

if TYPE_CHECKING:
    from cchc.pipeline import LoadSummary


@dataclass(frozen=True)
class PartWrites:
    """A part's three writes (quarantine, raw versions, core, in the order they are written)
    and the row counts they add to the load's summary.

    :func:`write_part` takes each write out of ``writes`` as it writes it: the frames of a
    write already done are freed while the next one runs (the raw versions are a wide copy of
    the part, held otherwise through the core merge, while the next part is prepared)."""

    writes: dict[str, PreparedWrite]
    quarantined: int
    loaded: int
    warned: int


def raw_rows(spec: SourceSpec, raw: pl.DataFrame, hashes: pl.Series) -> pl.DataFrame:
    """Raw fields plus provenance, shaped like the raw-versions table (load_id added later)."""
    extra = []
    if "withheld" in spec.raw_table.column_names:
        extra.append(pl.col(WITHHELD_COLUMN).alias("withheld") if WITHHELD_COLUMN in raw.columns
                     else pl.lit(None, pl.String).alias("withheld"))
    return raw.select(
        *[pl.col(f) for f in spec.fields.raw_fields],
        *extra,
        pl.col(SOURCE_COLUMN).alias("source"),
        pl.col(SOURCE_ROW_COLUMN).cast(pl.Int64).alias("source_row"),
    ).with_columns(hashes.alias("row_hash"))


def plan_part(spec: SourceSpec, load_id: str, raw: pl.DataFrame, core: pl.DataFrame,
              checked: Any, bad: pl.Series, warned: pl.Series) -> PartWrites:
    """The rows that failed a critical check for quarantine, the others for the raw versions
    and the core table, each made ready for its table (no connection needed).

    The frames are not split here: each write takes its rows by a mask (``prepare_write``), in
    one copy with its pick of one row per key, or none when the mask keeps every row."""
    lid = pl.lit(load_id).alias("load_id")
    good = ~bad
    rows = raw_rows(spec, raw, core["row_hash"]).with_columns(lid)
    quarantine = rows.with_columns(checked.critical.alias("reasons"))
    good_core = core.with_columns(checked.warnings.alias("dq_warnings"), lid)
    return PartWrites(
        writes={
            "quarantine": prepare_write(spec.quarantine_table,
                                        quarantine.select(spec.quarantine_table.column_names),
                                        keep=bad),
            "raw": prepare_write(spec.raw_table, rows.select(spec.raw_table.column_names),
                                 keep=good),
            "core": prepare_write(spec.core_table, good_core.select(spec.core_table.column_names),
                                  keep=good),
        },
        quarantined=int(bad.sum()),
        loaded=int(good.sum()),
        warned=int((warned & good).sum()),
    )


def write_part(wh: Any, part: PartWrites, s: LoadSummary, clock: StageClock) -> None:
    """Quarantine, raw versions, core merge, in the caller's transaction; count them in ``s``.
    Each write leaves ``part`` as it starts: its frames are freed once written."""
    with clock.stage("write_quarantine"):
        wh.write_prepared(part.writes.pop("quarantine"))
    with clock.stage("write_raw"):
        s.rows_new_versions += wh.write_prepared(part.writes.pop("raw")).inserted
    with clock.stage("write_core"):
        merged = wh.write_prepared(part.writes.pop("core"))
    s.core_inserted += merged.inserted
    s.core_updated += merged.updated
    s.rows_quarantined += part.quarantined
    s.rows_loaded += part.loaded
    s.rows_warned += part.warned
