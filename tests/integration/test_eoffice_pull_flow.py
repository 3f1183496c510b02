"""The e-document pull flow, run through Prefect against the simulator: accounting, every dirt
kind of the manifest, newest wins, the §2.1 report against the truth, idempotence, the
watermark, and the secret rule (a leaked summary of a secret document is stored nowhere)."""

from __future__ import annotations

import os
import unicodedata
from datetime import date
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest

from cchc.config import load_settings
from simulator.doc_dirt import LEAK_PREFIX
from simulator.testing import running_simulator, simulated_documents
from warehouse.documents_report import TOTAL_LABEL, documents_report
from warehouse.reader import open_snapshot

pytestmark = pytest.mark.integration

# A small district with the default e-document dirt (every kind present), HTTP faults on top.
SIM = dict(scenario="scale", dossiers=3000, documents=3000, seed=5)
FAULTS = dict(rate_429=0.05, rate_5xx=0.05, rate_drop=0.03, rate_truncated=0.03)
SINCE = "2020-01-01T00:00:00Z"
UNTIL = "2026-01-01T00:00:00Z"
DOCS_PATH = "/eoffice/api/v1/documents"

# Extra documents that must be quarantined, each with the rule that catches it.
QUARANTINE_KINDS = ("completed_before_receipt", "unknown_bodies", "unknown_labels")
# unknown_labels detail (the field given an unknown value) -> the raw field its reason names.
LABEL_FIELDS = ("DoMat", "DoKhan", "TrangThai", "HinhThuc", "LoaiVanBan")
# Warning kinds: the rows load, with a reason in dq_warnings that says what is wrong.
WARNING_MARKERS = {
    "unknown_type": "Decree 30/2020",
    "repeated_numbers": "register number repeated",
    "secret_leak": "withheld fields",
}


def _query(sql: str, params: list | None = None) -> list[tuple]:
    con = open_snapshot(load_settings())
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _snapshot_state() -> dict:
    """Everything a re-run must leave unchanged, read from the published snapshot."""
    out = {}
    for table in ("raw_eoffice__document_versions", "core_eoffice__documents",
                  "quarantine_eoffice__documents"):
        out[table] = _query(f"SELECT count(*), coalesce(sum(hash(row_hash)), 0) FROM {table}")[0]
    out["core_state"] = _query(
        "SELECT sum(hash(document_id, status, updated_at, completed_date, unit_code, load_id)) "
        "FROM core_eoffice__documents"
    )[0]
    return out


@pytest.fixture(scope="module")
def pulled(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None):
    """One full pull of the simulated documents through the Prefect flow, shared by the module:
    the first tests only read it; the later ones pull again and compare; the last one searches
    everything written for the leaked secrets."""
    from flows.pull import pull_eoffice

    data_dir = tmp_path_factory.mktemp("eoffice-pull") / "data"
    with pytest.MonkeyPatch.context() as env:  # the module's tests read this data folder
        env.setenv("CCHC_DATA_DIR", str(data_dir))
        with running_simulator(**SIM, **FAULTS) as url:
            env.setenv("CCHC_EOFFICE_URL", url)
            first = pull_eoffice(since=SINCE, until=UNTIL)
        yield data_dir, first


def test_every_item_is_accounted_for(pulled) -> None:
    _, summary = pulled
    docs = simulated_documents(**SIM)
    m = docs.manifest
    assert summary["status"] == "succeeded", summary["message"]
    assert summary["system"] == "eoffice"
    assert summary["rows_in"] == docs.items.height
    assert summary["rows_in"] == summary["rows_duplicate"] + summary["rows_loaded"] + summary["rows_quarantined"]
    assert summary["rows_duplicate"] == m.items("duplicates")
    assert summary["rows_quarantined"] == sum(m.items(k) for k in QUARANTINE_KINDS)
    # Warned rows: at least one per item of every warning document (a document may repeat).
    assert summary["rows_warned"] >= sum(m.documents(k) for k in WARNING_MARKERS)
    # Withheld: the leaked items (less their duplicate copies) and, failing closed, the extras
    # whose secrecy is an unknown value (quarantined, but their summaries dropped all the same).
    unknown_secrecy = m.entries.filter((pl.col("kind") == "unknown_labels") & (pl.col("detail") == "DoMat"))
    assert m.documents("secret_leak") + unknown_secrecy.height <= summary["rows_withheld"]
    assert summary["rows_withheld"] <= m.items("secret_leak") + unknown_secrecy.height
    quarantined = _query("SELECT DISTINCT MaVanBan FROM quarantine_eoffice__documents WHERE withheld IS NOT NULL "
                         "AND TrichYeu IS NULL AND CoQuanBanHanh IS NULL")
    assert {r[0] for r in quarantined} == set(unknown_secrecy["MaVanBan"].to_list())
    loads = _query("SELECT source_system, status, rows_in, rows_duplicate, rows_loaded, rows_quarantined "
                   "FROM etl_loads ORDER BY started_at")
    assert loads[0] == ("eoffice", "succeeded", summary["rows_in"], summary["rows_duplicate"],
                        summary["rows_loaded"], summary["rows_quarantined"])


