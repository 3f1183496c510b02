"""Client of the e-document system's pull API (docs/source-systems.md §1): incoming and outgoing documents.

Same paging, ordering, auth, retries and window guard as every system (``sources.api``);
``direction="DEN"|"DI"`` asks for one register only.
"""

from __future__ import annotations

from sources.api import PagedClient

DOCUMENTS_PATH = "/eoffice/api/v1/documents"


class EofficeClient(PagedClient):
    """Reads document pages (both registers unless a ``direction`` filter is passed)."""

    path = DOCUMENTS_PATH


Client = EofficeClient  # the name every system's api module gives its client (sources.spec)
