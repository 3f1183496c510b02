"""Settings for every cchc process, read once from one TOML file plus environment variables.

Every setting has a default that works on a fresh machine: the simulator on loopback as the
source, all state under ./data. A TOML file (``./cchc.toml`` or the path in ``CCHC_CONFIG``)
overrides the defaults; environment variables override the file, and are the only place for
secrets (``CCHC_<SYSTEM>_TOKEN``, ``CCHC_HOOK_SECRET``).

Each source system has its own section ``[sources.<system>]`` (``onestop``, ``eoffice``). The
older single ``[source]`` section still configures the one-stop system.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

LOCAL_TZ = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class SourceSettings:
    """Where one system's pull API is and how patiently to talk to it."""

    enabled: bool = True  # pulled by `cchc run` and the nightly schedule
    base_url: str = "http://127.0.0.1:8765"
    token: str = "demo-token"
    page_size: int = 1000
    timeout_s: float = 30.0
    max_retries: int = 6  # 429/5xx/timeouts: the provincial systems are slow, be patient
    backoff_s: float = 0.5
    # Connection refused / unknown host: nothing listens, waiting minutes will not help. A pull
    # checks the address first and fails after this many retries (0.5 s, 1 s, ...) instead.
    connect_retries: int = 2
    # First watermark for a warehouse that has never pulled: everything updated since then.
    initial_since: str = "2020-01-01T00:00:00Z"


@dataclass(frozen=True)
class SimulatorSettings:
    """The bundled simulator of the provincial systems (docs/source-systems.md §10)."""

    host: str = "127.0.0.1"
    port: int = 8765
    scenario: str = "krongpa-2021-2022"
    seed: int = 2022
    token: str = "demo-token"


@dataclass(frozen=True)
class ScopeSettings:
    """The administrative scope this installation reports on (statistics-office codes).

    A province and the districts or communes within it: ``district_code`` and ``units`` (more
    district or commune codes; none at all: the whole province). Codes may be named before or
    after the 1 July 2025 reform; the scope follows its units across it
    (``warehouse.admin_units``, docs/figures.md §2–§3).
    """

    province_code: str = "64"
    district_code: str = "637"
    units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # TOML gives a list (or one code as text): kept as a tuple of text codes.
        units = (self.units,) if isinstance(self.units, str | int) else self.units
        object.__setattr__(self, "units", tuple(str(u).strip() for u in units if str(u).strip()))
        object.__setattr__(self, "province_code", str(self.province_code or "").strip())
        object.__setattr__(self, "district_code", str(self.district_code or "").strip())

    @property
    def unit_codes(self) -> tuple[str, ...]:
        """Every district or commune code named: ``district_code`` first, then ``units``."""
        return tuple(dict.fromkeys(c for c in (self.district_code, *self.units) if c))


@dataclass(frozen=True)
class ServiceSettings:
    """The long-running service: schedules, receivers, alerts."""

    nightly_cron: str = "0 2 * * *"
    timezone: str = LOCAL_TZ
    hook_host: str = "127.0.0.1"
    hook_port: int = 8766
    hook_secret: str = "change-me"
    hook_max_bytes: int = 64 * 1024
    stale_after_hours: float = 26.0
    prefect_api_url: str | None = None  # an existing Prefect server; None: cchc starts its own
    prefect_port: int = 4200
    # Where the server cchc serve starts listens: loopback in the embedded default; the
    # machine's LAN address when workers on other machines must reach it.
    prefect_host: str = "127.0.0.1"
    # The distributed set-up (docs/distributed.md): the server's database in PostgreSQL
    # (postgresql+asyncpg://...; None: Prefect's SQLite under the data folder) and a process
    # work pool the deployments go to (None: ``cchc serve`` runs them itself).
    prefect_database_url: str | None = None
    work_pool: str | None = None
    # The writer slot's lease: a killed holder's slot is given back this long after its last
    # renewal (the renewals come well within it). Short leases hand a dead worker's slot over
    # sooner; each renewal is one API call. Prefect's server takes 60 s at least.
    writer_lease_s: float = 300.0
    # Pool mode: flow runs send a heartbeat this often (Prefect's minimum is 30 s); a run whose
    # heartbeats stop for ``crashed_after_s`` is marked Crashed by an automation on the server,
    # and a load-scope run then submits its work item again (docs/distributed.md).
    heartbeat_s: int = 30
    crashed_after_s: float = 90.0


SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go (Apprise URLs, docs/alerts.md) and how often an open one is repeated.

    URLs may hold ``${VAR}`` placeholders, expanded from the environment only when a message
    is sent, so the secrets they need (SMTP password, bot token) never sit in cchc.toml; the
    environment variable ``CCHC_ALERT_URLS`` (separated by spaces or commas) replaces ``urls``.
    """

    urls: tuple[str, ...] = ()
    language: str = "vi"  # vi | en
    remind_every_hours: float = 24.0  # an open, unacknowledged alert is sent again; 0 = never
    min_severity: str = "warning"  # warning | critical (info is never sent)
    send_timeout_s: float = 30.0
    deliver_every_s: float = 300.0  # `cchc serve` sends what is pending this often

    def __post_init__(self) -> None:
        urls = (self.urls,) if isinstance(self.urls, str) else tuple(self.urls)
        object.__setattr__(self, "urls", tuple(u.strip() for u in urls if u.strip()))
        if self.language not in ("vi", "en"):
            raise ValueError(f"[alerts] language must be 'vi' or 'en', not {self.language!r}")
        if self.min_severity not in ("warning", "critical"):
            raise ValueError("[alerts] min_severity must be 'warning' or 'critical', "
                             f"not {self.min_severity!r}")

    def sends(self, severity: str) -> bool:
        """Whether alerts of this severity reach people (info never does)."""
        rank = SEVERITY_RANK.get(severity, 0)
        return rank > 0 and rank >= SEVERITY_RANK[self.min_severity]

    def channels(self) -> dict[str, str]:
        """Channel id -> configured URL (unexpanded). The id (scheme and a hash of the URL as
        written) names the channel in the warehouse without storing the URL."""
        import hashlib

        out: dict[str, str] = {}
        for url in self.urls:
            scheme = url.partition("://")[0].lower() or "url"
            out[f"{scheme}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"] = url
        return out


@dataclass(frozen=True)
class ReferenceSettings:
    """Reference data the installation is given (docs/figures.md, "Working days")."""

    # The province's procedure catalogue (CSV, warehouse/procedures.py): statutory handling
    # times in working days. Empty: the embedded catalogue of the simulated province.
    procedures_csv: str = ""

    @property
    def procedures_path(self) -> Path | None:
        return Path(self.procedures_csv).expanduser().resolve() if self.procedures_csv else None


BACKENDS = ("duckdb", "ducklake")
URL_STYLES = ("", "path", "vhost")


@dataclass(frozen=True)
class S3Settings:
    """S3-compatible storage for the lake's data (``[warehouse.s3]``, used when ``data_path``
    is ``s3://bucket/prefix/``). The keys are never settings: they come from the environment
    (``CCHC_S3_ACCESS_KEY_ID`` / ``CCHC_S3_SECRET_ACCESS_KEY``, else the standard ``AWS_*``),
    read when a connection opens (``warehouse.lake.s3_secret_sql``)."""

    # host[:port] of an S3-compatible server (MinIO, Ceph, a cloud's S3 API); an http:// or
    # https:// prefix also sets use_ssl. Empty: AWS's own endpoint.
    endpoint: str = ""
    region: str = "us-east-1"
    url_style: str = ""  # "path" for most self-hosted servers; empty: DuckDB's default (vhost)
    use_ssl: bool = True

    def __post_init__(self) -> None:
        if self.url_style not in URL_STYLES:
            raise ValueError(f"[warehouse.s3] url_style must be path or vhost, "
                             f"not {self.url_style!r}")


@dataclass(frozen=True)
class WarehouseSettings:
    """Where the warehouse lives (docs/distributed.md).

    ``duckdb`` (the default): one private DuckDB file; a publish brings the readers' snapshot
    before last up to its state (``warehouse.snapshot_spare``) or copies it. ``ducklake``: a DuckLake whose catalog is ``catalog`` (DuckLake's own form:
    ``sqlite:/path/catalog.sqlite``, ``postgres:dbname=cchc host=...``, ``/path/catalog.ducklake``;
    empty: a SQLite catalog in ``<data_dir>/lake/``) and whose Parquet files live under
    ``data_path`` (empty: ``<data_dir>/lake/files/``; ``s3://bucket/prefix/``: S3-compatible
    storage, see :class:`S3Settings`); publishing records the committed snapshot
    and readers attach the lake read-only at it."""

    backend: str = "duckdb"
    catalog: str = ""
    data_path: str = ""
    metadata_schema: str = ""  # the catalog's schema (PostgreSQL: several lakes in one database)
    s3: S3Settings = field(default_factory=S3Settings)  # when data_path is s3://…
    # Lake upkeep keeps every published snapshot of this many months (``--as-of`` reaches back
    # that far); unpublished snapshots older than a day are expired (warehouse/upkeep.py).
    keep_published_months: int = 13

    def __post_init__(self) -> None:
        if isinstance(self.s3, dict):  # [warehouse.s3] read from TOML
            object.__setattr__(self, "s3", S3Settings(
                **{k: _coerce(S3Settings, k, v) for k, v in self.s3.items()}))
        if self.keep_published_months < 0:
            raise ValueError("[warehouse] keep_published_months must be 0 or more")
        if self.backend not in BACKENDS:
            raise ValueError(f"[warehouse] backend must be one of {', '.join(BACKENDS)}, "
                             f"not {self.backend!r}")


@dataclass(frozen=True)
class IngestSettings:
    """Limits of the exports ``cchc ingest`` takes and of the loads that write them.

    ``max_csv_mb``: the largest plain CSV export (header on line 1, UTF-8), which is streamed
    into parquet parts in flat memory; any other file (a workbook, a CSV with title or total
    rows) keeps the general reader's 1 GiB limit (``sources.filecheck.MAX_FILE_BYTES``), as it
    is read whole. ``load_memory_limit``: DuckDB's memory limit during a load (a file's or a
    pull's: its parts, audit and checks); otherwise DuckDB keeps the blocks of the growing
    tables it scans, up to ``duckdb_memory_limit``, and the load's memory grows with the
    warehouse (docs/performance.md). Empty: ``duckdb_memory_limit`` throughout.
    ``preparing_threads``: parts read, transformed and validated at once while another is
    written; each holds a part in memory (2: ≈ 20 % faster than 1 on two cores, ≈ 0.3 GiB
    more at the default ``chunk_rows``). Meanwhile DuckDB runs with ``duckdb_threads`` minus
    these (at least one: ``cchc.pipeline.writing_threads``)."""

    max_csv_mb: int = 1024
    load_memory_limit: str = "256MB"
    preparing_threads: int = 2

    def __post_init__(self) -> None:
        if self.max_csv_mb < 1:
            raise ValueError(f"[ingest] max_csv_mb must be at least 1, not {self.max_csv_mb}")
        if self.preparing_threads < 1:
            raise ValueError(f"[ingest] preparing_threads must be at least 1, "
                             f"not {self.preparing_threads}")

    @property
    def max_csv_bytes(self) -> int:
        return self.max_csv_mb << 20


@dataclass(frozen=True)
class Settings:
    """All settings; paths are absolute once loaded."""

    data_dir: Path = Path("data")
    sources: dict[str, SourceSettings] = field(default_factory=dict)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    scope: ScopeSettings = field(default_factory=ScopeSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    reference: ReferenceSettings = field(default_factory=ReferenceSettings)
    warehouse: WarehouseSettings = field(default_factory=WarehouseSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    chunk_rows: int = 250_000
    duckdb_memory_limit: str = "2GB"
    duckdb_threads: int = 2

    def source_settings(self, system: str) -> SourceSettings:
        """The settings of one source system (defaults when it has no section)."""
        return self.sources.get(system) or SourceSettings()

    @property
    def source(self) -> SourceSettings:
        """The one-stop system's settings (the first source; kept for older callers)."""
        return self.source_settings("onestop")

    @property
    def simulator_url(self) -> str:
        """Where the bundled simulator listens (the default source address)."""
        return f"http://{self.simulator.host}:{self.simulator.port}"

    def embedded_systems(self) -> list[str]:
        """Enabled systems whose source is the bundled simulator's address (the embedded
        default: no real source configured)."""
        sim = self.simulator_url.rstrip("/")
        return [s for s in self.enabled_systems()
                if self.source_settings(s).base_url.rstrip("/") == sim]

    def enabled_systems(self) -> list[str]:
        """The configured systems that are pulled, in the registry's order."""
        from sources.registry import systems

        return [s for s in systems() if self.source_settings(s).enabled]

    # Derived locations. One place decides the layout of the data folder.
    @property
    def warehouse_path(self) -> Path:
        """The writer's private DuckDB file: only the pipeline opens it."""
        return self.data_dir / "warehouse" / "cchc.duckdb"

    @property
    def published_path(self) -> Path:
        """The read-only snapshot that every reader opens."""
        return self.data_dir / "published" / "cchc.duckdb"

    @property
    def raw_dir(self) -> Path:
        """The raw layer's Parquet files (``duckdb`` backend, warehouse/raw_files.py): shared,
        immutable, by the private warehouse and the readers' snapshot."""
        return self.data_dir / "raw"

    @property
    def lake_dir(self) -> Path:
        """The embedded DuckLake's folder (``ducklake`` backend, default catalog and data)."""
        return self.data_dir / "lake"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def rejected_dir(self) -> Path:
        return self.data_dir / "rejected"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"