def test_each_quarantine_reason_catches_exactly_its_documents(pulled) -> None:
    m = simulated_documents(**SIM).manifest
    rows = _query("SELECT MaVanBan, reasons FROM quarantine_eoffice__documents")
    reasons = {doc: " | ".join(r) for doc, r in rows}
    assert len(reasons) == len(rows)
    expected = set().union(*(m.ids(k) for k in QUARANTINE_KINDS))
    assert set(reasons) == expected

    def caught(marker: str) -> set[str]:
        return {doc for doc, text in reasons.items() if marker in text}

    assert m.ids("completed_before_receipt") and (
        caught("handling completed before the document was received") == m.ids("completed_before_receipt"))
    assert m.ids("unknown_bodies") and caught("body not recognised") == m.ids("unknown_bodies")
    labels = m.entries.filter(pl.col("kind") == "unknown_labels")
    assert sorted(set(labels["detail"].to_list())) == sorted(LABEL_FIELDS)
    for field in LABEL_FIELDS:
        ids = set(labels.filter(pl.col("detail") == field)["MaVanBan"].to_list())
        # The reason names the raw field and quotes its value: "DoMat='MatCao': ...".
        assert ids and caught(f"{field}=") == ids, field


def test_each_warning_is_on_its_documents_and_they_load(pulled) -> None:
    m = simulated_documents(**SIM).manifest
    core = dict(_query("SELECT document_id, array_to_string(dq_warnings, ' | ') FROM core_eoffice__documents"))
    for kind, marker in WARNING_MARKERS.items():
        ids = m.ids(kind)
        assert ids, kind
        assert ids <= set(core), f"{kind}: warned documents must load"
        missing = [i for i in ids if marker not in (core[i] or "")]
        assert not missing, (kind, missing[:3])
    # A warning of a kind is only where the manifest put it (repeated numbers come in pairs:
    # the renumbered document and the one whose number it took).
    flagged = {i for i, w in core.items() if w and WARNING_MARKERS["unknown_type"] in w}
    assert flagged == m.ids("unknown_type")
    flagged = {i for i, w in core.items() if w and WARNING_MARKERS["secret_leak"] in w}
    assert flagged == m.ids("secret_leak")
    leaked = _query("SELECT count(*) FROM core_eoffice__documents WHERE secret_leak_dropped "
                    "AND (summary IS NOT NULL OR issuing_body IS NOT NULL OR signer IS NOT NULL "
                    "OR linked_dossier_code IS NOT NULL)")
    assert leaked == [(0,)]
    withheld = _query("SELECT DISTINCT MaVanBan FROM raw_eoffice__document_versions WHERE withheld IS NOT NULL")
    assert {r[0] for r in withheld} == m.ids("secret_leak")


def test_core_holds_the_truth_in_its_newest_state(pulled) -> None:
    truth = simulated_documents(**SIM).truth
    core = pl.DataFrame(
        _query("SELECT document_id, direction, status, completed_date, updated_at, secrecy, transport "
               "FROM core_eoffice__documents ORDER BY document_id"),
        schema=["MaVanBan", "direction", "status", "completed", "updated_at", "secrecy", "transport"],
        orient="row",
    )
    assert core.height == truth.height
    assert core["MaVanBan"].to_list() == truth["MaVanBan"].to_list()
    joined = core.join(truth, on="MaVanBan")
    for ours, theirs in (("direction", "LoaiVanBan"), ("status", "TrangThai"),
                         ("completed", "NgayHoanThanh"), ("secrecy", "DoMat"), ("transport", "HinhThuc")):
        diff = joined.filter(pl.col(ours).ne_missing(pl.col(theirs)))
        assert diff.height == 0, (ours, diff.select("MaVanBan", ours, theirs).head(3).to_dicts())
    stale = joined.filter(pl.col("updated_at").dt.convert_time_zone("UTC") != pl.col("NgayCapNhat"))
    assert stale.height == 0, stale.select("MaVanBan", "updated_at", "NgayCapNhat").head(3).to_dicts()
    # The documents that re-appeared with older versions are among them: newest won.
    assert simulated_documents(**SIM).manifest.ids("reappear") <= set(core["MaVanBan"].to_list())


