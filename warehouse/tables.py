"""Every warehouse table, declared once (see ``warehouse.schema``).

Source tables are declared in each source package (``sources/<system>/tables.py``) and
collected here. Layers follow PUDL's naming: ``raw_<source>__<thing>`` keeps every version seen as text,
``core_<source>__<thing>`` one typed row per entity in its current state,
``quarantine_<source>__<thing>`` rows that cannot be trusted with their reasons, ``dim_*``
reference data, ``etl_*`` / ``dq_*`` the audit trail. Views (``out_*``) live in
``warehouse/views.sql``.
"""

from __future__ import annotations

from sources.eoffice.tables import (  # noqa: F401
    CORE_EOFFICE_DOCUMENTS,
    QUARANTINE_EOFFICE_DOCUMENTS,
    RAW_EOFFICE_DOCUMENT_VERSIONS,
)
from sources.eoffice.tables import TABLES as EOFFICE_TABLES
from sources.onestop.tables import (  # noqa: F401  (re-exported: the names callers use)
    CORE_ONESTOP_DOSSIERS,
    QUARANTINE_ONESTOP_DOSSIERS,
    RAW_ONESTOP_DOSSIER_VERSIONS,
)
from sources.onestop.tables import TABLES as ONESTOP_TABLES
from warehouse.layers import PROVENANCE  # noqa: F401
from warehouse.procedures import DIM_PROCEDURE
from warehouse.reconcile_store import DQ_RECONCILIATION
from warehouse.schema import Column, Strategy, Table
from warehouse.work_calendar import DIM_CALENDAR

DIM_ADMIN_UNIT = Table(
    name="dim_admin_unit",
    description=(
        "Administrative units of the configured scope, before and after the 1 July 2025 reform, "
        "with validity, successor and name variants. A code reused by a new commune is a second "
        "row: a unit is (unit_code, valid_from)."
    ),
    key=("unit_code", "valid_from"),
    strategy=Strategy.REPLACE,
    columns=(
        Column("unit_code", "VARCHAR", "Statistics-office code (text: leading zeros matter).", nullable=False),
        Column("name", "VARCHAR", "Official name, NFC, e.g. 'Xã Ia Rsươm'.", nullable=False),
        Column("level", "VARCHAR", "province, district, commune, ward or town."),
        Column("province_code", "VARCHAR", "Statistics-office code of the province."),
        Column("district_code", "VARCHAR", "Statistics-office code of the district (null after 2025)."),
        Column("valid_from", "DATE", "First day the unit existed in this form (with unit_code, the key).",
               nullable=False),
        Column("valid_to", "DATE", "Last day the unit existed in this form (null: still exists)."),
        Column("successor_code", "VARCHAR", "Unit it merged into on 1 July 2025 (crosswalk; the row of that code valid from the next day)."),
        Column("aliases", "VARCHAR[]", "Other spellings seen in exports (Ia Dreh, IaRsươm, …)."),
    ),
)

ETL_LOADS = Table(
    name="etl_loads",
    description="One row per load: what came in, what happened to every row, how it ended.",
    key=("load_id",),
    strategy=Strategy.MERGE,
    columns=(
        Column("load_id", "VARCHAR", "Unique id of the load.", nullable=False),
        Column("source_system", "VARCHAR", "onestop or eoffice."),
        Column("kind", "VARCHAR", "pull or file."),
        Column("source", "VARCHAR", "The file path, or the API window pulled."),
        Column("file_sha256", "VARCHAR", "Content hash of a loaded file (same file twice is recognised)."),
        Column("window_from", "TIMESTAMPTZ", "Pull: updated_since (inclusive)."),
        Column("window_to", "TIMESTAMPTZ", "Pull: updated_until (exclusive)."),
        Column("started_at", "TIMESTAMPTZ", "When the load started."),
        Column("finished_at", "TIMESTAMPTZ", "When the load ended."),
        Column("status", "VARCHAR", "running, succeeded, failed, rejected, interrupted (the process died)."),
        Column("rows_in", "BIGINT", "Input rows (items pulled or data rows in the file)."),
        Column("rows_duplicate", "BIGINT", "Exact duplicates of another row of the same input."),
        Column("rows_loaded", "BIGINT", "Rows that passed the critical checks."),
        Column("rows_quarantined", "BIGINT", "Rows moved to quarantine."),
        Column("rows_warned", "BIGINT", "Loaded rows with at least one warning."),
        Column("rows_new_versions", "BIGINT", "Loaded rows not seen before (new raw versions)."),
        Column("core_inserted", "BIGINT", "Entities added to the core table."),
        Column("core_updated", "BIGINT", "Entities whose current state changed."),
        Column("message", "VARCHAR", "Why a load failed or was rejected; notes on conversions."),
    ),
)

