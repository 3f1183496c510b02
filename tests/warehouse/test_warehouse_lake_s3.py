"""The lake's data on S3-compatible storage (``[warehouse] data_path = "s3://…"``), against a
moto S3 server the tests start on a free loopback port: the writer and readers (another process
too) through a temporary DuckDB secret, safe mode limited to the bucket prefix, time travel, and
the storage going down before a load and coming back."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import duckdb
import pytest
from moto.server import ThreadedMotoServer
from warehouse_fixtures import ROOT, core_frame, dossier

from cchc.config import S3Settings, Settings, WarehouseSettings, load_settings
from warehouse import lake
from warehouse.reader import SnapshotUnavailable, open_snapshot, run_query
from warehouse.tables import CORE_ONESTOP_DOSSIERS
from warehouse.writer import Warehouse

KEY_ID, SECRET = "cchc-test-key", "cchc-test-secret"


@dataclass
class S3Server:
    """A moto S3 server in this process, stoppable and restartable on the same port (its
    buckets live in moto's process-wide state and survive a restart)."""

    port: int = 0
    _server: ThreadedMotoServer | None = None

    def start(self) -> S3Server:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        return self

    def stop(self) -> None:
        """Down for real: the listening socket is closed, connections are refused."""
        if self._server is not None:
            self._server.stop()
            self._server._server.server_close()  # stop() only ends the serving loop
            self._server = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture
def s3() -> Iterator[S3Server]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    name = f"cchc-{uuid.uuid4().hex[:10]}"  # moto's state is shared by the whole process
    s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_settings(data_dir: Path, s3: S3Server, bucket: str,
                monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The lake with its SQLite catalog and its data in the bucket, configured the way an
    installation is: ``cchc.toml`` without keys, the keys in the environment (child processes
    inherit both)."""
    toml = data_dir.parent / "cchc.toml"
    toml.write_text(textwrap.dedent(f"""
        [warehouse]
        backend = "ducklake"
        data_path = "s3://{bucket}/lake/"

        [warehouse.s3]
        endpoint = "{s3.endpoint}"
        url_style = "path"
        """), encoding="utf-8")
    monkeypatch.setenv("CCHC_CONFIG", str(toml))
    monkeypatch.setenv("CCHC_S3_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("CCHC_S3_SECRET_ACCESS_KEY", SECRET)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return load_settings()


def _rows(prefix: str, n: int = 20) -> list[dict]:
    """More rows than DuckLake inlines in the catalog (10), so they go to Parquet files."""
    return [dossier(f"{prefix}{i:03d}") for i in range(n)]


def _load(wh: Warehouse, prefix: str, *, publish: bool = True) -> None:
    load = wh.begin_load("onestop", "pull", "test")
    with wh.transaction(load):
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(*_rows(prefix)), load)
    wh.finish_load(load, "succeeded")
    if publish:
        wh.publish()


def test_s3_settings_come_from_the_file_and_the_keys_from_the_environment(
        tmp_path: Path) -> None:
    toml = tmp_path / "cchc.toml"
    toml.write_text('[warehouse]\nbackend = "ducklake"\ndata_path = "s3://b/p"\n'
                    '[warehouse.s3]\nendpoint = "http://minio:9000"\nurl_style = "path"\n')
    settings = load_settings(toml, env={})
    assert settings.warehouse.s3 == S3Settings(endpoint="http://minio:9000", url_style="path")
    assert lake.on_s3(settings) and lake.data_path(settings) == "s3://b/p/"
    assert lake.reader_directories(settings)[0] == "s3://b/p/"
    with pytest.raises(lake.LakeStorageUnconfigured, match="CCHC_S3_ACCESS_KEY_ID"):
        lake.s3_secret_sql(settings, env={})
    sql = lake.s3_secret_sql(settings, env={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})
    assert "TEMPORARY SECRET" in sql and "ENDPOINT 'minio:9000'" in sql
    assert "USE_SSL false" in sql and "SCOPE 's3://b/p/'" in sql and "KEY_ID 'a'" in sql
    ours = lake.s3_secret_sql(settings, env={
        "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
        "CCHC_S3_ACCESS_KEY_ID": "c", "CCHC_S3_SECRET_ACCESS_KEY": "d'x"})
    assert "KEY_ID 'c'" in ours and "SECRET 'd''x'" in ours  # the project's names win
    from_env = load_settings(tmp_path / "none.toml",
                             env={"CCHC_WAREHOUSE_DATA_PATH": "s3://other/lake/"})
    assert lake.data_path(from_env) == "s3://other/lake/"
    assert not lake.on_s3(load_settings(tmp_path / "none.toml", env={}))
    with pytest.raises(ValueError, match="unknown setting S3Settings.secret"):
        toml.write_text('[warehouse.s3]\nsecret = "no"\n')
        load_settings(toml, env={})


READER = textwrap.dedent("""
    import sys
    from datetime import datetime
    from cchc.config import load_settings
    from warehouse.reader import open_snapshot
    for as_of in (None, datetime.fromisoformat(sys.argv[1])):
        con = open_snapshot(load_settings(), as_of=as_of)
        print(con.execute("SELECT count(*) FROM core_onestop__dossiers").fetchone()[0])
        con.close()
""")


def _read_in_another_process(as_of: datetime) -> list[int]:
    """Dossier counts of the published snapshot and of the one published before ``as_of``."""
    proc = subprocess.run([sys.executable, "-c", READER, as_of.isoformat()], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [int(line) for line in proc.stdout.split()]


def test_round_trip_on_s3_with_a_reader_in_another_process_and_time_travel(
        s3_settings: Settings, s3: S3Server, bucket: str, units_csv: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with Warehouse.open(s3_settings, admin_units_csv=units_csv) as wh:
        _load(wh, "A")
        between = datetime.now(UTC)
        time.sleep(0.01)
        _load(wh, "B")
        _load(wh, "C", publish=False)  # committed, not published
    parquet = [k for k in s3.keys(bucket, "lake/") if k.endswith(".parquet")]
    assert any("core_onestop__dossiers" in k for k in parquet), parquet
    assert not (s3_settings.lake_dir / "files").exists()  # no data on the local disk
    assert _read_in_another_process(between) == [40, 20]
    # The secret is the connection's own: a plain DuckDB sees none of it.
    assert duckdb.connect().execute("SELECT count(*) FROM duckdb_secrets()").fetchone()[0] == 0
    monkeypatch.delenv("CCHC_S3_SECRET_ACCESS_KEY")
    with pytest.raises(SnapshotUnavailable, match="no S3 credentials are set"):
        open_snapshot(s3_settings)


def test_a_reader_reads_the_bucket_prefix_and_nothing_outside_it(
        s3_settings: Settings, s3: S3Server, bucket: str, units_csv: Path,
        tmp_path: Path) -> None:
    with Warehouse.open(s3_settings, admin_units_csv=units_csv) as wh:
        _load(wh, "A")
    client = s3.client()
    outside = tmp_path / "outside.parquet"
    duckdb.connect().execute(f"COPY (SELECT 42 AS x) TO '{outside}' (FORMAT parquet)")
    client.upload_file(str(outside), bucket, "other/outside.parquet")
    client.upload_file(str(outside), bucket, "lake/inside.parquet")
    con = open_snapshot(s3_settings)
    try:
        assert run_query(con, "SELECT count(*) AS n FROM core_onestop__dossiers")["n"].item() == 20
        # Under the lake's prefix: allowed (a reader may read any file of the lake's folder).
        assert con.execute(f"SELECT x FROM 's3://{bucket}/lake/inside.parquet'").fetchone() == (42,)
        for path in (f"s3://{bucket}/other/outside.parquet", str(outside)):
            with pytest.raises(duckdb.PermissionException):
                con.execute(f"SELECT * FROM '{path}'").fetchall()
        secrets = con.execute("SELECT secret_string FROM duckdb_secrets()").fetchone()[0]
        assert SECRET not in secrets  # redacted
    finally:
        con.close()


def test_a_write_while_the_storage_is_down_fails_with_the_storage_error(
        s3_settings: Settings, s3: S3Server, units_csv: Path) -> None:
    """A merge whose Parquet write fails keeps the storage's own error (not a follow-up
    "transaction is aborted"), commits nothing and marks the load failed in the catalog."""
    with Warehouse.open(s3_settings, admin_units_csv=units_csv) as wh:
        _load(wh, "A")
        s3.stop()
        with pytest.raises(duckdb.IOException, match="Could not connect .* HTTP PUT"):
            _load(wh, "B")
        loads = wh.query("SELECT status, message FROM etl_loads ORDER BY started_at")
    assert loads["status"].to_list() == ["succeeded", "failed"]
    assert "IOException" in loads["message"][1]
    s3.start()
    con = open_snapshot(s3_settings)
    try:
        assert run_query(con, "SELECT count(*) AS n FROM core_onestop__dossiers")["n"].item() == 20
    finally:
        con.close()


@pytest.mark.integration
def test_storage_down_fails_the_load_cleanly_and_the_next_load_succeeds(
        s3_settings: Settings, s3: S3Server, tmp_path: Path) -> None:
    """The failure mode "storage down", through the pipeline's own steps: the bucket's server
    is stopped before a load (the lake exists already), the load fails with the storage's
    error, nothing of it is committed, the audit and an alert record it; the server back, the
    same staged batch loads and the figures equal the simulator's."""
    from cchc import pipeline
    from simulator.exports import export_dossiers
    from simulator.testing import simulated_dataset
    from sources.files import file_sha256
    from warehouse.form06 import form06
    from warehouse.writer import publish

    with Warehouse.open(s3_settings):
        pass  # the lake exists: schema, seeds, views
    # The options of test_warehouse_lake.py's load: the dataset is built once per process.
    dataset = simulated_dataset(scenario="scale", years=1, dirt="clean", seed=17, dossiers=300)
    export = export_dossiers(tmp_path / "export.csv", dataset=dataset).path
    batch = pipeline.stage_file(s3_settings, export, file_sha256(export))
    s3.stop()
    with pytest.raises(duckdb.IOException, match=f"Could not connect .*127.0.0.1:{s3.port}"):
        pipeline.load_batch(s3_settings, batch)
    with Warehouse.open(s3_settings) as wh:  # the catalog answers; the failure is recorded
        loads = wh.query("SELECT status, message FROM etl_loads")
        alerts = wh.query("SELECT kind, status FROM dq_alerts WHERE kind = 'load_failed'")
        core = wh.query("SELECT count(*) AS n FROM core_onestop__dossiers")["n"].item()
    assert core == 0  # nothing of the load committed (no data file: counted from the catalog)
    assert loads["status"].to_list() == ["failed"]
    assert "IOException" in loads["message"].item() and "undone" in loads["message"].item()
    assert alerts.rows() == [("load_failed", "open")]

    s3.start()  # the same port: the bucket and the files written before are still there
    summary = pipeline.load_batch(s3_settings, batch)
    assert summary.status == "succeeded", summary.message
    publish(s3_settings)
    pipeline.cleanup(batch)
    con = open_snapshot(s3_settings)
    try:
        loaded = run_query(con, "SELECT count(*) AS n FROM core_onestop__dossiers")["n"].item()
        alerts = run_query(con, "SELECT status FROM dq_alerts WHERE kind = 'load_failed'")
        totals = form06(con, date(2000, 1, 1), date(2100, 1, 1), "unit")
    finally:
        con.close()
    assert loaded == summary.rows_loaded == len(dataset.truth)
    assert alerts["status"].to_list() == ["resolved"]  # the passing load resolves it
    assert totals.row(-1, named=True)["c3"] > 0


@pytest.mark.postgres
def test_the_distributed_set_up_catalog_in_postgresql_data_in_s3(
        s3_settings: Settings, s3: S3Server, bucket: str, units_csv: Path) -> None:
    """The catalog in PostgreSQL (127.0.0.1:5432, database test; a schema of its own, dropped
    afterwards) and the data in the bucket: no lake file on the local disk at all."""
    schema = f"cchc_s3_{uuid.uuid4().hex[:8]}"
    dsn = "dbname=test host=127.0.0.1 port=5432 connect_timeout=3"
    admin = duckdb.connect()
    admin.execute(f"LOAD '{lake.extension_path('postgres_scanner')}'")
    try:
        admin.execute(f"ATTACH '{dsn}' AS pg (TYPE postgres)")
    except duckdb.Error as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed by the postgres-marked tests: {exc}")
    admin.execute(f"CALL postgres_execute('pg', 'CREATE SCHEMA {schema}')")
    settings = replace(s3_settings, warehouse=replace(
        s3_settings.warehouse, catalog=f"postgres:{dsn}", metadata_schema=schema))
    assert isinstance(settings.warehouse, WarehouseSettings) and lake.on_s3(settings)
    try:
        with Warehouse.open(settings, admin_units_csv=units_csv) as wh:
            _load(wh, "P")
        con = open_snapshot(settings)
        try:
            assert run_query(con, "SELECT count(*) AS n FROM core_onestop__dossiers")[
                "n"].item() == 20
        finally:
            con.close()
        files = admin.execute(
            "SELECT * FROM postgres_query('pg', 'SELECT count(*) FROM "
            f"{schema}.ducklake_data_file')").fetchone()[0]
        assert files > 0 and any(k.endswith(".parquet") for k in s3.keys(bucket, "lake/main/"))
        assert not settings.lake_dir.exists()  # neither catalog nor data on the local disk
    finally:
        admin.execute(f"CALL postgres_execute('pg', 'DROP SCHEMA {schema} CASCADE')")
        admin.close()
