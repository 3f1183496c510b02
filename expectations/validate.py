"""Run a table's GX suite on a core frame and turn the results into per-row reasons.

Why it is shaped this way (measured at 1M rows on the 2-core machine, docs in README.md):

* GX has no polars engine, so every expectation runs on a pandas frame built from Arrow.
  The frame holds only the columns that expectation reads (its column, ``other`` and the
  columns of its row condition) plus the row id as a *named index*. GX's pandas engine copies
  the whole batch frame for every row condition it applies and every failing-row lookup, so a
  narrow frame per expectation costs a fraction of one wide frame, and memory stays small.
* The row id goes in as the frame's named index and is asked for with
  ``unexpected_index_column_names`` + ``exclude_unexpected_values``: GX 1.24 then returns
  ``[{"<row id>": [ids...]}]`` without building a dict per failing row.
* Expectations that read the same columns share one frame and one GX call (a suite): the
  frame is the one each would get alone, and the call's fixed cost is paid once.
* Chunks are row slices of ``chunk_rows``; ``unique`` checks are chunked by a hash of their
  column instead, so equal values always meet in the same chunk.
* GX rebuilds an expectation's configuration thousands of times per call: :mod:`gx_memo`
  computes it once per object within each call.
* The context, datasource and suites are built once per process and reused.
"""

from __future__ import annotations

import ast
import copy
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import polars as pl

from expectations import gx_memo, suites
from warehouse.schema import Severity, Table

log = logging.getLogger(__name__)

ROW_ID = "__cchc_row"
# Each chunk pays GX's fixed cost again (≈ 0.35 s for the dossier suite); frames are narrow, so
# 500k rows stay near +150 MiB. The pipeline passes its own part size.
DEFAULT_CHUNK_ROWS = 500_000
MAX_QUOTED = 60  # raw values longer than this are cut in reasons

RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW_ID],
    "exclude_unexpected_values": True,  # ids only: no per-row dicts, no value lists
    "return_unexpected_index_query": False,  # a pandas "query" listing every id: not needed
    "partial_unexpected_count": 0,
}


class ValidationError(RuntimeError):
    """GX could not evaluate a check, or the core frame breaks the stage contract."""


@dataclass(frozen=True)
class Validation:
    """Per-row reasons (one list per core row, empty = passes) and one result per expectation."""

    critical: pl.Series  # List[String]: the row goes to quarantine if non-empty
    warnings: pl.Series  # List[String]: the row loads, flagged in dq_warnings
    results: list[dict[str, Any]]  # dq_results rows without load_id / validated_at

    @property
    def quarantined(self) -> pl.Series:
        """Boolean mask of the rows that failed a critical check."""
        return self.critical.list.len() > 0

    @property
    def warned(self) -> pl.Series:
        return self.warnings.list.len() > 0


@dataclass(frozen=True)
class _Plan:
    """One expectation of the suite and the columns its pandas frame needs."""

    ref: suites.CheckRef
    expectation: Any
    columns: tuple[str, ...]

    @property
    def partition_by_value(self) -> bool:
        return self.ref.check.kind == "unique"


@dataclass(frozen=True)
class _Group:
    """Plans that read the same columns: one frame and one GX call per chunk for all of them."""

    plans: tuple[_Plan, ...]
    expect: Any  # the plan's expectation, or a suite of copies of the plans' expectations

    @property
    def columns(self) -> tuple[str, ...]:
        return self.plans[0].columns


@dataclass
class _Tally:
    """One plan's outcome summed over chunks; ``problem`` is the first error GX reported."""

    ids: list[np.ndarray] = field(default_factory=list)
    element_count: int = 0
    unexpected_count: int = 0
    success: bool = True
    problem: str | None = None


class _Runtime:
    """The process's GX objects: context, one pandas datasource, one batch definition."""

    def __init__(self) -> None:
        suites.gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.context = suites.context()
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _skip_frame_fingerprint()
        gx_memo.install()
        source = self.context.data_sources.add_or_update_pandas("cchc_frames")
        asset = source.add_dataframe_asset("chunk")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole")

    def validate(self, frame: Any, expect: Any) -> Any:
        """GX's result for one expectation, or a suite result for a suite."""
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        with gx_memo.scope():
            return batch.validate(expect, result_format=RESULT_FORMAT)

    def release(self) -> None:
        """Drop the engine's reference to the last frame (it would live until the next call)."""
        engine = self.batch_definition.data_asset.datasource.get_execution_engine()
        engine.batch_manager.reset_batch_cache()