ETL_WATERMARKS = Table(
    name="etl_watermarks",
    description="How far each stream has been pulled (exclusive upper bound of the last window).",
    key=("stream",),
    strategy=Strategy.MERGE,
    columns=(
        Column("stream", "VARCHAR", "e.g. onestop.dossiers.", nullable=False),
        Column("watermark", "TIMESTAMPTZ", "Next pull starts here.", nullable=False),
        Column("load_id", "VARCHAR", "The load that moved it."),
        Column("updated_at", "TIMESTAMPTZ", "When it moved."),
    ),
)

ETL_SEEDS = Table(
    name="etl_seeds",
    description=(
        "The content hash of each seed table as last written (dim_admin_unit, dim_calendar, "
        "dim_procedure): the writer's open rewrites a seed only when its content changed, so "
        "an open writes nothing to the lake's storage (docs/distributed.md)."
    ),
    key=("table_name",),
    strategy=Strategy.MERGE,
    columns=(
        Column("table_name", "VARCHAR", "The seed table.", nullable=False),
        Column("fingerprint", "VARCHAR", "SHA-256 of its content as written.", nullable=False),
        Column("written_at", "TIMESTAMPTZ", "When it was last written."),
    ),
)

ETL_RAW_FILES = Table(
    name="etl_raw_files",
    description=(
        "The Parquet files that hold the raw layer's rows (duckdb backend, "
        "warehouse/raw_files.py): a raw-versions table is a view over the files listed here, "
        "so a file counts from the commit of its row. Paths are relative to data/raw/<table>/."
    ),
    key=("table_name", "file"),
    strategy=Strategy.APPEND,
    stamped=True,  # rows of a load only (warehouse.snapshot_spare)
    columns=(
        Column("table_name", "VARCHAR", "The raw-versions table the file belongs to.", nullable=False),
        Column("file", "VARCHAR", "The file's name in data/raw/<table_name>/.", nullable=False),
        Column("load_id", "VARCHAR", "The load that wrote every row of the file."),
        Column("rows", "BIGINT", "Rows in the file."),
        Column("columns", "VARCHAR[]", "The columns the file holds (a column declared later "
               "reads as NULL in older files)."),
        Column("written_at", "TIMESTAMPTZ", "When the file was written."),
    ),
)

DQ_RESULTS = Table(
    name="dq_results",
    description="One row per expectation per load: how many rows it examined and failed.",
    strategy=Strategy.APPEND,
    stamped=True,  # rows of a load only (warehouse.snapshot_spare)
    columns=(
        Column("load_id", "VARCHAR", "The load validated.", nullable=False),
        Column("table_name", "VARCHAR", "Table whose suite ran."),
        Column("suite", "VARCHAR", "GX suite name."),
        Column("expectation", "VARCHAR", "GX expectation type."),
        Column("column_name", "VARCHAR", "Column checked."),
        Column("severity", "VARCHAR", "critical or warning."),
        Column("reason", "VARCHAR", "The check's reason sentence."),
        Column("success", "BOOLEAN", "True when no row failed."),
        Column("element_count", "BIGINT", "Rows examined."),
        Column("unexpected_count", "BIGINT", "Rows that failed."),
        Column("validated_at", "TIMESTAMPTZ", "When."),
    ),
)

