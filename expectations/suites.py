"""Great Expectations suites derived from the table declarations (``warehouse.schema``).

A check is declared once, next to its column in ``warehouse/tables.py``; this module turns each
:class:`~warehouse.schema.Check` into the GX 1.x expectation that tests it, so the suite can never
drift from the declaration. Every expectation's ``meta`` carries what validation needs to turn a
GX result back into a clerk's sentence: the check's position, severity, reason and source fields.

GX is imported inside the functions only: ``import great_expectations`` costs 3–4 s, and
transforms or the CLI must not pay it just to read a declaration.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse.schema import Check, Column, Table

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations import Expectation

# Columns the loader adds after validation: the core frame does not carry them yet.
LOADER_COLUMNS: tuple[str, ...] = ("load_id", "dq_warnings")

KINDS = ("not_null", "in_set", "not_in_set", "matches", "between", "pair_order", "unique")


def gx() -> Any:
    """Import Great Expectations, with its usage analytics off (machines are offline)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations


@cache
def context() -> Any:
    """The process's ephemeral GX context (nothing on disk); suites need one to exist."""
    return gx().get_context(mode="ephemeral")


@dataclass(frozen=True)
class CheckRef:
    """One declared check with its place in the table: what a GX result maps back to."""

    index: int  # position in ``Table.checks``: the expectation's id in ``meta``
    column: Column | None
    check: Check

    @property
    def columns(self) -> tuple[str, ...]:
        """The core columns the check reads (the checked column first, then ``other``)."""
        cols = (self.column.name,) if self.column else ()
        return cols + ((self.check.other,) if self.check.other else ())


def check_refs(table: Table) -> list[CheckRef]:
    """Every declared check of ``table``, numbered in declaration order."""
    refs = [CheckRef(i, col, chk) for i, (col, chk) in enumerate(table.checks)]
    for ref in refs:
        if ref.check.kind not in KINDS:
            raise ValueError(f"{table.name}: unknown check kind {ref.check.kind!r}")
        if ref.column is None:
            raise ValueError(f"{table.name}: table-level checks are not supported yet")
        if ref.check.kind == "pair_order" and not ref.check.other:
            raise ValueError(f"{table.name}.{ref.column.name}: pair_order needs `other`")
    return refs


def row_condition(when: str | None) -> Any:
    """``Check.when`` (a pandas query string) as a GX 1.x row condition.

    GX 1.9+ deprecates string row conditions with ``condition_parser="pandas"``. Simple
    conditions become the public ``Column`` condition objects (they render in Data Docs and
    serialise); anything else is passed through to ``DataFrame.query`` as GX itself does with
    a legacy string.
    """
    if not when:
        return None
    from great_expectations.expectations.row_conditions import PassThroughCondition

    try:
        return _condition(ast.parse(when, mode="eval").body)
    except (ValueError, SyntaxError):
        return PassThroughCondition(pass_through_filter=when)


_COMPARE = {
    ast.Eq: "__eq__",
    ast.NotEq: "__ne__",
    ast.Lt: "__lt__",
    ast.LtE: "__le__",
    ast.Gt: "__gt__",
    ast.GtE: "__ge__",
}


def _condition(node: ast.expr) -> Any:
    """Translate ``a in [..]``, ``a not in [..]``, ``a <op> literal`` and ``and`` of these."""
    from great_expectations.expectations.row_conditions import AndCondition
    from great_expectations.expectations.row_conditions import Column as GxColumn

    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return AndCondition(conditions=[_condition(v) for v in node.values])
    if not (
        isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name)
    ):
        raise ValueError("not a simple comparison")
    column, op = GxColumn(node.left.id), node.ops[0]
    value = ast.literal_eval(node.comparators[0])
    if isinstance(op, ast.In | ast.NotIn):
        if not isinstance(value, list | tuple | set):
            raise ValueError("membership needs a list")
        return column.is_in(value) if isinstance(op, ast.In) else column.is_not_in(value)
    if type(op) not in _COMPARE or value is None:
        raise ValueError("unsupported operator")
    return getattr(column, _COMPARE[type(op)])(value)


def expectation_for(ref: CheckRef, table: Table) -> Expectation:
    """The GX expectation that tests one declared check."""
    gxe = gx().expectations
    col, chk = ref.column, ref.check
    assert col is not None
    common: dict[str, Any] = {
        "row_condition": row_condition(chk.when),
        "severity": chk.severity.value,
        "meta": _meta(ref, table),
        "description": chk.reason,
    }
    if chk.kind == "pair_order":
        other = table.column(chk.other or "")
        # A row where either date is missing says nothing about their order: other checks
        # (not_null on the column) decide whether a missing date is wrong.
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=col.name,
            column_B=other.name,
            or_equal=chk.or_equal,
            ignore_row_if="either_value_is_missing",
            **common,
        )
    common["column"] = col.name
    if chk.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(**common)
    if chk.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(value_set=list(chk.values or ()), **common)
    if chk.kind == "not_in_set":
        return gxe.ExpectColumnValuesToNotBeInSet(value_set=list(chk.values or ()), **common)
    if chk.kind == "matches":
        return gxe.ExpectColumnValuesToMatchRegex(regex=chk.pattern, **common)
    if chk.kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(
            min_value=_bound(chk.min, col), max_value=_bound(chk.max, col), **common
        )
    return gxe.ExpectColumnValuesToBeUnique(**common)


