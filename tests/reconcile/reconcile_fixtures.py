"""Small builders for reconciliation tests: form-06 frames from counts, and a tiny warehouse."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from transforms.reconcile import COUNT_COLUMNS, TOTAL_KEY
from warehouse.ddl import ensure_schema
from warehouse.seeds import load_admin_units
from warehouse.strategies import write_frame
from warehouse.tables import CORE_ONESTOP_DOSSIERS, DIM_ADMIN_UNIT
from warehouse.views import create_views

UNITS_CSV = """unit_code,name,level,province_code,district_code,valid_from,valid_to,successor_code,aliases
637,Huyện Krông Pa,district,64,637,1990-01-01,2025-06-30,,Krông Pa
24076,Thị trấn Phú Túc,town,64,637,1990-01-01,2025-06-30,,Phú Túc
24079,Xã Ia Rsai,commune,64,637,1990-01-01,2025-06-30,,Ia RSai
24082,Xã Ia Rsươm,commune,64,637,1990-01-01,2025-06-30,,Ia RSươm|IaRsươm
"""


def counts(**given: int) -> dict[str, int]:
    """c3…c13, zero unless given; c3, c7 and c11 follow from their parts when not given."""
    c = {k: 0 for k in COUNT_COLUMNS} | given
    c.setdefault("c7", 0)
    if "c7" not in given:
        c["c7"] = c["c8"] + c["c9"] + c["c10"]
    if "c11" not in given:
        c["c11"] = c["c12"] + c["c13"]
    if "c3" not in given:
        c["c3"] = c["c4"] + c["c5"] + c["c6"]
    return c


def ours_frame(rows: dict[str, dict[str, int]], extras: dict[str, dict[str, int]] | None = None,
               ) -> pl.DataFrame:  # fmt: skip
    """A form06()-shaped frame: one row per unit code (name = code), then the total."""
    extras = extras or {}
    out = []
    for i, (code, c) in enumerate(rows.items(), start=1):
        e = {"no_due_date": 0, "open_no_due_date": 0, "withdrawn": 0} | extras.get(code, {})
        out.append({"c1": i, "code": code, "c2": f"Unit {code}", "level": "commune", **c, **e})
    total = {k: sum(r[k] for r in out) for k in (*COUNT_COLUMNS, "no_due_date",
                                                   "open_no_due_date", "withdrawn")}
    total_extra = extras.get(TOTAL_KEY, {})
    out.append({"c1": None, "code": None, "c2": TOTAL_KEY, "level": None,
                **(total | total_extra)})
    return pl.DataFrame(out, schema_overrides={"c1": pl.Int64, "code": pl.String,
                                                "level": pl.String})


def theirs_frame(rows: dict[str, dict[str, int]]) -> pl.DataFrame:
    """A keyed form side (as match_form_rows leaves it): key = unit code or TOTAL_KEY; the
    total is the sum of the rows unless given."""
    if TOTAL_KEY not in rows:
        rows = rows | {TOTAL_KEY: {c: sum(r[c] for r in rows.values()) for c in COUNT_COLUMNS}}
    out = [{"key": k, "label": k, "source_row": i, "is_total": k == TOTAL_KEY, "code": None, **c}
           for i, (k, c) in enumerate(rows.items(), start=1)]
    return pl.DataFrame(out, schema_overrides={"code": pl.String})


def dossier(code: str, **fields: Any) -> dict[str, Any]:
    """One core row: defaults for a finished counter dossier, dates as 'YYYY-MM-DD'."""
    row: dict[str, Any] = {
        "dossier_code": code, "unit_code": "24076", "field_name": "Tư pháp", "field_code": "TP",
        "channel": 1, "status": 10, "updated_at": datetime(2023, 1, 1, tzinfo=UTC),
    }  # fmt: skip
    row.update(fields)
    for name in ("received_date", "due_date", "finished_date", "returned_date"):
        v = row.get(name)
        row[name] = date.fromisoformat(v) if isinstance(v, str) else v
    row["row_hash"] = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:16]
    return row


def core_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    schema = CORE_ONESTOP_DOSSIERS.polars_schema()
    frame = pl.DataFrame(list(rows), schema_overrides=schema, infer_schema_length=None)
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in schema.items() if c != "load_id"
    )  # fmt: skip


def small_warehouse(tmp: Path, *rows: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the four-unit seed and the given core rows."""
    seed = tmp / "units.csv"
    seed.write_text(UNITS_CSV, encoding="utf-8")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    write_frame(con, DIM_ADMIN_UNIT, load_admin_units(seed))
    write_frame(con, CORE_ONESTOP_DOSSIERS, core_frame(*rows), "L1")
    create_views(con)
    return con
