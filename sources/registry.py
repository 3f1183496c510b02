"""The source systems cchc reads, in the order they are pulled. Adding one is one line here."""

from __future__ import annotations

from sources.eoffice.spec import EOFFICE
from sources.onestop.spec import ONESTOP
from sources.spec import SourceSpec

SOURCES: tuple[SourceSpec, ...] = (ONESTOP, EOFFICE)


def source(system: str) -> SourceSpec:
    """The spec of a system by name; ValueError naming the known ones otherwise."""
    for spec in SOURCES:
        if spec.system == system:
            return spec
    known = ", ".join(s.system for s in SOURCES)
    raise ValueError(f"unknown source system {system!r} (known: {known})")


def systems() -> list[str]:
    return [s.system for s in SOURCES]
