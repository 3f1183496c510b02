"""The warehouse on DuckLake (``[warehouse] backend = "ducklake"``, docs/distributed.md).

A DuckLake is a catalog (SQLite file, PostgreSQL database or DuckDB file) plus Parquet data
files. The writer attaches it as ``lake`` and ``USE``s it, so the same declarations, strategies
and views run unchanged (DuckLake has no PRIMARY KEY: ``warehouse.ddl`` leaves it out there).
Every commit is a DuckLake snapshot; publishing records which snapshot readers see
(``etl_publications``: snapshot id, time), so a reader never sees a load that committed only
some of its parts, and "as published on day X" is the snapshot published last before X ended.
Readers attach the lake read-only at that snapshot version: nothing is copied.

The extensions are loaded by path from their PyPI packages (``duckdb-extension-ducklake``,
``-sqlite-scanner``, ``-postgres-scanner``, and ``-httpfs`` when the data are on S3-compatible
storage; pinned to the DuckDB version): nothing is fetched. S3 credentials come from the
environment into a temporary DuckDB secret of the connection (:func:`s3_secret_sql`), never
from ``cchc.toml`` and never persisted.
Personal data stays in the local ``personal.duckdb`` (``warehouse.personal``): it is never in
the lake, so no reader can attach it.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from cchc.config import LOCAL_TZ, Settings, utc_now

LAKE_DB = "lake"
PUBLICATIONS = "etl_publications"
CATALOG_FILE = "catalog.sqlite"


S3_SECRET = "cchc_lake_s3"
# Credentials for S3-compatible storage: the project's own names first, then AWS's standard.
S3_KEY_VARS = (("CCHC_S3_ACCESS_KEY_ID", "CCHC_S3_SECRET_ACCESS_KEY", "CCHC_S3_SESSION_TOKEN"),
               ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"))


class LakeExtensionMissing(RuntimeError):
    """A DuckDB extension the lake needs is not installed as a Python package."""


class LakeStorageUnconfigured(RuntimeError):
    """The lake's data are on S3 but no credentials are in the environment."""


def is_lake(settings: Settings) -> bool:
    return settings.warehouse.backend == "ducklake"


def extension_path(name: str) -> Path:
    """The ``.duckdb_extension`` file of the PyPI package ``duckdb-extension-<name>`` built
    for this DuckDB version."""
    package = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LakeExtensionMissing(
            f"the DuckDB extension {name} is not installed: add duckdb-extension-"
            f"{name.replace('_', '-')}=={duckdb.__version__} to the environment")
    root = Path(next(iter(spec.submodule_search_locations))) / "extensions"
    wanted = root / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if wanted.is_file():
        return wanted
    found = sorted(root.glob(f"*/{name}.duckdb_extension"))
    if not found:
        raise LakeExtensionMissing(f"no {name}.duckdb_extension under {root}")
    raise LakeExtensionMissing(
        f"{found[0]} is built for another DuckDB than {duckdb.__version__}: pin "
        f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}")


def catalog(settings: Settings) -> str:
    """The catalog in DuckDB's ``ducklake:`` form (default: a SQLite file in the lake folder)."""
    return settings.warehouse.catalog or f"sqlite:{settings.lake_dir / CATALOG_FILE}"


def data_path(settings: Settings) -> str:
    """Where the lake's Parquet files are written (a folder; ends with a slash)."""
    path = settings.warehouse.data_path or str(settings.lake_dir / "files")
    return path if path.endswith("/") else path + "/"


def on_s3(settings: Settings) -> bool:
    """The lake's data files are on S3-compatible storage (``data_path = "s3://…"``)."""
    return data_path(settings).startswith("s3://")


def s3_secret_sql(settings: Settings, env: dict[str, str] | None = None) -> str:
    """``CREATE TEMPORARY SECRET`` for the lake's bucket prefix: endpoint, region, URL style
    and TLS from ``[warehouse.s3]``, the keys from the environment (``CCHC_S3_*``, else
    ``AWS_*``). Temporary: it lives in the connection's memory, never in a file."""
    from warehouse.ddl import literal

    env = dict(os.environ) if env is None else env
    keys = next(((env[k], env[s], env.get(t, "")) for k, s, t in S3_KEY_VARS
                 if env.get(k) and env.get(s)), None)
    if keys is None:
        raise LakeStorageUnconfigured(
            f"the lake's data are on {data_path(settings)} but no S3 credentials are set: "
            "export CCHC_S3_ACCESS_KEY_ID and CCHC_S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY)")
    s3 = settings.warehouse.s3
    endpoint, use_ssl = s3.endpoint, s3.use_ssl
    for scheme, ssl in (("http://", False), ("https://", True)):
        if endpoint.startswith(scheme):
            endpoint, use_ssl = endpoint.removeprefix(scheme).rstrip("/"), ssl
    options = ["TYPE s3", f"KEY_ID {literal(keys[0])}", f"SECRET {literal(keys[1])}",
               f"REGION {literal(s3.region)}", f"USE_SSL {str(use_ssl).lower()}",
               f"SCOPE {literal(data_path(settings))}"]
    if keys[2]:
        options.append(f"SESSION_TOKEN {literal(keys[2])}")
    if endpoint:
        options.append(f"ENDPOINT {literal(endpoint)}")
    if s3.url_style:
        options.append(f"URL_STYLE {literal(s3.url_style)}")
    return f"CREATE OR REPLACE TEMPORARY SECRET {S3_SECRET} ({', '.join(options)})"


