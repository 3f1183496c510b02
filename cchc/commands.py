"""PLACEHOLDER: run, ingest, demo, status."""


def run_command() -> None:
    """Pull (not yet built)."""


def ingest_command() -> None:
    """Ingest (not yet built)."""


def demo_command() -> None:
    """Demo (not yet built)."""


def status_command() -> None:
    """Status (not yet built)."""
