"""The layered tables every source has, declared by one call each.

A source system brings three tables that differ only in their raw fields: ``raw_<system>__<x>``
(every distinct version seen, as text), ``quarantine_<system>__<x>`` (rows that failed a critical
check, with reasons) and its ``core_<system>__<x>`` (declared by hand: its columns are the
source's meaning). The first two are derived here from the source's raw field list, so a new
source is one call away from its raw and quarantine tables, not one copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from warehouse.schema import Column, Strategy, Table

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
    )
