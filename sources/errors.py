"""Errors raised by the source readers, so flows can tell "retry later" from "fix the input".

A pull that keeps failing is a ``SourceUnavailableError`` (transient: the next run may succeed);
a bad token is a ``SourceAuthError`` (retrying cannot help); a file that is not a dossier list is
a ``SourceFileError`` (move it to rejected/ and tell the clerk which row and column).
"""

from __future__ import annotations

from pathlib import Path


def _system_of(url: str) -> str:
    """The source system an API URL belongs to: its first path segment names it
    (``/onestop/api/v1/...``, ``/eoffice/api/v1/...``)."""
    from urllib.parse import urlsplit

    segment = urlsplit(url).path.strip("/").split("/")[0]
    return segment if segment.isidentifier() else "<system>"


class SourceError(Exception):
    """Base class of every error a source module raises on purpose."""


class SourceAuthError(SourceError):
    """The source refused our credentials (401/403): never retried."""

    def __init__(self, url: str, status: int) -> None:
        self.url, self.status = url, status
        super().__init__(
            f"{url}: HTTP {status}: the source rejected the token "
            f"(check CCHC_{_system_of(url).upper()}_TOKEN)"
        )


class SourceRequestError(SourceError):
    """The source rejected the request itself (a 4xx other than 401/403/408/429): never retried."""

    def __init__(self, url: str, status: int, body: str) -> None:
        self.url, self.status, self.body = url, status, body
        super().__init__(f"{url}: HTTP {status}: {body[:300]}")


class SourceProtocolError(SourceError):
    """A well-formed response that breaks the API contract (missing keys, wrong types)."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(f"{url}: {message}")


class SourceUnavailableError(SourceError):
    """Still failing after every retry; ``cause`` is the last failure seen."""

    def __init__(self, url: str, attempts: int, cause: str) -> None:
        self.url, self.attempts, self.cause = url, attempts, cause
        super().__init__(
            f"{url}: source unavailable after {attempts} attempts; last error: {cause}"
        )


class SourceUnreachableError(SourceUnavailableError):
    """Nothing answers at the source's address (connection refused, unknown host, no route):
    waiting minutes would only hide an outage or a wrong address, so the client gives up after
    a few quick attempts and says which setting to check."""

    def __init__(self, url: str, attempts: int, cause: str) -> None:
        super().__init__(url, attempts, cause)
        system = _system_of(url)
        self.args = (
            f"{url}: nothing reachable after {attempts} attempt(s): {cause}. Is the source "
            f"system up? Check [sources.{system}] base_url / CCHC_{system.upper()}_URL",
        )

    def __str__(self) -> str:
        return self.args[0]


class SourceWindowChangedError(SourceError):
    """The result set of a pull window changed while it was being paged through."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(f"{url}: {message}")


class SourceFileError(SourceError):
    """A file that cannot be read as the expected export; says where, so a clerk can fix it."""

    def __init__(self, path: Path | str, row: int | None, field: str | None, message: str) -> None:
        self.path, self.row, self.field, self.message = Path(path), row, field, message
        where = [str(path)]
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"column '{field}'")
        super().__init__(f"{', '.join(where)}: {message}")
