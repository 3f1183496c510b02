"""PLACEHOLDER (owned by the warehouse helper): `cchc sql` and `cchc report`."""
import typer

report_app = typer.Typer(help="Reports from the published snapshot.")


def sql_command() -> None:
    """Run SQL against the published snapshot (not yet built)."""
    raise typer.Exit(2)
