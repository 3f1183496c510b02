"""The ``cchc`` command. Sub-commands live next to the code they drive and import heavy
libraries (Prefect, Great Expectations, DuckDB) only when they run, so ``cchc --help`` is fast."""

from __future__ import annotations

import typer

from cchc import commands
from cchc.alerts_cli import alerts_app
from cchc.dashboard_cli import dashboard_command
from cchc.lake_cli import lake_app
from cchc.query_cli import report_app, sql_command
from cchc.reconcile_cli import reconcile_command
from cchc.scope_cli import scope_app
from cchc.service.cli import backfill_command, serve_command, worker_command
from simulator.cli import app as simulate_app

app = typer.Typer(
    help="cchc: administrative-procedure reform figures from the provincial systems, in DuckDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("run")(commands.run_command)
app.command("ingest")(commands.ingest_command)
app.command("demo")(commands.demo_command)
app.command("status")(commands.status_command)
app.command("sql")(sql_command)
app.command("dashboard")(dashboard_command)
app.add_typer(report_app, name="report")
app.command("reconcile")(reconcile_command)
app.add_typer(simulate_app, name="simulate")
app.command("serve")(serve_command)
app.command("backfill")(backfill_command)
app.command("worker")(worker_command)
app.add_typer(alerts_app, name="alerts")
app.add_typer(lake_app, name="lake")
app.add_typer(scope_app, name="scope")

if __name__ == "__main__":
    app()
