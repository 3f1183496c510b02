"""What the one-stop system's records must not bring in: identity numbers in clear.

The spec's ``redact`` hook (``sources.spec.SourceSpec.redactor``) runs on every pulled page and
on every file frame, eager or inside the lazy CSV streaming plan, before any parquet part is
written; :func:`hash_identity_numbers` replaces ``SoGiayTo`` by its keyed hash there
(``sources.idhash``), so no later stage — staging, raw layer, quarantine, the personal-data
file, reasons, logs — ever holds the number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import polars as pl

from sources.idhash import hash_columns, id_hash_key

if TYPE_CHECKING:
    from cchc.config import Settings

IDENTITY_FIELDS = ("SoGiayTo",)

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def hash_identity_numbers(frame: FrameT, *, settings: Settings | None = None) -> FrameT:
    """``frame`` (eager or lazy raw frame) with ``SoGiayTo`` as ``HMAC-SHA256`` hex (or
    ``irregular:<hex>`` when the number is not 12 digits); null stays null. Idempotent."""
    if settings is None:
        from cchc.config import load_settings

        settings = load_settings()
    return hash_columns(frame, IDENTITY_FIELDS, id_hash_key(settings))