@pytest.mark.parametrize("period", [(date(2021, 1, 1), date(2021, 12, 31)),
                                    (date(2022, 10, 1), date(2022, 12, 31)),
                                    (date(2021, 4, 1), date(2021, 6, 30))])
def test_documents_report_equals_the_truths(pulled, period) -> None:
    date_from, date_to = period
    docs = simulated_documents(**SIM)
    expected = docs.expected_report(date_from, date_to)
    con = open_snapshot(load_settings())
    try:
        ours = documents_report(con, date_from, date_to, "unit")
    finally:
        con.close()
    cols = [f"c{i}" for i in range(3, 13)]
    total = ours.filter(pl.col("c2") == TOTAL_LABEL).row(0, named=True)
    assert {c: total[c] for c in cols} == docs.expected_total(date_from, date_to)
    by_code = {r["code"]: r for r in ours.iter_rows(named=True) if r["code"]}
    for row in expected.iter_rows(named=True):
        assert {c: by_code[row["code"]][c] for c in cols} == {c: row[c] for c in cols}, row["code"]
    if date_to != date(2021, 12, 31):
        # The quarter's end cuts through documents still open at it: (8)/(9) are exercised.
        assert total["c8"] + total["c9"] > 0


def test_the_same_window_again_changes_nothing(pulled) -> None:
    from flows.pull import pull_eoffice

    before = _snapshot_state()
    with running_simulator(**SIM, **FAULTS) as url:
        os.environ["CCHC_EOFFICE_URL"] = url
        again = pull_eoffice(since=SINCE, until=UNTIL)
    assert again["status"] == "succeeded"
    assert again["rows_in"] == pulled[1]["rows_in"]
    assert again["rows_new_versions"] == 0
    assert again["core_inserted"] == 0 and again["core_updated"] == 0
    assert _snapshot_state() == before


def test_the_next_pull_starts_at_the_watermark_and_loads_nothing_new(pulled) -> None:
    from flows.pull import pull_eoffice

    before = _snapshot_state()
    with running_simulator(**SIM) as url:
        os.environ["CCHC_EOFFICE_URL"] = url
        nxt = pull_eoffice()
    assert nxt["status"] == "succeeded"
    assert f"[{UNTIL}," in nxt["source"]
    assert nxt["rows_in"] == 0 and nxt["rows_loaded"] == 0
    assert _snapshot_state() == before
    marks = _query("SELECT stream, watermark FROM etl_watermarks WHERE stream = 'eoffice.documents'")
    assert len(marks) == 1 and marks[0][1].year >= 2026


def test_the_leak_alert_names_the_leak_but_does_not_quote_it(pulled) -> None:
    alerts = _query("SELECT severity, source_system, message FROM dq_alerts WHERE kind = 'secret_leak'")
    assert alerts, "a secret leak must raise an alert"
    for severity, system, message in alerts:
        assert system == "eoffice" and severity == "critical"
        for needle in _needles(_served_leaks()):
            assert needle not in message


# --------------------------------------------------------------------------- the secret rule


def _served_leaks() -> list[str]:
    """The leaked summaries as the simulator serves them (read over HTTP, no faults)."""
    served: list[dict] = []
    with running_simulator(**SIM) as url, httpx.Client(base_url=url, timeout=30) as http:
        page = 1
        while True:
            r = http.get(DOCS_PATH, params={"updated_since": SINCE, "updated_until": UNTIL,
                                            "page": page, "page_size": 1000},
                         headers={"Authorization": "Bearer demo-token"})
            r.raise_for_status()
            body = r.json()
            served.extend(body["items"])
            if page * 1000 >= body["total"]:
                break
            page += 1
    assert len(served) == simulated_documents(**SIM).items.height
    prefixes = {LEAK_PREFIX, unicodedata.normalize("NFD", LEAK_PREFIX)}
    return sorted({it["TrichYeu"] for it in served
                   if it["TrichYeu"] and any(it["TrichYeu"].startswith(p) for p in prefixes)})