_SECTIONS = {
    "simulator": SimulatorSettings,
    "scope": ScopeSettings,
    "service": ServiceSettings,
    "alerts": AlertSettings,
    "reference": ReferenceSettings,
    "warehouse": WarehouseSettings,
    "ingest": IngestSettings,
}

# Per-system environment variables: CCHC_<SYSTEM>_<suffix> -> key of [sources.<system>].
_SOURCE_ENV = {"URL": "base_url", "TOKEN": "token"}
# Environment variables that override single settings: name -> (section or None, key).
_ENV = {
    "CCHC_DATA_DIR": (None, "data_dir"),
    "CCHC_HOOK_SECRET": ("service", "hook_secret"),
    "CCHC_PREFECT_API_URL": ("service", "prefect_api_url"),
    "CCHC_PREFECT_DATABASE_URL": ("service", "prefect_database_url"),
    "CCHC_WORK_POOL": ("service", "work_pool"),
    "CCHC_WRITER_LEASE_S": ("service", "writer_lease_s"),
    "CCHC_SIMULATOR_PORT": ("simulator", "port"),
    "CCHC_WAREHOUSE_BACKEND": ("warehouse", "backend"),
    "CCHC_WAREHOUSE_CATALOG": ("warehouse", "catalog"),
    "CCHC_WAREHOUSE_DATA_PATH": ("warehouse", "data_path"),
}


