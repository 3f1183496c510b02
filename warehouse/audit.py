"""The audit trail: loads, watermarks, validation results, alerts.

These functions take a connection and do one small write each. The ``Warehouse`` calls the
load, result and alert writers on a cursor of its own (a separate DuckDB transaction), so that a
failed load is still recorded after its data transaction rolled back; watermarks move on the
data connection, inside the load's transaction, so they advance only with the data.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from cchc.config import utc_now
from warehouse.ids import new_id
from warehouse.personal import mask_text
from warehouse.strategies import write_frame
from warehouse.tables import DQ_ALERTS, DQ_RESULTS, ETL_LOADS

LOAD_STATUSES = ("running", "succeeded", "failed", "rejected", "interrupted", "recovered", "undone")
# A load in one of these may have committed some of its parts and not the others: nothing is
# published until the next writer has finished it (recovered) or removed its rows (undone).
UNFINISHED_STATUSES = ("running", "interrupted")
# Loads whose data is in the warehouse whole (the file counts as loaded, the source as fresh).
LOADED_STATUSES = ("succeeded", "recovered")
# The counters finish_load accepts: every BIGINT column of etl_loads.
LOAD_COUNTERS = tuple(c.name for c in ETL_LOADS.columns if c.type == "BIGINT")


def begin_load(
    con: duckdb.DuckDBPyConnection,
    source_system: str,
    kind: str,
    source: str,
    file_sha256: str | None = None,
    window_from: datetime | None = None,
    window_to: datetime | None = None,
) -> str:
    """Record a load as running and return its id (time-sortable UUIDv7)."""
    load_id = new_id()
    con.execute(
        "INSERT INTO etl_loads (load_id, source_system, kind, source, file_sha256, "
        "window_from, window_to, started_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running')",
        [load_id, source_system, kind, source, file_sha256, window_from, window_to, utc_now()],
    )
    return load_id


def finish_load(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    status: str,
    message: str | None = None,
    **counts: int,
) -> None:
    """Close a load: its status, its row counts (etl_loads columns) and an optional message."""
    if status not in LOAD_STATUSES:
        raise ValueError(f"unknown load status {status!r}; expected one of {LOAD_STATUSES}")
    unknown = sorted(set(counts) - set(LOAD_COUNTERS))
    if unknown:
        raise TypeError(f"finish_load: unknown counters {unknown}; known: {LOAD_COUNTERS}")
    sets = ["status = ?", "finished_at = ?", "message = coalesce(?, message)"]
    params: list[Any] = [status, utc_now(), mask_text(message)]  # the main file is published
    for name, value in counts.items():
        sets.append(f'"{name}" = ?')
        params.append(int(value))
    updated = con.execute(
        f"UPDATE etl_loads SET {', '.join(sets)} WHERE load_id = ?", [*params, load_id]
    ).fetchone()
    if not updated or updated[0] != 1:
        raise KeyError(f"no load {load_id!r} in etl_loads")


def load_for_file(con: duckdb.DuckDBPyConnection, sha256: str) -> str | None:
    """The newest succeeded load of a file with this content, if any."""
    row = con.execute(
        "SELECT load_id FROM etl_loads WHERE file_sha256 = ? "
        "AND status IN ('succeeded', 'recovered') "
        "ORDER BY started_at DESC LIMIT 1",
        [sha256],
    ).fetchone()
    return row[0] if row else None


def unfinished_loads(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """``(load_id, source_system, status)`` of loads that may be committed only in part."""
    return con.execute(
        "SELECT load_id, source_system, status FROM etl_loads WHERE status IN "
        "('running', 'interrupted') ORDER BY started_at"
    ).fetchall()


def last_success(con: duckdb.DuckDBPyConnection, source_system: str) -> datetime | None:
    """When the newest succeeded load of a source system finished."""
    row = con.execute(
        "SELECT max(finished_at) FROM etl_loads WHERE source_system = ? "
        "AND status IN ('succeeded', 'recovered')",
        [source_system],
    ).fetchone()
    return row[0] if row else None


def get_watermark(con: duckdb.DuckDBPyConnection, stream: str) -> datetime | None:
    row = con.execute("SELECT watermark FROM etl_watermarks WHERE stream = ?", [stream]).fetchone()
    return row[0] if row else None


def set_watermark(
    con: duckdb.DuckDBPyConnection, stream: str, value: datetime, load_id: str | None
) -> None:
    """Move a stream's watermark (an upsert on the small keyed table). MERGE rather than
    ON CONFLICT: a DuckLake table has no key for ON CONFLICT to find."""
    con.execute(
        "MERGE INTO etl_watermarks t USING (SELECT ?::VARCHAR AS stream, ?::TIMESTAMPTZ AS "
        "watermark, ?::VARCHAR AS load_id, ?::TIMESTAMPTZ AS updated_at) s USING (stream) "
        "WHEN MATCHED THEN UPDATE SET watermark = s.watermark, load_id = s.load_id, "
        "updated_at = s.updated_at WHEN NOT MATCHED THEN INSERT BY NAME",
        [stream, value, load_id, utc_now()],
    )


def seed_fingerprint(table_name: str, frame: pl.DataFrame) -> str:
    """SHA-256 of a seed's columns and rows (NDJSON text: small tables, stable across runs)."""
    digest = hashlib.sha256(f"{table_name}\n{frame.schema}\n".encode())
    digest.update(frame.write_ndjson().encode())
    return digest.hexdigest()


def seed_fingerprint_of(con: duckdb.DuckDBPyConnection, table_name: str) -> str | None:
    row = con.execute("SELECT fingerprint FROM etl_seeds WHERE table_name = ?",
                      [table_name]).fetchone()
    return row[0] if row else None


def set_seed_fingerprint(con: duckdb.DuckDBPyConnection, table_name: str,
                         fingerprint: str) -> None:
    """Delete and insert rather than MERGE: DuckLake keeps a small INSERT in its catalog
    (inlined), where a MERGE writes a Parquet file, which an open would then have to read."""
    con.execute("DELETE FROM etl_seeds WHERE table_name = ?", [table_name])
    con.execute("INSERT INTO etl_seeds VALUES (?, ?, ?)", [table_name, fingerprint, utc_now()])


def record_dq_results(
    con: duckdb.DuckDBPyConnection, load_id: str, rows: list[dict[str, Any]]
) -> int:
    """Append one dq_results row per expectation result; returns how many."""
    if not rows:
        return 0
    now = utc_now()
    frame = pl.DataFrame(
        [{"load_id": load_id, "validated_at": now, **r} for r in rows],
        schema_overrides=DQ_RESULTS.polars_schema(),
        infer_schema_length=None,
    )
    return write_frame(con, DQ_RESULTS, frame).inserted


def raise_alert(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    severity: str,
    source_system: str | None,
    message: str,
    load_id: str | None = None,
) -> str:
    """Record a one-off alert (open, never sent nor resolved) and return its id. Checks that
    run again use ``warehouse.alerts.record_check``, which opens, refreshes, resolves and
    queues deliveries."""
    alert_id, now = new_id(), utc_now()
    row = {"alert_id": alert_id, "raised_at": now, "kind": kind, "severity": severity,
           "source_system": source_system, "load_id": load_id, "message": message,
           "scope": "one-off", "finding_key": alert_id, "fingerprint": alert_id,
           "status": "open", "last_seen_at": now, "seen_count": 1}
    frame = pl.DataFrame([{c: row.get(c) for c in DQ_ALERTS.column_names}],
                         schema=DQ_ALERTS.polars_schema())
    write_frame(con, DQ_ALERTS, frame)
    return alert_id