def _bound(value: Any, col: Column) -> Any:
    """A ``between`` bound comparable with the column as pandas holds it.

    DATE columns arrive as naive ``datetime64`` and TIMESTAMPTZ as UTC-aware: a ``date`` or an
    ISO string bound would make GX raise "cannot compare", so bounds become datetimes.
    """
    if value is None or col.type not in ("DATE", "TIMESTAMPTZ"):
        return value
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if col.type == "DATE":
        return value.replace(tzinfo=None)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _meta(ref: CheckRef, table: Table) -> dict[str, Any]:
    """Kept small: GX re-serialises an expectation ~100 times per validation."""
    col, chk = ref.column, ref.check
    assert col is not None
    fields = [col.source_field or col.name]
    if chk.other:
        other = table.column(chk.other)
        fields.append(other.source_field or other.name)
    return {
        "cchc_check": ref.index,  # position in Table.checks: the way back to the declaration
        "severity": chk.severity.value,
        "reason": chk.reason,
        "source_fields": fields,  # raw fields a failing row's reason quotes
    }


def frame_columns(table: Table) -> list[str]:
    """The columns a core frame must carry: the declaration minus what the loader adds."""
    return [c for c in table.column_names if c not in LOADER_COLUMNS]


def suite_name(table: Table) -> str:
    return table.suite or table.name


def build_suite(
    table: Table, refs: Sequence[CheckRef] | None = None, *, name: str | None = None
) -> ExpectationSuite:
    """A GX suite with one expectation per declared check (``refs``: a subset, default all)."""
    context()
    suite = gx().ExpectationSuite(name=name or suite_name(table), meta={"table": table.name})
    for ref in check_refs(table) if refs is None else refs:
        suite.add_expectation(expectation_for(ref, table))
    expected = len(check_refs(table) if refs is None else refs)
    if len(suite.expectations) != expected:  # GX silently drops "equal-ish" duplicates
        raise ValueError(f"{table.name}: two checks compile to the same expectation")
    return suite


def build_shape_suite(table: Table) -> ExpectationSuite:
    """Column set and types of the core frame, checked once per call on a zero-row frame.

    A missing or mistyped column is a broken transform, not bad data: validation raises.
    """
    gxe = gx().expectations
    context()
    suite = gx().ExpectationSuite(name=f"{suite_name(table)}.shape", meta={"table": table.name})
    suite.add_expectation(
        gxe.ExpectTableColumnsToMatchSet(
            column_set=frame_columns(table),
            exact_match=False,
            meta={"kind": "columns"},
        )
    )
    for col in table.columns:
        if col.name in LOADER_COLUMNS:
            continue
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeOfType(
                column=col.name,
                type_=pandas_type(col),
                meta={"kind": "type"},
            )
        )
    return suite


def pandas_type(col: Column) -> str:
    """The dtype GX should see for ``col`` once a polars frame is handed to pandas via Arrow."""
    return _PANDAS_TYPES[col.type]


# dtype names GX's pandas type check accepts for polars columns after ``to_pandas()`` of a
# zero-row frame (no nulls, so integers stay integers): checked against GX 1.24 / pandas 3.
_PANDAS_TYPES = {
    "VARCHAR": "str",
    "JSON": "str",
    "BOOLEAN": "bool",
    "TINYINT": "int8",
    "SMALLINT": "int16",
    "INTEGER": "int32",
    "BIGINT": "int64",
    "DOUBLE": "float64",
    "DATE": "datetime64",
    "TIMESTAMPTZ": "Timestamp",  # tz-aware: a naive datetime column fails
    "VARCHAR[]": "object",
}


@cache
def cached_suite(table: Table) -> ExpectationSuite:
    """The table's suite, built once per process (tables are frozen, so hashable)."""
    return build_suite(table)


def write_suite(suite: ExpectationSuite, folder: Path) -> Path:
    """Write the suite as GX JSON under ``folder`` (for review and Data Docs); returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{suite.name}.json"
    path.write_text(
        json.dumps(suite.to_json_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def write_data_docs(tables: Sequence[Table], folder: Path) -> Path:
    """Render the tables' suites as GX Data Docs (static HTML) under ``folder``; returns index.html.

    The suites are reviewed as code; the HTML is for readers who do not read Python: each
    expectation is shown with its reason (GX's ``description``) and its row condition.
    """
    ctx = context()
    folder.mkdir(parents=True, exist_ok=True)
    site = "cchc_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    if site not in ctx.get_site_names():
        ctx.add_data_docs_site(
            site,
            {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(folder),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    for table in tables:
        ctx.suites.add_or_update(build_suite(table))
    ctx.build_data_docs(site_names=[site])
    return folder / "index.html"
