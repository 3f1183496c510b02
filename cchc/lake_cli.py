"""`cchc lake upkeep`: the DuckLake's maintenance by hand (the service runs it weekly).

Merges small files, expires snapshots by the retention rule and deletes the files no kept
snapshot needs (``warehouse.upkeep``). On the DuckDB file backend it compacts the file instead
(``warehouse.upkeep.compact_file``): the row groups loads left partly filled are merged.
"""

from __future__ import annotations

from typing import Annotated

import typer

lake_app = typer.Typer(help="The DuckLake warehouse (backend ducklake): upkeep.",
                       no_args_is_help=True)


@lake_app.command("upkeep")
def upkeep_command(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would be expired and deleted; change nothing (no merge).")]
        = False,
) -> None:
    """Merge small files, expire snapshots (keeping every published one of the last
    [warehouse] keep_published_months months) and delete files no kept snapshot needs. On
    the DuckDB file backend: compact the file. Holds the writer lock like any load."""
    from cchc.config import load_settings
    from warehouse.lake import is_lake
    from warehouse.lock import WarehouseBusy
    from warehouse.upkeep import run_upkeep

    settings = load_settings()
    if not is_lake(settings):
        if dry_run:
            typer.echo("the DuckDB file backend's upkeep compacts the file; nothing done")
            return
        from warehouse.upkeep import compact_file

        try:
            done = compact_file(settings)
        except WarehouseBusy as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(f"the warehouse file is compacted ({done['seconds']:.1f} s; "
                   f"{done['bytes_before']:,} → {done['bytes_after']:,} bytes)")
        return
    try:
        r = run_upkeep(settings, dry_run=dry_run)
    except WarehouseBusy as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    verb = "would expire" if dry_run else "expired"
    typer.echo(f"{verb} {r.snapshots_expired} of {r.snapshots_before} snapshot(s) "
               f"({r.publications_expired} publication(s) older than "
               f"{r.kept_since:%Y-%m-%d}; {r.publications_kept} kept)")
    if not dry_run:
        typer.echo(f"merged {r.files_merged} small file(s); deleted {r.files_deleted} file(s); "
                   f"files {r.files_before} → {r.files_after}, snapshots "
                   f"{r.snapshots_before} → {r.snapshots_after}")
    else:
        typer.echo(f"would delete {r.files_deleted} file(s) already unneeded")
