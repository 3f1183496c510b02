"""`cchc reconcile --as-of DAY`: our side is the snapshot published then (the lake backend);
the file backend says it needs the lake, as the reports do."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from reconcile_fixtures import UNITS_CSV, core_frame, dossier
from typer.testing import CliRunner

from cchc.config import LOCAL_TZ, load_settings

HEAD = "indicator,value,unit,period_from,period_to,scope\n"
ARGS = ["reconcile", "--from", "2022-01-01", "--to", "2022-01-31", "--format", "json"]


def _article(tmp_path: Path, received: int) -> Path:
    csv = tmp_path / "article.csv"
    csv.write_text(HEAD + f"received_total,{received},dossiers,2022-01-01,2022-01-31,637\n",
                   encoding="utf-8")
    return csv


def _build(tmp_path: Path) -> None:
    """Two dossiers published; a third committed but not published."""
    from warehouse.tables import CORE_ONESTOP_DOSSIERS
    from warehouse.writer import Warehouse

    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    jan = {"received_date": "2022-01-03", "due_date": "2022-01-10"}
    with Warehouse.open(load_settings(), admin_units_csv=units) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A1", **jan), dossier("A2", **jan)),
                 "L1")
        wh.publish()
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(dossier("A3", **jan)), "L2")


def test_reconcile_as_of_compares_the_published_figures_of_that_day(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cchc.cli import app
    from warehouse.reader import open_snapshot

    monkeypatch.setenv("CCHC_WAREHOUSE_BACKEND", "ducklake")
    # the page redrawn after each run's publish is not what this test is about (3 s a run)
    monkeypatch.setattr("cchc.dashboard.build.refresh_after_publish", lambda settings: None)
    _build(tmp_path)
    today = datetime.now(ZoneInfo(LOCAL_TZ)).date()
    against = ["--against", str(_article(tmp_path, 2))]
    runner = CliRunner()
    published = runner.invoke(app, [*ARGS, *against, "--as-of", today.isoformat()])
    assert published.exit_code == 0, published.output  # 2 published = 2 in the article
    [row] = [r for r in json.loads(published.stdout) if r["figure"] == "received_total"]
    assert (row["ours"], row["status"]) == (2, "agrees")
    current = runner.invoke(app, [*ARGS, *against])  # the writer's committed state: 3
    assert current.exit_code == 1, current.output
    con = open_snapshot(load_settings())
    try:
        runs = con.execute("SELECT as_of, max(ours) FILTER (figure = 'received_total') "
                           "FROM dq_reconciliation GROUP BY ALL ORDER BY 1 NULLS LAST").fetchall()
        scopes = [r[0] for r in con.execute("SELECT scope FROM dq_alerts WHERE kind = "
                                            "'reconciliation_difference'").fetchall()]
    finally:
        con.close()
    assert runs == [(today, 2), (None, 3)]
    assert scopes and all("@" not in s for s in scopes)  # the as-of run opened none
    before = runner.invoke(app, [*ARGS, *against, "--as-of", "2020-01-01"])
    assert before.exit_code == 2
    assert "nothing was published before 2020-01-02" in before.output


def test_reconcile_as_of_on_the_file_backend_says_it_needs_the_lake(
        data_dir: Path, tmp_path: Path) -> None:
    from cchc.cli import app

    _build(tmp_path)
    result = CliRunner().invoke(app, [*ARGS, "--against", str(_article(tmp_path, 2)),
                                      "--as-of", "2022-02-01"])
    assert result.exit_code == 2
    assert "needs the ducklake warehouse backend" in result.output
