"""The vocabulary for declaring a warehouse table once.

A :class:`Table` names its layer, key, columns (DuckDB type, where the value comes from in the
source, whether it is personal data), load strategy and the checks its rows must pass. From that
single declaration the rest is derived: the DDL (``warehouse.ddl``), the polars schema
(:meth:`Table.polars_schema`) and the Great Expectations suite (``expectations.suites``). Adding a
table or a check is one declaration, not a copy of code.

This module imports nothing heavy: transforms and expectations read declarations without opening
DuckDB or importing Great Expectations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import polars as pl


class Severity(StrEnum):
    """What a failed check means for the row."""

    CRITICAL = "critical"  # the row cannot be trusted: quarantine it with the reason
    WARNING = "warning"  # load it, flag it on the row, count it, alert


class Strategy(StrEnum):
    """How a load writes the table."""

    MERGE = "merge"  # upsert by key; a row never replaces a newer one (see Table.version_column)
    APPEND_NEW = "append_new"  # insert rows whose key is not there yet; never update
    APPEND = "append"  # insert every row (audit logs)
    REPLACE = "replace"  # rebuild from seeds on every load (small dimensions)


_POLARS_TYPES: dict[str, pl.DataType | type[pl.DataType]] = {
    "VARCHAR": pl.String,
    "BOOLEAN": pl.Boolean,
    "TINYINT": pl.Int8,
    "SMALLINT": pl.Int16,
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "DOUBLE": pl.Float64,
    "DATE": pl.Date,
    "TIMESTAMPTZ": pl.Datetime("us", "UTC"),
    "VARCHAR[]": pl.List(pl.String),
    "JSON": pl.String,
}


@dataclass(frozen=True)
class Check:
    """One expectation on a column (or a pair of columns), with its severity and reason.

    ``kind`` is one of: ``not_null``, ``in_set`` (``values``), ``not_in_set`` (``values``: the
    values that fail; null passes), ``matches`` (``pattern``),
    ``between`` (``min``/``max``), ``pair_order`` (``other`` <= column, e.g. finished after
    received), ``unique``. ``when`` is an optional pandas query string limiting the rows the
    check applies to (GX ``row_condition``), e.g. ``"status not in [1, 3]"``.
    ``reason`` is the sentence a clerk reads in the quarantine table or the alert.
    """

    kind: str
    severity: Severity
    reason: str
    values: Sequence[Any] | None = None
    pattern: str | None = None
    min: Any = None
    max: Any = None
    other: str | None = None
    or_equal: bool = True
    when: str | None = None


@dataclass(frozen=True)
class Column:
    """A column: DuckDB type, the source field it comes from, personal-data flag, checks."""

    name: str
    type: str
    description: str
    source_field: str | None = None  # raw field (API key) the value is parsed from
    nullable: bool = True
    pii: bool = False  # personal data (Decree 13/2023): kept out of the analysts' snapshot
    checks: tuple[Check, ...] = ()

    @property
    def polars_type(self) -> pl.DataType | type[pl.DataType]:
        return _POLARS_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """A warehouse table declared once."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    strategy: Strategy = Strategy.APPEND
    version_column: str | None = None  # MERGE: the newer value wins, ties broken by row_hash
    table_checks: tuple[Check, ...] = field(default=())
    suite: str | None = None  # name of the GX suite derived from the checks
    # Rows kept as immutable Parquet files, the table a view over them (warehouse.raw_files):
    # an append-only layer read rarely. On the ducklake backend every table is Parquet already.
    files: bool = False
    # Only loads write the table's rows, and every write stamps the row with its load_id (a
    # core row updated by a merge takes the new load's id): a publish copies the rows of the
    # loads since the last one instead of the whole table (warehouse.snapshot_spare). Whatever
    # else changes its rows (undoing a load, a migration) discards that state first.
    stamped: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.polars_type for c in self.columns})

    @property
    def checks(self) -> list[tuple[Column | None, Check]]:
        """Every check of the table: (column, check) pairs, table-level checks with None."""
        out: list[tuple[Column | None, Check]] = [(c, k) for c in self.columns for k in c.checks]
        out.extend((None, k) for k in self.table_checks)
        return out

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]


# Date fields: the transform's verdict on each (``transforms.dates.date_fault_expr``), checked
# here. Unreadable is not missing: a due date "30/02/2021" parsed to null would otherwise be
# counted on time (no due date = on time in form 06).
DATE_UNREADABLE = "unreadable"
DATE_IMPLAUSIBLE = "implausible"
PLAUSIBLE_FROM = date(2000, 1, 1)  # no record of these systems predates 2000 (a 1970 is a default)
DATE_UNREADABLE_REASON = "date is unreadable"
DATE_IMPLAUSIBLE_REASON = (
    f"date is outside the plausible range (before {PLAUSIBLE_FROM.isoformat()} or more than a "
    "year after the load date)"
)


def date_fault_column(name: str, source_field: str) -> Column:
    """``<x>_date_fault``: null, or why ``source_field`` cannot be trusted; both are CRITICAL.

    The reasons quote the raw text: ``NgayHenTra='30/02/2021': date is unreadable``.
    """
    return Column(
        name, "VARCHAR",
        f"Why {source_field} cannot be trusted: '{DATE_UNREADABLE}' (text given but not a date) "
        f"or '{DATE_IMPLAUSIBLE}' (before {PLAUSIBLE_FROM.isoformat()} or more than a year after "
        "the load date); null when fine or missing. Rows with a fault are quarantined.",
        source_field=source_field,
        checks=(
            Check("not_in_set", Severity.CRITICAL, DATE_UNREADABLE_REASON,
                  values=(DATE_UNREADABLE,)),
            Check("not_in_set", Severity.CRITICAL, DATE_IMPLAUSIBLE_REASON,
                  values=(DATE_IMPLAUSIBLE,)),
        ),
    )


UNIT_FAULT_REASON = (
    "the unit it names did not exist on that day (units before the 1 July 2025 reform ended on "
    "30 June 2025; the new communes began on 1 July 2025)"
)


def unit_validity_columns() -> tuple[Column, Column]:
    """``unit_valid_from`` (which unit a reused code meant) and ``unit_fault`` (CRITICAL).

    ``transforms.units.resolve_units`` fills both from the reception day; the reason quotes the
    field, its value and the day: ``unit_fault='MaDVHC "24082" on 2025-08-01': the unit …``.
    """
    return (
        Column("unit_valid_from", "DATE",
               "valid_from of the dim_admin_unit row unit_code means: the unit valid on the "
               "reception day (a code reused after the 2025 reform names two units)."),
        Column("unit_fault", "VARCHAR",
               "Null, or the field, value and day of a unit that did not exist on that day "
               "(e.g. a commune merged away on 1 July 2025). Such rows are quarantined.",
               checks=(Check("matches", Severity.CRITICAL, UNIT_FAULT_REASON, pattern=r"^$"),)),
    )
