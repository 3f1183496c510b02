"""The one-stop / public-service system (administrative-procedure dossiers) as a source."""

from __future__ import annotations

from sources.onestop.fields import DOSSIER_FIELDSET
from sources.onestop.tables import TABLES
from sources.spec import SourceSpec

ONESTOP = SourceSpec("onestop", "dossier", "one-stop / public-service system", "dossier list", "hồ sơ",
                     DOSSIER_FIELDSET, TABLES, to_core="transforms.onestop_dossiers:transform",
                     redact="sources.onestop.redact:hash_identity_numbers")
