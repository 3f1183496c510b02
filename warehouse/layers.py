"""The layered tables every source has, declared by one call each.

A source system brings three tables: ``raw_<system>__<x>`` (every distinct version seen, as
text), ``quarantine_<system>__<x>`` (rows that failed a critical check, with reasons) and
``core_<system>__<x>`` (one row per entity, newest version). The first two differ only in their
raw fields and are derived here from the source's raw field list; the core table's own columns
are the source's meaning and are declared by hand, and :func:`core_table` adds what every core
table has (merge by key on the update time, warnings, provenance). A new source is one call
away from each of its tables, not one copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from warehouse.schema import Check, Column, Severity, Strategy, Table

PROVENANCE: tuple[Column, ...] = (
    Column("load_id", "VARCHAR", "The load (etl_loads.load_id) that brought this row.", nullable=False),
    Column("source", "VARCHAR", "File path or API request the row came from."),
    Column("source_row", "BIGINT", "1-based row number in the file, or item ordinal in the pull."),
    Column("row_hash", "VARCHAR", "Hash of the raw field values: same content, same hash.", nullable=False),
)

WITHHELD = Column(
    "withheld", "VARCHAR",
    "Raw fields the source sent but cchc dropped before storing anything (e.g. the summary of a "
    "secret document): their names only, never their values.",
)


def raw_columns(fields: Sequence[str], pii: Iterable[str] = ()) -> tuple[Column, ...]:
    """One VARCHAR column per raw field, flagged as personal data where the source says so."""
    personal = set(pii)
    return tuple(
        Column(f, "VARCHAR", f"Raw value of {f} as the source gave it.", source_field=f, pii=f in personal)
        for f in fields
    )


def raw_versions_table(name: str, entity: str, fields: Sequence[str], pii: Iterable[str] = (),
                       extra: tuple[Column, ...] = ()) -> Table:
    """``raw_<system>__<entity>_versions``: every distinct version seen, as text, keyed by hash."""
    return Table(
        name=name,
        description=f"Every distinct version of a {entity} record seen in a pull or a file, as text.",
        columns=raw_columns(fields, pii) + extra + PROVENANCE,
        key=("row_hash",),
        strategy=Strategy.APPEND_NEW,
        files=True,
    )


def quarantine_table(name: str, entity: str, fields: Sequence[str], pii: Iterable[str] = (),
                     extra: tuple[Column, ...] = ()) -> Table:
    """``quarantine_<system>__<entity>s``: rows that failed a critical check, with reasons."""
    return Table(
        name=name,
        description=f"{entity.capitalize()} rows that failed a critical check: raw values, reasons, provenance.",
        columns=raw_columns(fields, pii)
        + extra
        + (Column("reasons", "VARCHAR[]", "Why the row was not loaded: field, value, rule."),)
        + PROVENANCE,
        key=("row_hash",),
        strategy=Strategy.APPEND_NEW,
        stamped=True,
    )


DQ_WARNINGS = Column("dq_warnings", "VARCHAR[]", "Reasons of the warning checks this row failed.")


def updated_at_column(description: str) -> Column:
    """The version column every core table merges on: the source's NgayCapNhat, UTC."""
    return Column("updated_at", "TIMESTAMPTZ", description, source_field="NgayCapNhat", nullable=False,
                  checks=(Check("not_null", Severity.CRITICAL, "last-update time is missing or unreadable"),))


def core_table(name: str, description: str, key: str, suite: str, columns: tuple[Column, ...]) -> Table:
    """``core_<system>__<entity>s``: one row per ``key``, merged so that the newest ``updated_at``
    wins (ties keep the smaller row hash); the loader's warnings and provenance come last."""
    return Table(name=name, description=description, key=(key,), strategy=Strategy.MERGE,
                 version_column="updated_at", suite=suite, columns=columns + (DQ_WARNINGS,) + PROVENANCE,
                 stamped=True)
