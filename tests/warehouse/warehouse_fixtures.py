"""Builders for warehouse tests: a small units seed and core dossier frames from a few fields."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from warehouse.tables import CORE_ONESTOP_DOSSIERS

ROOT = Path(__file__).resolve().parents[2]

UNITS_CSV = """unit_code,name,level,province_code,district_code,valid_from,valid_to,successor_code,aliases
637,Huyện Krông Pa,district,64,637,1990-01-01,2025-06-30,,UBND huyện Krông Pa
24076,Thị trấn Phú Túc,town,64,637,1990-01-01,2025-06-30,,
24079,Xã Ia Rsai,commune,64,637,1990-01-01,2025-06-30,,
24082,Xã Ia Rsươm,commune,64,637,1990-01-01,2025-06-30,,Ia RSươm|IaRsươm
"""


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def dossier(code: str, **fields: Any) -> dict[str, Any]:
    """One core row: sensible defaults, dates given as 'YYYY-MM-DD' text."""
    row: dict[str, Any] = {
        "dossier_code": code,
        "unit_code": "24076",
        "field_name": "Tư pháp",
        "field_code": "TP",
        "procedure_code": "1.001234",
        "channel": 1,
        "status": 10,
        "applicant_name": "Nguyễn Văn A",
        "applicant_id_number": "064123456789",
        "applicant_phone": "0900000000",
        "updated_at": datetime(2023, 1, 1, tzinfo=UTC),
    }
    row.update(fields)
    for name in ("received_date", "due_date", "finished_date", "returned_date"):
        row[name] = _day(row.get(name))
    if "row_hash" not in row:
        row["row_hash"] = hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:16]
    return row


def core_frame(*rows: dict[str, Any]) -> pl.DataFrame:
    """A core frame with the declared schema (columns not given are null)."""
    schema = CORE_ONESTOP_DOSSIERS.polars_schema()
    frame = pl.DataFrame(list(rows), schema_overrides=schema, infer_schema_length=None)
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in schema.items()
        if c != "load_id"
    )


HOLD_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cchc.config import load_settings
    from warehouse.writer import Warehouse
    with Warehouse.open(load_settings(), admin_units_csv=Path(sys.argv[1])):
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold_writer(units_csv: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the writer lock and the private file for a while."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(units_csv), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc
