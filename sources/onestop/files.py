"""The one-stop system's dossier-list export (docs/source-systems.md §5), read by the generic reader."""

from __future__ import annotations

from pathlib import Path

from sources.errors import SourceFileError
from sources.files import RawFile, file_sha256, read_export
from sources.onestop.spec import ONESTOP

__all__ = ["RawFile", "SourceFileError", "file_sha256", "read_dossier_file"]


def read_dossier_file(path: Path) -> RawFile:
    """Read an XLSX or CSV dossier list; SourceFileError if it cannot be read as one."""
    return read_export(path, [ONESTOP.layout])[1]