def _skip_frame_fingerprint() -> None:
    """Stop GX hashing every pandas batch (a fingerprint marker nothing here reads).

    ``PandasExecutionEngine`` hashes each frame under 1 GB with ``hash_pandas_object`` to put a
    fingerprint in the batch markers; ``Batch.validate`` builds the batch twice, so at 1M rows
    this alone costs more than the checks. The threshold is a module constant in GX 1.24.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


# Every dataframe batch gets the same batch id in GX 1.24 and the datasource shares one
# execution engine, so two threads validating at once would read each other's frames. GX is
# GIL-bound Python anyway: serialising calls costs no throughput.
_GX_LOCK = threading.RLock()


_RUNTIME: list[_Runtime] = []


def _runtime() -> _Runtime:
    """The process's runtime, built once, even when a warm-up thread builds it meanwhile."""
    if not _RUNTIME:
        with _GX_LOCK:
            if not _RUNTIME:
                _RUNTIME.append(_Runtime())
    return _RUNTIME[0]


def warm_up(tables: Iterable[Table]) -> threading.Thread:
    """Import GX and build its runtime and the suites of ``tables`` in a background thread.

    Importing GX and building a context costs seconds of GIL-bound Python, once per process.
    A load starts this while it stages its input (polars' and DuckDB's native code leaves
    the GIL free), so the first :func:`validate` finds GX ready instead of waiting for it;
    a ``validate`` call that comes first simply waits on the lock."""
    wanted = tuple(tables)

    def build() -> None:
        try:
            with _GX_LOCK:
                for table in wanted:
                    _groups(table)
        except Exception:  # validate() builds them again and reports the error there
            log.debug("GX warm-up failed", exc_info=True)

    thread = threading.Thread(target=build, name="cchc-gx-warm-up", daemon=True)
    thread.start()
    return thread


@cache
def _plans(table: Table) -> tuple[_Plan, ...]:
    """The suite's expectations, each with the narrow column set it runs on."""
    _runtime()
    suite = suites.cached_suite(table)
    refs = {r.index: r for r in suites.check_refs(table)}
    plans = []
    for exp in suite.expectations:
        ref = refs[exp.meta["cchc_check"]]
        cols = list(ref.columns)
        cols += [c for c in _condition_columns(ref.check.when, table) if c not in cols]
        plans.append(_Plan(ref, exp, tuple(cols)))
    return tuple(sorted(plans, key=lambda p: p.ref.index))


def _condition_columns(when: str | None, table: Table) -> list[str]:
    """Columns a pandas query string names (they must be in the frame GX filters)."""
    if not when:
        return []
    names = {n.id for n in ast.walk(ast.parse(when, mode="eval")) if isinstance(n, ast.Name)}
    return [c for c in table.column_names if c in names]


@cache
def _groups(table: Table) -> tuple[_Group, ...]:
    """The plans grouped by identical column sets, in order of their first check.

    A group's frame is exactly the frame each of its plans would get alone. ``unique`` plans
    stay alone: their chunks are hash partitions of their own column.
    """
    by_columns: dict[Any, list[_Plan]] = {}
    for plan in _plans(table):
        key = ("unique", plan.ref.index) if plan.partition_by_value else plan.columns
        by_columns.setdefault(key, []).append(plan)
    return tuple(_group(table, members) for members in by_columns.values())


def _group(table: Table, members: list[_Plan]) -> _Group:
    if len(members) == 1:
        return _Group((members[0],), members[0].expectation)
    name = f"{suites.suite_name(table)}.frame{members[0].ref.index}"
    # copies: a suite binds its expectations to itself, and the table's suite owns the originals
    suite = suites.gx().ExpectationSuite(
        name=name, expectations=[copy.copy(p.expectation) for p in members]
    )
    return _Group(tuple(members), suite)


