"""PLACEHOLDER (owned by the service helper): `cchc serve` and `cchc backfill`."""
import typer


def serve_command() -> None:
    """Run the service (not yet built)."""
    raise typer.Exit(2)


def backfill_command() -> None:
    """Backfill (not yet built)."""
    raise typer.Exit(2)