DQ_ALERTS = Table(
    name="dq_alerts",
    description=(
        "Alerts: one row per problem episode, from first raised to resolved (warehouse/alerts.py). "
        "A check that finds the same problem again refreshes the open row; one that no longer "
        "finds it resolves it."
    ),
    key=("alert_id",),
    strategy=Strategy.MERGE,
    columns=(
        Column("alert_id", "VARCHAR", "Unique id (UUIDv7).", nullable=False),
        Column("raised_at", "TIMESTAMPTZ", "When the problem was first raised."),
        Column("kind", "VARCHAR", "gate_failed, quarantine_spike, load_failed, pull_failed, "
               "stale_source, flow_failed, reconciliation_difference, secret_leak, "
               "moved_due_date, row_warnings."),
        Column("severity", "VARCHAR", "critical, warning or info (info is recorded, never sent)."),
        Column("source_system", "VARCHAR", "onestop or eoffice (null: not tied to one system)."),
        Column("load_id", "VARCHAR", "The load concerned, if any (the latest one seen)."),
        Column("message", "VARCHAR", "What an official reads, in Vietnamese."),
        Column("message_en", "VARCHAR", "The same in English."),
        Column("scope", "VARCHAR", "What the check looked at: pull, file, loads, freshness, a "
               "flow name, a file name or published:<from>..<to>."),
        Column("finding_key", "VARCHAR", "What is wrong inside the check, e.g. missing_columns."),
        Column("fingerprint", "VARCHAR", "Hash of kind, source_system, scope and finding_key: "
               "the identity of the problem across episodes."),
        Column("status", "VARCHAR", "open, acknowledged or resolved."),
        Column("last_seen_at", "TIMESTAMPTZ", "When a check last found the problem."),
        Column("seen_count", "BIGINT", "How many checks found it in this episode."),
        Column("resolved_at", "TIMESTAMPTZ", "When a check no longer found it."),
        Column("acknowledged_at", "TIMESTAMPTZ", "When a person acknowledged it (no reminders)."),
        Column("acknowledged_by", "VARCHAR", "Who acknowledged it."),
        Column("period_from", "DATE", "First day of the period concerned, if any."),
        Column("period_to", "DATE", "Last day of the period concerned, if any."),
        Column("counts", "VARCHAR", "The figures the message quotes, as a JSON object."),
    ),
)

DQ_ALERT_DELIVERIES = Table(
    name="dq_alert_deliveries",
    description="One row per alert, event (opened, reminder, resolved) and channel: sent or not.",
    key=("delivery_id",),
    strategy=Strategy.MERGE,
    columns=(
        Column("delivery_id", "VARCHAR", "Unique id.", nullable=False),
        Column("alert_id", "VARCHAR", "The alert (dq_alerts.alert_id).", nullable=False),
        Column("event", "VARCHAR", "opened, reminder or resolved."),
        Column("channel", "VARCHAR", "The channel: URL scheme and a hash of the configured URL "
               "(never the URL: it may hold a secret)."),
        Column("status", "VARCHAR", "pending, sending (claimed by a sender), sent or failed "
               "(given up, or the channel is no longer configured)."),
        Column("attempts", "BIGINT", "Send attempts so far."),
        Column("created_at", "TIMESTAMPTZ", "When it was queued."),
        Column("next_attempt_at", "TIMESTAMPTZ", "Not sent before this (backoff after a failure)."),
        Column("claimed_at", "TIMESTAMPTZ", "When a sender claimed it."),
        Column("sent_at", "TIMESTAMPTZ", "When the channel accepted it."),
        Column("last_error", "VARCHAR", "Why the last attempt failed (secrets masked)."),
    ),
)

ALL_TABLES: tuple[Table, ...] = (
    *ONESTOP_TABLES,
    *EOFFICE_TABLES,
    DIM_ADMIN_UNIT,
    DIM_CALENDAR,
    DIM_PROCEDURE,
    ETL_LOADS,
    ETL_WATERMARKS,
    ETL_SEEDS,
    ETL_RAW_FILES,
    DQ_RESULTS,
    DQ_ALERTS,
    DQ_ALERT_DELIVERIES,
    DQ_RECONCILIATION,
)


def table(name: str) -> Table:
    """The declaration of a table by name."""
    for t in ALL_TABLES:
        if t.name == name:
            return t
    raise KeyError(name)