def validate(
    core: pl.DataFrame, raw: pl.DataFrame, table: Table, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Validation:
    """Run every declared check of ``table`` through GX on ``core``; quote ``raw`` in reasons.

    ``core`` and ``raw`` are row-aligned (the transform contract): row i of one is row i of
    the other. Raises :class:`ValidationError` if a check cannot be evaluated (the first such
    check in declaration order).
    """
    if core.height != raw.height:
        raise ValidationError(f"core has {core.height} rows but raw has {raw.height}")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    with _GX_LOCK:
        check_frame_shape(core, table)
        groups = _groups(table)
        runtime = _runtime()
        indexed = core.with_row_index(ROW_ID)
        tallies: dict[int, _Tally] = {}
        try:
            for group in groups:
                tallies.update(_run_group(runtime, group, indexed, chunk_rows))
        finally:
            runtime.release()
    results: list[dict[str, Any]] = []
    failures: list[pl.DataFrame] = []
    for plan in _plans(table):
        rows, tally = _finish(plan, tallies[plan.ref.index])
        results.append(_result_row(table, plan, tally))
        if len(rows):
            failures.append(_reasons(plan, rows, core, raw))
    critical, warnings = _per_row(failures, core.height)
    return Validation(critical=critical, warnings=warnings, results=results)


def _run_group(
    runtime: _Runtime, group: _Group, indexed: pl.DataFrame, chunk_rows: int
) -> dict[int, _Tally]:
    """Validate a group's expectations over all chunks, one GX call per chunk."""
    frame = indexed.select(ROW_ID, *group.columns)
    tallies = {plan.ref.index: _Tally() for plan in group.plans}
    for chunk in _chunks(frame, group.plans[0], chunk_rows):
        outcome = runtime.validate(_to_pandas(chunk), group.expect)
        by_check = _results_by_check(group, outcome)
        for plan in group.plans:
            _add(plan, tallies[plan.ref.index], by_check.get(plan.ref.index))
    return tallies


def _results_by_check(group: _Group, outcome: Any) -> dict[int, Any]:
    """GX's per-expectation results keyed by check index (a suite may reorder them)."""
    if len(group.plans) == 1:
        return {group.plans[0].ref.index: outcome}
    by_check = {}
    for result in outcome.results:
        meta = getattr(result.expectation_config, "meta", None) or {}
        by_check[meta.get("cchc_check")] = result
    return by_check


def _add(plan: _Plan, tally: _Tally, result: Any) -> None:
    """Fold one chunk's result into the plan's tally, or record why it cannot be used."""
    if tally.problem:
        return
    body = result.result if result is not None else {}
    problem = _gx_exception(result.exception_info) if result is not None else "no result"
    if problem or "unexpected_count" not in body:
        tally.problem = (
            f"GX could not evaluate {plan.expectation.expectation_type} on "
            f"{', '.join(plan.ref.columns)}: {problem or 'no unexpected_count in the result'}"
        )
        return
    tally.element_count += int(body.get("element_count") or 0)
    tally.unexpected_count += int(body.get("unexpected_count") or 0)
    tally.success = tally.success and bool(result.success)
    tally.ids.append(_unexpected_ids(body))


def _finish(plan: _Plan, tally: _Tally) -> tuple[np.ndarray, _Tally]:
    """The plan's failing row ids; raises the plan's problem, or a count GX contradicted."""
    if tally.problem:
        raise ValidationError(tally.problem)
    rows = np.concatenate(tally.ids) if tally.ids else np.empty(0, dtype=np.int64)
    if len(rows) != tally.unexpected_count:
        raise ValidationError(
            f"{plan.expectation.expectation_type} on {', '.join(plan.ref.columns)}: GX counted "
            f"{tally.unexpected_count} failures but listed {len(rows)} rows"
        )
    return rows, tally


def _to_pandas(chunk: pl.DataFrame) -> Any:
    """A pandas frame for GX: Arrow-backed text, numpy numbers/dates, the row id as index.

    Small integers are widened to Int64: GX's ``between`` only takes its vectorised path for
    int64/float64 columns (an int8 column is compared row by row in Python).
    """
    small = pl.col(pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32)
    return chunk.with_columns(small.cast(pl.Int64)).to_pandas().set_index(ROW_ID)


def _gx_exception(info: dict[str, Any] | None) -> str | None:
    """The error GX caught while validating, if any.

    GX 1.24 reports an error in the expectation itself as ``{"raised_exception": True, ...}``,
    but one in a metric it depends on as ``{"<metric id>": {"raised_exception": True, ...}}``
    with ``success`` False and an empty result: both must stop validation, never pass rows.
    """
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "unknown error")
    return None


