"""One object per source system that the generic pipeline, the flows and the service read.

A system plugs into cchc by one package ``sources/<system>/`` with the same few modules —
``fields.py`` (raw fields, export headers and aliases), ``vocabulary.py`` (code tables and
labels), ``tables.py`` (its raw, quarantine and core tables), ``api.py`` (its client), the
transform to core in ``transforms/<system>_<entity>s.py`` — and one :class:`SourceSpec` in
``spec.py`` that names them. Everything else (staging, gates, validation, the merge, audit,
publish, the pull and ingest flows, the change-notification hook, freshness) is the same code
for every system, driven by the spec. ``sources.registry`` lists the specs.

The spec holds no heavy objects: the transform and the client are import strings, resolved when
a load runs, so the service and the CLI can read every spec without importing polars transforms
or HTTP clients.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sources.fields import FieldSet
from sources.files import ExportLayout
from warehouse.schema import Table

if TYPE_CHECKING:
    import polars as pl

    from sources.api import PagedClient
    from transforms.context import CoreBatch, TransformContext


def resolve(ref: str) -> Any:
    """The object named by ``"module:attribute"``."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class SourceSpec:
    """Everything cchc needs to know about one source system, in one place."""

    system: str  # "onestop": settings section, CLI --system, table prefix, hook path
    entity: str  # one record, for messages: "dossier", "document"
    title: str  # what people call it
    export_kind: str  # what its file export is called: "dossier list", "document register"
    total_noun: str  # how its exports count records in "Tổng số: N …": "hồ sơ", "văn bản"
    fields: FieldSet
    tables: tuple[Table, Table, Table]  # raw versions, quarantine, core (sources/<system>/tables.py)
    to_core: str  # "module:function" (raw frame, TransformContext) -> CoreBatch
    # What the file export supplies from its layout (see sources.files.ExportLayout).
    export_constants: Callable[[frozenset[str], Any], dict[str, str]] | None = None
    redact: str | None = None  # "module:function" dropping what must never be stored

    @property
    def raw_table(self) -> Table:
        """``raw_<system>__<entity>_versions``: every version seen, as text."""
        return self.tables[0]

    @property
    def quarantine_table(self) -> Table:
        """Rows that failed a critical check, with their reasons."""
        return self.tables[1]

    @property
    def core_table(self) -> Table:
        """One row per entity in its newest state."""
        return self.tables[2]

    @property
    def client(self) -> str:
        """``sources/<system>/api.py`` names its paged client ``Client``."""
        return f"sources.{self.system}.api:Client"

    @property
    def watermark_stream(self) -> str:
        """The ``etl_watermarks`` stream of its pulls, e.g. ``onestop.dossiers``."""
        return f"{self.system}.{self.entity}s"

    @property
    def change_event(self) -> str:
        """The event its change notifications become, e.g. ``cchc.onestop.changed``."""
        return f"cchc.{self.system}.changed"

    @property
    def hook_path(self) -> str:
        """Where the source posts its change notifications."""
        return f"/hooks/{self.system}"

    @property
    def layout(self) -> ExportLayout:
        return ExportLayout(self.system, self.export_kind, self.fields, self.entity, self.export_constants)

    @property
    def api_path(self) -> str:
        return self.client_class().path

    def client_class(self) -> type[PagedClient]:
        return resolve(self.client)

    def transform(self) -> Callable[[pl.DataFrame, TransformContext], CoreBatch]:
        return resolve(self.to_core)

    def redactor(self, settings: Any = None) -> Callable[[Any], Any] | None:
        """The function that drops or hashes what must never be stored, on a raw frame (eager
        or lazy), if any. A redact function with a keyword ``settings`` parameter gets the
        run's settings bound (e.g. to find the identity-number hash key)."""
        if not self.redact:
            return None
        fn = resolve(self.redact)
        if settings is not None and "settings" in inspect.signature(fn).parameters:
            return functools.partial(fn, settings=settings)
        return fn
