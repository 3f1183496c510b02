"""The one-stop / public-service system (administrative-procedure dossiers) as a source."""

from __future__ import annotations

from sources.onestop.fields import DOSSIER_FIELDSET
from sources.onestop.tables import (
    CORE_ONESTOP_DOSSIERS,
    QUARANTINE_ONESTOP_DOSSIERS,
    RAW_ONESTOP_DOSSIER_VERSIONS,
)
from sources.spec import SourceSpec

ONESTOP = SourceSpec(
    system="onestop",
    title="one-stop / public-service system",
    entity="dossier",
    fields=DOSSIER_FIELDSET,
    raw_table=RAW_ONESTOP_DOSSIER_VERSIONS,
    quarantine_table=QUARANTINE_ONESTOP_DOSSIERS,
    core_table=CORE_ONESTOP_DOSSIERS,
    client="sources.onestop.api:OnestopClient",
    to_core="transforms.onestop_dossiers:transform",
    export_kind="dossier list",
)
