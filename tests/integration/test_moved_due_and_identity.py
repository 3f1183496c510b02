"""Moved due dates are found exactly, and no identity number survives anywhere under data/.

One small simulated district whose simulator moves some due dates later after reception: two
pulls (the move may fall inside one load or between the two), then a CSV export with the same
applicants dropped into the inbox and loaded. Every DuckDB table, every log line and every file
under data/ is then searched for the identity numbers the simulator handed out.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import shutil
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from cchc import inbox, pipeline
from cchc.config import load_settings
from simulator.exports import export_dossiers
from simulator.testing import running_simulator, simulated_dataset, simulator_options
from sources.files import file_sha256
from sources.idhash import KEY_ENV, id_hash_key
from sources.registry import source
from warehouse.form06 import form06
from warehouse.moved_due_dates import moved_in_load
from warehouse.reader import open_snapshot
from warehouse.writer import Warehouse

pytestmark = pytest.mark.integration

SIM = dict(scenario="scale", dossiers=400, seed=11, dirt="clean", move_due=0.1)
SPLIT = datetime(2021, 9, 1, tzinfo=UTC)
DIGITS = re.compile(r"\d{9,12}")


def _numbers() -> set[str]:
    """The identity numbers of the simulated applicants, and their 11-digit spreadsheet form."""
    ids = simulated_dataset(**SIM).truth["SoGiayTo"].drop_nulls().to_list()
    assert ids and all(len(i) == 12 for i in ids)
    return set(ids) | {i.lstrip("0") for i in ids}


def _texts_of_frame(frame: pl.DataFrame) -> list[str]:
    out: list[str] = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            out += frame[name].drop_nulls().to_list()
        elif dtype.is_nested():
            out += [str(v) for v in frame[name].drop_nulls().to_list()]
    return out


def _duckdb_texts(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        texts: list[str] = []
        tables = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        for (table,) in tables:
            texts += _texts_of_frame(con.execute(f'SELECT * FROM "{table}"').pl())
        return texts
    finally:
        con.close()


def _file_texts(path: Path) -> list[str]:
    if path.suffix == ".duckdb":
        return _duckdb_texts(path)
    if path.suffix == ".parquet":
        return _texts_of_frame(pl.read_parquet(path))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    return [path.read_bytes().decode("utf-8", "replace")]


def _moved_in(settings, load_id: str) -> set[str]:
    with Warehouse.open(settings) as wh:
        return set(moved_in_load(wh, load_id).dossiers)


def test_moved_due_dates_flagged_exactly_and_identity_numbers_hashed_everywhere(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)  # the embedded default: a key made under data/
    settings = load_settings()
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.logs_dir / "test.log", encoding="utf-8")
    root = logging.getLogger()
    root.addHandler(handler)
    old_level, root.level = root.level, logging.DEBUG
    staged: list[Path] = []
    per_load: list[set[str]] = []  # what each load's moved_due_date check found, at its time
    spec = source("onestop")
    moved = simulated_dataset(**SIM).manifest.codes("move_due")
    assert len(moved) >= 10
    try:
        with running_simulator(**SIM) as url:
            monkeypatch.setenv("CCHC_ONESTOP_URL", url)
            settings = load_settings()
            loads = []
            for since, until in ((datetime(2020, 1, 1, tzinfo=UTC), SPLIT),
                                 (SPLIT, datetime(2026, 1, 1, tzinfo=UTC))):
                batch = pipeline.stage_pull(settings, spec, since, until)
                staged += [Path(p) for p in batch.parts]
                loads.append(pipeline.load_batch(settings, batch, as_of=date(2023, 6, 1)))
                per_load.append(_moved_in(settings, loads[-1].load_id))
        export = export_dossiers(tmp_path / "dossiers.csv", options=simulator_options(**SIM),
                                 date_from=date(2021, 1, 1), date_to=date(2022, 12, 31)).path
        dropped = settings.inbox_dir / "dossiers.csv"
        dropped.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(export, dropped)
        batch = pipeline.stage_file(settings, dropped, file_sha256(dropped))
        staged += [Path(p) for p in batch.parts]
        loads.append(pipeline.load_batch(settings, batch, as_of=date(2023, 6, 1)))
        per_load.append(_moved_in(settings, loads[-1].load_id))
        inbox.archive(settings, dropped)
        pipeline.publish(settings)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.level = old_level
    assert [s.status for s in loads] == ["succeeded"] * 3

    # Moved due dates: exactly the simulator's, each one on time only by its moved due date.
    con = open_snapshot(settings)
    try:
        view = con.execute("SELECT * FROM out_onestop__moved_due_dates").pl()
        assert set(view["dossier_code"]) == moved
        assert view["moved_later"].all() and (view["days_moved"] > 0).all()
        assert view["on_time_only_by_moved_due"].all()
        alerts = con.execute(
            "SELECT load_id, counts FROM dq_alerts WHERE kind = 'moved_due_date'").pl()
        current = form06(con, date(2021, 1, 1), date(2022, 12, 31))
        original = form06(con, date(2021, 1, 1), date(2022, 12, 31), due="original")
        keys = con.execute("SELECT count(DISTINCT applicant_key) FROM core_onestop__dossiers "
                           "WHERE applicant_key IS NOT NULL").fetchone()[0]
    finally:
        con.close()
    # The alert input: each move reported by the load that showed it first, never again.
    assert per_load[0] | per_load[1] == moved and not per_load[0] & per_load[1]
    assert per_load[0] and per_load[1] and per_load[2] == set()
    assert alerts.height == 1 and alerts["load_id"][0] in {load.load_id for load in loads[:2]}
    total, total_original = current.row(-1, named=True), original.row(-1, named=True)
    assert total["late_by_first_due"] == total_original["late_by_first_due"] == len(moved)
    assert total_original["c10"] == total["c10"] + len(moved)
    assert total_original["c8"] + total_original["c9"] == total["c8"] + total["c9"] - len(moved)
    truth_ids = simulated_dataset(**SIM).truth["SoGiayTo"].drop_nulls()
    assert keys == truth_ids.n_unique()  # repeat applicants stay countable

    # No identity number anywhere under data/: tables, staged parts, logs, archive, key file.
    numbers = _numbers()
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files) and any(p.parent.name == "archive" for p in files)
    assert staged and all(p.is_file() for p in staged)  # load_batch leaves them for the flow
    leaks = {str(p): hits for p in files
             if (hits := {d for t in _file_texts(p) for d in DIGITS.findall(t)} & numbers)}
    assert leaks == {}
    # ... while the keyed hash of a known number is there, in the personal-data file.
    key = id_hash_key(settings)
    known = truth_ids[0]
    digest = hmac.new(key, known.encode(), hashlib.sha256).hexdigest()
    personal = "\n".join(_duckdb_texts(settings.warehouse_path.with_name("personal.duckdb")))
    assert digest in personal
    assert hashlib.sha256(known.encode()).hexdigest() not in personal  # keyed, not a bare hash
