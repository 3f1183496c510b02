"""The seed story against the article, and the command once end to end (in process)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
from reconcile_fixtures import UNITS_CSV, core_frame, dossier, ours_frame
from typer.testing import CliRunner

from cchc.console import published_figures_path
from simulator.generate import KRONGPA_FIGURES
from sources.published_figures import for_period, read_published_figures
from transforms.reconcile import TOTAL_KEY, published_keys, reconcile, unexplained
from warehouse.reconcile_store import Against, findings

PERIOD = (date(2021, 1, 1), date(2022, 12, 31))


def test_the_seed_article_has_exactly_one_unexplained_difference_the_online_rate() -> None:
    """The warehouse's form 06 of the seed (the counts the scenario is calibrated to, with
    its 457 dossiers without a due date) against the article's figures."""
    f = KRONGPA_FIGURES
    seed = {"c3": f["c3"], "c4": f["c4"], "c5": f["c5"], "c6": f["c6"], "c7": f["c7"],
            "c8": 22_741, "c9": f["c8+c9"] - 22_741, "c10": f["c10"], "c11": f["c11"],
            "c12": 0, "c13": 0}  # fmt: skip
    ours = ours_frame({"637": seed}, {"637": {"no_due_date": 457}, TOTAL_KEY: {"no_due_date": 457}})
    path = published_figures_path("krongpa-2021-2022")
    assert path is not None
    published = published_keys(for_period(read_published_figures(path), path, *PERIOD),
                               ["637", "64"])
    result = reconcile(ours, published, None, "published")
    assert result.height == 11
    bad = unexplained(result).row(0, named=True) | {"n": unexplained(result).height}
    assert (bad["n"], bad["figure"], round(bad["ours"], 2), bad["theirs"]) == (
        1, "online_rate_pct", 1.17, 1.19)
    assert bad["explanation_code"] == "own_inconsistency" and "1,019 / 87,107" in bad["explanation"]
    [finding] = findings(unexplained(result), Against("published", path.name), *PERIOD)
    assert finding.key == f"{TOTAL_KEY}:online_rate_pct"
    for words in ("1.17", "1.19", "01/01/2021", path.name):
        assert words in finding.message, words
    assert "1.17" in finding.message_en and "2021-01-01..2022-12-31" in finding.message_en


def test_reconcile_command_records_alerts_and_exit_codes(data_dir: Path, tmp_path: Path) -> None:
    from cchc.cli import app
    from cchc.config import load_settings
    from warehouse.reader import open_snapshot
    from warehouse.tables import CORE_ONESTOP_DOSSIERS
    from warehouse.writer import Warehouse

    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    settings = load_settings()
    with Warehouse.open(settings, admin_units_csv=units) as wh:
        wh.write(CORE_ONESTOP_DOSSIERS, core_frame(
            dossier("A1", received_date="2022-01-03", due_date="2022-01-10",
                    finished_date="2022-01-05"),
            dossier("A2", channel=2, received_date="2022-01-04", due_date="2022-01-10",
                    finished_date="2022-01-12")), "L1")
        wh.publish()
    csv = tmp_path / "article.csv"
    head = "indicator,value,unit,period_from,period_to,scope\n"
    csv.write_text(head + "received_total,2,dossiers,2022-01-01,2022-01-31,637\n"
                   "late_rate_pct,60,percent,2022-01-01,2022-01-31,637\n", encoding="utf-8")
    runner = CliRunner()
    args = ["reconcile", "--from", "2022-01-01", "--to", "2022-01-31", "--against", str(csv)]
    out = runner.invoke(app, [*args, "--format", "json"])
    assert out.exit_code == 1, out.output
    rows = {r["figure"]: r for r in json.loads(out.stdout)}
    assert rows["late_rate_pct"]["status"] == "unexplained" and rows["late_rate_pct"]["ours"] == 50
    assert rows["received_total"]["status"] == "agrees"

    csv.write_text(head + "received_total,2,dossiers,2022-01-01,2022-01-31,637\n"
                   "late_rate_pct,50,percent,2022-01-01,2022-01-31,637\n", encoding="utf-8")
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, [*args[:-1], str(tmp_path / "none.csv")]).exit_code == 2

    con = open_snapshot(settings)
    try:
        runs = con.execute("SELECT count(DISTINCT run_id), count(*) FROM dq_reconciliation"
                           ).fetchone()
        alerts = con.execute("SELECT status, finding_key, scope FROM dq_alerts WHERE kind = "
                             "'reconciliation_difference'").pl()
    finally:
        con.close()
    assert runs == (2, 4)
    assert alerts.to_dicts() == [{"status": "resolved", "finding_key": f"{TOTAL_KEY}:late_rate_pct",
                                  "scope": "published:article.csv:2022-01-01..2022-01-31"}]
    assert isinstance(alerts, pl.DataFrame)
