"""PLACEHOLDER (owned by the simulator helper): `cchc simulate ...`."""
import typer

app = typer.Typer(help="The simulator of the provincial systems.")
