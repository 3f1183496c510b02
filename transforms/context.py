"""What every source's transform to core receives besides the raw frame, and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from transforms.identifiers import CodeNote
from transforms.legacy_text import RepairNote
from transforms.working_days import WorkingCalendar


@dataclass(frozen=True)
class TransformContext:
    """The facts a transform needs that are not in the rows.

    ``units`` is ``dim_admin_unit`` (``aliases`` as a list of strings); ``province_code``,
    ``district_code`` and ``unit_codes`` (more district or commune codes) scope unit
    resolution; ``as_of`` is the local day open items are judged
    overdue against (the load's date); ``observed_at`` (UTC) is when the batch was read: the
    version time of rows whose source gives none (a register export has no update time).
    ``calendar`` (``dim_calendar``) and ``procedures`` (``dim_procedure``) let a transform check
    due dates against statutory handling times (``transforms.statutory_due``); None skips it.
    """

    units: pl.DataFrame
    province_code: str
    district_code: str | None
    as_of: date
    observed_at: datetime
    calendar: WorkingCalendar | None = None
    procedures: pl.DataFrame | None = None
    unit_codes: tuple[str, ...] = ()


@dataclass
class CoreBatch:
    """The core frame of a batch and what was converted on the way.

    ``notes`` are sentences for the load's audit message (one per column and encoding
    converted, one per identifier column whose codes were canonicalised); ``repairs`` the same
    facts as data.
    """

    frame: pl.DataFrame
    repairs: list[RepairNote | CodeNote] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [str(r) for r in self.repairs]
