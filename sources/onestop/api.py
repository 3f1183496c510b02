"""Client of the one-stop system's pull API (docs/source-systems.md §1): dossier pages and form 06.

Paging, retries and the window-consistency guard are the same for every system
(``sources.api.PagedClient``); this module names the dossier endpoint and adds the system's own
form-06 report, which reconciliation compares with the warehouse.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from sources.api import Page, PagedClient, day_param, utc_param
from sources.errors import SourceProtocolError
from sources.http import get_json
from sources.pull import PullResult, pull_to_parquet

DOSSIERS_PATH = "/onestop/api/v1/dossiers"
REPORT_06_PATH = "/onestop/api/v1/reports/06"


class OnestopClient(PagedClient):
    """Reads dossier pages and the form-06 report."""

    path = DOSSIERS_PATH

    def report_06(
        self, date_from: date, date_to: date, by: Literal["unit", "field"] = "unit"
    ) -> dict[str, Any]:
        """The system's own form-06 report for ``[date_from, date_to]`` (calendar days)."""
        if by not in ("unit", "field"):
            raise ValueError(f"by must be 'unit' or 'field', got {by!r}")
        params = {"from": day_param(date_from), "to": day_param(date_to), "by": by}
        body, url = get_json(self._http, REPORT_06_PATH, params, self.policy)
        if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
            raise SourceProtocolError(url, "report 06 response has no 'rows' list")
        return body


Client = OnestopClient  # the name every system's api module gives its client (sources.spec)

__all__ = ["Client", "OnestopClient", "Page", "PullResult", "pull_to_parquet", "utc_param"]
