"""A small warehouse for the dashboard tests, written through the warehouse writer in about a
second (no simulator, no Great Expectations), then published by ``cchc.pipeline.publish``, which
draws the page.

Eighteen months of synthetic dossiers and documents for the seeded units (Krông Pa and its
communes), ending today, with open dossiers past their due day, a load of each system, a
quarantined row and open alerts. Text that a careless page would turn into markup, a script or
a link (:data:`HOSTILE`) sits in a procedure name, a quarantine reason and an alert message.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from cchc.config import LOCAL_TZ, Settings, load_settings

TODAY = datetime.now(ZoneInfo(LOCAL_TZ)).date()
MONTHS = 18
HOSTILE = ('<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'
           '</td></tr></table><a href="javascript:alert(1)">x</a>')
HOSTILE_CODE = "HS-XSS-1"


def settings_for(root: Path) -> Settings:
    """Settings whose data folder is ``root/data`` (no configuration file, no environment)."""
    return load_settings(root / "no-config.toml", env={"CCHC_DATA_DIR": str(root / "data")})


def table_frame(table, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows as a frame of ``table``'s columns (those not given are null), without load_id."""
    schema = {c: t for c, t in table.polars_schema().items() if c != "load_id"}
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.select(
        pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
        for c, t in schema.items()
    )


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _month_days(months: int) -> list[date]:
    """Every day of the last ``months`` calendar months up to today."""
    first = TODAY.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return [first + timedelta(days=i) for i in range((TODAY - first).days + 1)]


def dossiers(units: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """About 2,500 dossiers: mostly on time, a few online, the recent ones still open (some
    past their due day, one waiting for the applicant), one with a hostile procedure name."""
    rows = []
    days = _month_days(MONTHS)
    for n in range(2500):
        unit = units[n % len(units)]
        received = rng.choice(days)
        due = received + timedelta(days=rng.randint(7, 15))
        close = received + timedelta(days=rng.randint(1, 7) if rng.random() < 0.97 else 25)
        finished = close <= TODAY - timedelta(days=2) and rng.random() < 0.995
        rows.append({
            "dossier_code": f"HS-{n:05d}", "unit_code": unit, "procedure_code": "1.000001",
            "procedure_name": "Chứng thực bản sao từ bản chính", "field_name": "Chứng thực",
            "service_level": rng.choice([2, 3, 4]), "channel": 2 if rng.random() < 0.04 else 1,
            "status": 10 if finished else 4, "received_date": received, "due_date": due,
            "finished_date": close if finished else None, "returned_date": close if finished else None,
            "digitisation": 1 if rng.random() < 0.6 else 0, "electronic_result": rng.random() < 0.4,
            "paid_online": rng.random() < 0.1,
            "rating": rng.choice(["RatHaiLong", "HaiLong", "HaiLong", "KhongHaiLong", None]),
            "updated_at": datetime(received.year, received.month, received.day, tzinfo=UTC),
        })  # fmt: skip
    late = TODAY - timedelta(days=40)
    for code, name, status in ((HOSTILE_CODE, HOSTILE, 4), ("HS-WAITING-2", "Đăng ký khai sinh", 5)):
        rows.append({
            "dossier_code": code, "unit_code": units[1], "procedure_code": "1.000002",
            "procedure_name": name, "field_name": "Hộ tịch", "channel": 1, "status": status,
            "received_date": late, "due_date": late + timedelta(days=5),
            "updated_at": datetime(late.year, late.month, late.day, tzinfo=UTC),
        })  # fmt: skip
    for row in rows:
        row["row_hash"] = _hash(*row.values())
    return rows


def documents(units: list[str], rng: random.Random) -> list[dict[str, Any]]:
    """About 800 incoming and outgoing documents, most exchanged electronically."""
    rows = []
    days = _month_days(MONTHS)
    for n in range(800):
        day = rng.choice(days)
        incoming = n % 2 == 0
        rows.append({
            "document_id": f"VB-{n:05d}", "direction": "DEN" if incoming else "DI",
            "unit_code": units[n % len(units)], "register_year": day.year,
            "incoming_number": n if incoming else None, "outgoing_number": None if incoming else n,
            "issued_date": day if not incoming else day - timedelta(days=2),
            "received_date": day if incoming else None,
            "deadline_date": day + timedelta(days=10) if incoming else None,
            "completed_date": day + timedelta(days=rng.randint(1, 12)) if incoming else None,
            "transport": "DienTu" if rng.random() < 0.85 else "Giay",
            "digitally_signed": (not incoming) and rng.random() < 0.8, "secrecy": "Thuong",
            "status": "HoanThanh",
            "updated_at": datetime(day.year, day.month, day.day, tzinfo=UTC),
        })  # fmt: skip
    for row in rows:
        row["row_hash"] = _hash(*row.values())
    return rows


def build_warehouse(root: Path, *, empty: bool = False) -> Settings:
    """Write the synthetic warehouse (or, with ``empty``, only the schema and the units) and
    publish it through the pipeline, which draws the dashboard; returns the settings."""
    from cchc import pipeline
    from sources.registry import source
    from warehouse.writer import Warehouse

    settings = settings_for(root)
    rng = random.Random(7)
    with Warehouse.open(settings) as wh:
        units = [u for u in wh.units()["unit_code"].to_list()
                 if u in {"637", *(str(c) for c in range(24076, 24116, 3))}]
        if not empty:
            for system, rows in (("onestop", dossiers(units, rng)),
                                 ("eoffice", documents(units, rng))):
                spec = source(system)
                load_id = wh.begin_load(system, "file", f"/srv/cchc/inbox/{system}-export.csv")
                wh.write(spec.core_table, table_frame(spec.core_table, rows), load_id)
                wh.finish_load(load_id, "succeeded", rows_in=len(rows) + 1, rows_duplicate=0,
                               rows_loaded=len(rows), rows_quarantined=1)
            quarantined = table_frame(source("onestop").quarantine_table, [{
                "row_hash": "q-1", "MaHoSo": "HS-BAD-1",
                "reasons": [f"TenDonVi='{HOSTILE}': receiving unit not recognised"]}])
            wh.write(source("onestop").quarantine_table, quarantined, load_id)
            wh.raise_alert("quarantine", "warning", "onestop", f"1 row quarantined: {HOSTILE}",
                           load_id=load_id)
            wh.raise_alert("stale_source", "critical", "eoffice", "Hệ thống quản lý văn bản "
                           "chưa có dữ liệu mới trong 30 giờ")
    pipeline.publish(settings)
    return settings
