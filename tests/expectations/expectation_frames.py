"""Hand-built core/raw frame pairs for the validation tests (the transform contract's shape)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from sources.onestop.fields import RAW_FIELDS, SOURCE_COLUMN, SOURCE_ROW_COLUMN
from warehouse.schema import Table
from warehouse.tables import CORE_ONESTOP_DOSSIERS

UTC = dt.UTC


def valid_dossier(i: int = 0) -> dict[str, Any]:
    """A core row that passes every check of CORE_ONESTOP_DOSSIERS."""
    received = dt.datetime(2021, 3, 15, 1, 30, tzinfo=UTC)
    return {
        "dossier_code": f"000.00.12.H21-210315-{i:04d}",
        "procedure_code_raw": "1.001234.000.00.00.H21",
        "procedure_code": "1.001234",
        "procedure_name": "Chứng thực bản sao từ bản chính",
        "field_name": "Chứng thực",
        "service_level": 3,
        "receiving_unit_name": "UBND xã Ia Rsai",
        "unit_code": "24079",
        "unit_code_source": "code",
        "channel": 1,
        "applicant_type": "CongDan",
        "applicant_id_number": "064123456789",
        "submitted_at": received,
        "received_at": received,
        "due_at": received + dt.timedelta(days=5),
        "finished_at": received + dt.timedelta(days=2),
        "received_date": dt.date(2021, 3, 15),
        "due_date": dt.date(2021, 3, 20),
        "finished_date": dt.date(2021, 3, 17),
        "status": 9,
        "digitisation": 1,
        "rating": "HaiLong",
        "updated_at": received + dt.timedelta(days=2),
        "timeliness": "before_due",
        "source": "test.xlsx",
        "source_row": i + 2,
        "row_hash": f"hash-{i}",
    }


def _raw_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone(dt.timedelta(hours=7))).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def dossier_frames(
    changes: list[dict[str, Any]], raw_changes: list[dict[str, Any]] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(core, raw): one row per entry of ``changes`` applied to a valid dossier.

    The raw frame holds each core value as the text an export would show, overridden by
    ``raw_changes`` (raw field -> text) where the raw text is what could not be parsed.
    """
    table = CORE_ONESTOP_DOSSIERS
    schema = {n: t for n, t in table.polars_schema().items() if n not in ("load_id", "dq_warnings")}
    rows = [{**valid_dossier(i), **c} for i, c in enumerate(changes)]
    core = pl.DataFrame(rows, schema=schema)
    raw_rows = []
    for i, row in enumerate(rows):
        raw_row: dict[str, Any] = dict.fromkeys(RAW_FIELDS)
        for col in table.columns:
            if col.source_field and col.name in row and raw_row[col.source_field] is None:
                raw_row[col.source_field] = _raw_text(row[col.name])
        raw_row["MaTTHC"] = row["procedure_code_raw"]
        raw_row.update((raw_changes or [{}] * len(rows))[i] if raw_changes else {})
        raw_row[SOURCE_COLUMN] = "test.xlsx"
        raw_row[SOURCE_ROW_COLUMN] = i + 2
        raw_rows.append(raw_row)
    raw = pl.DataFrame(
        raw_rows,
        schema={
            **dict.fromkeys(RAW_FIELDS, pl.String),
            SOURCE_COLUMN: pl.String,
            SOURCE_ROW_COLUMN: pl.Int64,
        },
    )
    return core, raw


def frames_for(table: Table, rows: list[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(core, raw) for a small test table: raw fields hold the core values as text."""
    core = pl.DataFrame(rows, schema=table.polars_schema())
    raw = core.select(
        pl.col(c.name).cast(pl.String).alias(c.source_field)
        for c in table.columns
        if c.source_field
    )
    return core, raw
