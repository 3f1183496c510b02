"""The e-document management system (incoming and outgoing official documents) as a source."""

from __future__ import annotations

from collections.abc import Sequence

from sources.eoffice.fields import DOCUMENT_FIELDSET
from sources.eoffice.tables import TABLES
from sources.layout import label_key
from sources.spec import SourceSpec


def register_direction(columns: frozenset[str], titles: Sequence[str]) -> dict[str, str]:
    """A register export has no direction column: the register says it. The incoming register
    numbers documents in "Số đến", the outgoing one in "Số văn bản"; the title ("Sổ đăng ký văn
    bản đến / đi") decides when the columns do not."""
    if "SoDen" in columns and "SoVanBan" not in columns:
        return {"LoaiVanBan": "DEN"}
    if "SoVanBan" in columns and "SoDen" not in columns:
        return {"LoaiVanBan": "DI"}
    for title in titles:
        key = label_key(title)
        if "văn bản đến" in key:
            return {"LoaiVanBan": "DEN"}
        if "văn bản đi" in key:
            return {"LoaiVanBan": "DI"}
    return {}


EOFFICE = SourceSpec("eoffice", "document", "e-document management system", "document register",
                     "văn bản", DOCUMENT_FIELDSET, TABLES, to_core="transforms.eoffice_documents:to_core",
                     export_constants=register_direction,
                     redact="sources.eoffice.secrecy:withhold_secret_fields")