def _chunks(frame: pl.DataFrame, plan: _Plan, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """Row slices; for ``unique``, hash partitions so duplicates share a chunk."""
    if frame.height == 0:
        return
    if not plan.partition_by_value or frame.height <= chunk_rows:
        yield from frame.iter_slices(chunk_rows)
        return
    parts = -(-frame.height // chunk_rows)
    key = pl.col(plan.ref.columns[0]).hash(seed=0) % parts
    yield from frame.with_columns(key.alias("__part")).partition_by("__part", include_key=False)


def _unexpected_ids(body: dict[str, Any]) -> np.ndarray:
    """Row ids from GX's ``unexpected_index_list`` (``[{ROW_ID: [...]}]``, or ``[]``)."""
    listed = body.get("unexpected_index_list") or []
    if not listed:
        return np.empty(0, dtype=np.int64)
    if isinstance(listed[0], dict) and isinstance(listed[0].get(ROW_ID), list):
        return np.asarray(listed[0][ROW_ID], dtype=np.int64)
    return np.asarray([item[ROW_ID] for item in listed], dtype=np.int64)


def _result_row(table: Table, plan: _Plan, tally: _Tally) -> dict[str, Any]:
    chk = plan.ref.check
    return {
        "table_name": table.name,
        "suite": suites.suite_name(table),
        "expectation": plan.expectation.expectation_type,
        "column_name": ",".join(plan.ref.columns),
        "severity": chk.severity.value,
        "reason": chk.reason,
        "success": tally.success,
        "element_count": tally.element_count,
        "unexpected_count": tally.unexpected_count,
    }


def _reasons(plan: _Plan, rows: np.ndarray, core: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """``row, check, severity, reason`` for the failing rows of one check, quoting raw values."""
    idx = pl.Series(ROW_ID, rows, dtype=pl.Int64)
    meta = plan.expectation.meta
    quoted = []
    for column, source_field in zip(plan.ref.columns, meta["source_fields"], strict=True):
        source = raw if source_field in raw.columns else core
        name = source_field if source_field in raw.columns else column
        values = source.get_column(name).gather(idx).cast(pl.String)
        quoted.append(pl.lit(f"{name}=") + _quote(values))
    text = pl.concat_str(quoted, separator=", ") + pl.lit(f": {plan.ref.check.reason}")
    return pl.select(
        idx,
        pl.lit(plan.ref.index, pl.Int32).alias("check"),
        pl.lit(plan.ref.check.severity.value).alias("severity"),
        text.alias("reason"),
    )


def _quote(values: pl.Series) -> pl.Expr:
    v = pl.lit(values)
    cut = (
        pl.when(v.str.len_chars() > MAX_QUOTED).then(v.str.slice(0, MAX_QUOTED) + "…").otherwise(v)
    )
    return pl.when(v.is_null()).then(pl.lit("(empty)")).otherwise(pl.lit("'") + cut + pl.lit("'"))


def _per_row(failures: list[pl.DataFrame], height: int) -> tuple[pl.Series, pl.Series]:
    """Fold failing (row, reason) pairs into one list per row and severity, in check order."""
    rows = pl.DataFrame({ROW_ID: pl.int_range(0, height, dtype=pl.Int64, eager=True)})
    out = {}
    reasons = pl.concat(failures) if failures else None
    for severity in Severity:
        if reasons is None:
            out[severity] = pl.repeat([], height, dtype=pl.List(pl.String), eager=True)
            continue
        grouped = (
            reasons.filter(pl.col("severity") == severity.value)
            .sort(ROW_ID, "check")
            .group_by(ROW_ID, maintain_order=True)
            .agg(pl.col("reason"))
        )
        joined = rows.join(grouped, on=ROW_ID, how="left", maintain_order="left")
        out[severity] = joined.get_column("reason").fill_null(pl.lit([], pl.List(pl.String)))
    return (out[Severity.CRITICAL].alias("critical"), out[Severity.WARNING].alias("warnings"))


def check_frame_shape(core: pl.DataFrame, table: Table) -> None:
    """Columns and types of ``core`` match the declaration (GX on a zero-row frame, cached)."""
    _check_shape(
        table, tuple((name, repr(dtype)) for name, dtype in core.schema.items()), core.head(0)
    )


_SHAPE_SEEN: set[tuple[Table, tuple[tuple[str, str], ...]]] = set()


def _check_shape(table: Table, key: tuple[tuple[str, str], ...], empty: pl.DataFrame) -> None:
    if (table, key) in _SHAPE_SEEN:
        return
    runtime = _runtime()
    with _GX_LOCK:
        _run_shape_suite(runtime, table, empty)
    _SHAPE_SEEN.add((table, key))


def _run_shape_suite(runtime: _Runtime, table: Table, empty: pl.DataFrame) -> None:
    pdf = empty.to_pandas()
    problems = []
    for exp in _shape_suite(table).expectations:
        column = getattr(exp, "column", None)
        if column is not None and column not in pdf.columns:
            continue  # the column-set expectation reports it
        result = runtime.validate(pdf, exp)
        if result.success:
            continue
        if column is None:
            missing = result.result.get("details", {}).get("mismatched", {}).get("missing", [])
            problems.append("missing columns " + ", ".join(missing))
        else:
            observed = result.result.get("observed_value")
            problems.append(f"{column} is {observed}, declared {exp.type_}")
    if problems:
        raise ValidationError(f"core frame does not match {table.name}: " + "; ".join(problems))


@cache
def _shape_suite(table: Table) -> Any:
    return suites.build_shape_suite(table)