def catalog_file(settings: Settings) -> Path | None:
    """The catalog's local file (SQLite or DuckDB catalog), None for PostgreSQL."""
    spec = catalog(settings)
    if spec.startswith("postgres:"):
        return None
    return Path(spec.removeprefix("sqlite:").removeprefix("duckdb:"))


def load_extensions(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """LOAD ducklake and the catalog's driver, by path; on S3 also httpfs and the secret."""
    spec = catalog(settings)
    needed = ["ducklake"]
    if spec.startswith("sqlite:"):
        needed.append("sqlite_scanner")
    elif spec.startswith("postgres:"):
        needed.append("postgres_scanner")
    if on_s3(settings):
        needed.append("httpfs")
    for name in needed:
        con.execute(f"LOAD '{extension_path(name)}'")
    if on_s3(settings):
        con.execute(s3_secret_sql(settings))


def attach_sql(settings: Settings, alias: str, *, read_only: bool = False,
               version: int | None = None) -> str:
    """``ATTACH 'ducklake:<catalog>' AS alias (...)``: read-write with its data path, or
    read-only (at a snapshot version)."""
    from warehouse.ddl import literal

    options = [f"DATA_PATH {literal(data_path(settings))}"]
    if settings.warehouse.metadata_schema:
        options.append(f"METADATA_SCHEMA {literal(settings.warehouse.metadata_schema)}")
    if read_only:
        options.append("READ_ONLY")
    if version is not None:
        options.append(f"SNAPSHOT_VERSION {int(version)}")
    return (f"ATTACH {literal('ducklake:' + catalog(settings))} AS {alias} "
            f"({', '.join(options)})")


def connect_writer(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached read-write and ``USE``d (the writer's)."""
    # Unsigned: skips re-hashing the 36 MB extension at every open (0.25 s). The files come
    # from the hash-locked environment (uv.lock) the writer's own code runs from; readers, in
    # safe mode, keep DuckDB's signature check.
    con = duckdb.connect(":memory:", config={"memory_limit": settings.duckdb_memory_limit,
                                             "threads": settings.duckdb_threads,
                                             "allow_unsigned_extensions": True})
    try:
        con.execute("SET TimeZone = 'UTC'")
        load_extensions(con, settings)
        local = catalog_file(settings)
        if local is not None:
            local.parent.mkdir(parents=True, exist_ok=True)
        if "://" not in data_path(settings):  # a bucket prefix needs no folder
            Path(data_path(settings)).mkdir(parents=True, exist_ok=True)
        con.execute(attach_sql(settings, LAKE_DB))
        con.execute(f"USE {LAKE_DB}")
    except BaseException:
        con.close()
        raise
    return con


def current_snapshot(con: duckdb.DuckDBPyConnection, alias: str = LAKE_DB) -> int:
    row = con.execute(f"SELECT id FROM ducklake_current_snapshot('{alias}')").fetchone()
    return int(row[0])


def record_publication(con: duckdb.DuckDBPyConnection) -> int:
    """Record the lake's last committed snapshot as published; returns its id.

    The record is a commit of its own (a later snapshot), so the published snapshot never holds
    its own record: readers find it from the lake's head (:func:`published_version`)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {PUBLICATIONS} "
                "(snapshot_id BIGINT NOT NULL, published_at TIMESTAMPTZ NOT NULL)")
    version = current_snapshot(con)
    con.execute(f"INSERT INTO {PUBLICATIONS} VALUES (?, ?)", [version, utc_now()])
    return version


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` ends in local time (the office's calendar day)."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(LOCAL_TZ))


def published_version(con: duckdb.DuckDBPyConnection, alias: str,
                      as_of: datetime | None = None) -> tuple[int, datetime] | None:
    """(snapshot id, published at) of the last publication (before ``as_of``), or None."""
    where = "WHERE published_at < ?" if as_of is not None else ""
    try:  # (asking duckdb_tables() first would read every table's metadata: 0.4 s)
        row = con.execute(
            f"SELECT snapshot_id, published_at FROM {alias}.main.{PUBLICATIONS} {where} "
            "ORDER BY published_at DESC, snapshot_id DESC LIMIT 1",
            [as_of] if as_of is not None else []).fetchone()
    except duckdb.CatalogException:  # never published
        return None
    return (int(row[0]), row[1]) if row else None


def snapshot_exists(con: duckdb.DuckDBPyConnection, alias: str, version: int) -> bool:
    """Whether the lake still has snapshot ``version`` (upkeep expires old ones)."""
    return con.execute(f"SELECT count(*) FROM ducklake_snapshots('{alias}') WHERE snapshot_id = ?",
                       [version]).fetchone()[0] > 0


def oldest_kept_publication(con: duckdb.DuckDBPyConnection, alias: str) -> datetime | None:
    """When the oldest publication whose snapshot is still kept was made."""
    row = con.execute(
        f"SELECT min(p.published_at) FROM {alias}.main.{PUBLICATIONS} p "
        f"SEMI JOIN ducklake_snapshots('{alias}') s ON s.snapshot_id = p.snapshot_id").fetchone()
    return row[0] if row else None


def reader_directories(settings: Settings) -> list[str]:
    """Folders a safe-mode reader may still open after external access is switched off: the
    data files (a local folder or the bucket prefix ``s3://bucket/prefix/``) and a local
    catalog's folder."""
    dirs = [data_path(settings)]
    local = catalog_file(settings)
    if local is not None:
        dirs.append(str(local.parent) + "/")
    return dirs