def _needles(leaks: list[str]) -> list[str]:
    out: set[str] = set()
    for text in [LEAK_PREFIX.strip(), *leaks]:
        out |= {unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)}
    return sorted(out)


def _db_hits(path: Path, needles: list[str]) -> list[str]:
    hits = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'VARCHAR[]') AND table_catalog = current_database()"
        ).fetchall()
        assert cols, f"{path} has no text columns?"
        by_table: dict[tuple[str, str], list[str]] = {}
        for schema, table, column, _ in cols:
            by_table.setdefault((schema, table), []).append(column)
        for (schema, table), columns in by_table.items():
            # One scan per table counts every (column, needle) pair: thousands of one-pair
            # queries took seconds.
            pairs = [(column, needle) for column in columns for needle in needles]
            counts = con.execute(
                "SELECT " + ", ".join(f'count(*) FILTER (WHERE strpos(CAST("{column}" AS VARCHAR), ?) > 0)'
                                      for column, _ in pairs) + f' FROM "{schema}"."{table}"',
                [needle for _, needle in pairs],
            ).fetchone()
            hits += [f"{path.name}:{table}.{column} ({n} rows) has {needle!r}"
                     for (column, needle), n in zip(pairs, counts, strict=True) if n]
    finally:
        con.close()
    return hits


def _file_hits(root: Path, needles: list[str]) -> list[str]:
    """Byte search of every file under ``root`` (UTF-8, NFC and NFD); parquet files are read
    (their pages are compressed, bytes would say nothing)."""
    encoded = [n.encode("utf-8") for n in needles]
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            for col, dtype in frame.schema.items():
                if dtype == pl.String:
                    for needle in needles:
                        if frame[col].str.contains(needle, literal=True).any():
                            hits.append(f"{path}:{col} has {needle!r}")
            continue
        data = path.read_bytes()
        hits.extend(f"{path} has {n!r}" for n in encoded if n in data)
    return hits


def _prefect_log_hits(needles: list[str]) -> tuple[int, list[str]]:
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    messages: list[str] = []
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            batch = client.read_logs(limit=200, offset=offset)
            messages.extend(log.message for log in batch)
            if len(batch) < 200:
                break
            offset += 200
    return len(messages), [f"prefect log has {n!r}: {m[:200]}" for m in messages for n in needles if n in m]


def test_no_leaked_secret_is_stored_anywhere(pulled) -> None:
    data_dir, _ = pulled
    leaks = _served_leaks()
    # Not vacuous: the source DID serve leaked summaries, one per leaked document.
    assert len(leaks) == simulated_documents(**SIM).manifest.documents("secret_leak") >= 3
    needles = _needles(leaks)
    settings = load_settings()
    assert settings.data_dir == data_dir.resolve()

    hits = []
    for db in (settings.warehouse_path, settings.warehouse_path.parent / "personal.duckdb",
               settings.published_path):
        assert db.is_file(), db
        hits += _db_hits(db, needles)
    for folder in (settings.staging_dir, settings.logs_dir, settings.prefect_home):
        if folder.is_dir():
            hits += _file_hits(folder, needles)
    # Everything else under the data folder too (WAL files, reports, inbox…).
    hits += _file_hits(data_dir, needles)
    # The Prefect home of this session (the harness sets it) and its test database.
    import prefect.settings

    home = Path(os.environ.get("PREFECT_HOME", settings.prefect_home))
    if home.is_dir():
        hits += _file_hits(home, needles)
    db_url = str(prefect.settings.PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or "")
    if db_url.startswith("sqlite"):
        db_file = Path(db_url.split(":///", 1)[1])
        for f in db_file.parent.glob(db_file.name + "*"):
            data = f.read_bytes()
            hits.extend(f"{f} has {n!r}" for n in needles if n.encode() in data)
    n_logs, log_hits = _prefect_log_hits(needles)
    assert n_logs > 0, "the flow's Prefect logs should be readable"
    hits += log_hits
    assert not hits, "\n".join(hits[:20])
