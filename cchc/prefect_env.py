"""Prefect's environment for cchc, set before Prefect is imported.

cchc keeps Prefect's state (its SQLite database, logs) under the data folder, never in the
user's home, and talks to a configured server when there is one. Without a server Prefect starts
a temporary one per process; its first start migrates a new database, which can take longer than
Prefect's default 20 s on a slow machine, hence the generous timeout.
"""

from __future__ import annotations

import os

from cchc.config import Settings

PREFECT_DEFAULTS: dict[str, str] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    "PREFECT_LOGGING_LOG_PRINTS": "true",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # Our own loggers (sources' retries, warehouse) show in Prefect's UI beside the flow's.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "cchc,sources,warehouse,expectations,transforms",
}


def configure_prefect(settings: Settings) -> None:
    """Point Prefect at cchc's home (and server, if configured); keep explicit user settings."""
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if settings.service.prefect_api_url:
        os.environ["PREFECT_API_URL"] = settings.service.prefect_api_url