def _coerce(cls: type, key: str, value: Any) -> Any:
    """Convert a TOML or environment value to the type the dataclass field declares."""
    kind = {f.name: f.type for f in fields(cls)}.get(key)
    if kind is None:
        raise ValueError(f"unknown setting {cls.__name__}.{key}")
    if value is None or not isinstance(value, str):
        return value
    if kind in ("int",):
        return int(value)
    if kind in ("float",):
        return float(value)
    if kind == "bool":
        return value.strip().lower() in ("1", "true", "yes", "on")
    if kind == "Path":
        return Path(value)
    return value


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read defaults, then the TOML file, then environment variables."""
    env = dict(os.environ) if env is None else env
    path = path or (Path(env["CCHC_CONFIG"]) if env.get("CCHC_CONFIG") else Path("cchc.toml"))
    doc: dict[str, Any] = {}
    if path.is_file():
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    per_source: dict[str, dict[str, Any]] = {}
    for key, value in doc.items():
        if key in ("source", "sources"):
            _read_sources(path, key, value, per_source)
        elif key in _SECTIONS:
            if not isinstance(value, dict):
                raise ValueError(f"{path}: [{key}] must be a table")
            for sub, v in value.items():
                sections[key][sub] = _coerce(_SECTIONS[key], sub, v)
        else:
            top[key] = _coerce(Settings, key, value)
    for var, (section, key) in _ENV.items():
        if var in env and env[var] != "":
            if section is None:
                top[key] = _coerce(Settings, key, env[var])
            else:
                sections[section][key] = _coerce(_SECTIONS[section], key, env[var])
    if env.get("CCHC_ALERT_URLS", "").strip():
        sections["alerts"]["urls"] = tuple(re.split(r"[\s,]+", env["CCHC_ALERT_URLS"].strip()))
    from sources.registry import systems

    for system in systems():
        for suffix, key in _SOURCE_ENV.items():
            var = f"CCHC_{system.upper()}_{suffix}"
            if env.get(var):
                per_source.setdefault(system, {})[key] = env[var]
    source_sections = {
        system: SourceSettings(**{k: _coerce(SourceSettings, k, v) for k, v in values.items()})
        for system, values in per_source.items()
    }
    settings = Settings(**top, sources=source_sections,
                        **{n: cls(**sections[n]) for n, cls in _SECTIONS.items()})
    return replace(settings, data_dir=settings.data_dir.expanduser().resolve())


def _read_sources(path: Path, key: str, value: Any, into: dict[str, dict[str, Any]]) -> None:
    """``[source]`` (the one-stop system, as documented before there were two) and
    ``[sources.<system>]`` sections; the named section wins over the old one."""
    from sources.registry import source

    if not isinstance(value, dict):
        raise ValueError(f"{path}: [{key}] must be a table")
    if key == "source":
        for sub, v in value.items():
            into.setdefault("onestop", {}).setdefault(sub, _coerce(SourceSettings, sub, v))
        return
    for system, section in value.items():
        source(system)  # an unknown system is a typo worth stopping for
        if not isinstance(section, dict):
            raise ValueError(f"{path}: [sources.{system}] must be a table")
        for sub, v in section.items():
            into.setdefault(system, {})[sub] = _coerce(SourceSettings, sub, v)


def utc_now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    from datetime import UTC

    return datetime.now(UTC)
