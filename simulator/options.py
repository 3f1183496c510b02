"""What a simulated one-stop system looks like: scenario, seed, dirt and faults, in one value.

One frozen, hashable ``SimOptions`` describes a simulated system completely, so the API, the
file exports and a test's expected truth are all built from the same value (and cached by it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

SCENARIOS = ("krongpa-2021-2022", "scale", "krongpa-2024-2026")
# Krông Pa across the 1 July 2025 reform: ``dossiers`` over 2024-2026, uncalibrated.
REFORM_SCENARIO = "krongpa-2024-2026"


@dataclass(frozen=True)
class DirtOptions:
    """Dirt on top of the clean truth. Rates are shares of truth dossiers (duplicates: of
    emitted items); counts are extra untrustable dossiers added beside the truth."""

    duplicates: float = 0.015  # exact duplicate items
    reappear: float = 0.20  # dossiers that emit their older versions too
    nfd: float = 0.02  # dossiers whose text arrives in decomposed Unicode
    unit_variants: float = 0.03  # dossiers of units with spelling variants: variant name, MaDVHC null
    missing_due: float = 0.005  # on-time dossiers whose due date is missing
    finish_before_reception: int = 50  # extra dossiers
    unknown_units: int = 50  # extra dossiers, MaDVHC null
    unknown_status: int = 50  # extra dossiers, status 0, 99, 11 or text
    codes_as_numbers: float = 0.02  # file exports only: share of plain MaTTHC read as numbers
    off_statute_due: float = 0.001  # on-time dossiers whose due date lies past the statutory time
    move_due: float = 0.0  # on-time dossiers whose first version promised an earlier due date

    @classmethod
    def clean(cls) -> DirtOptions:
        """No dirt at all: every dossier once, in its newest version."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class DocDirtOptions:
    """Dirt of the e-document side (simulator/README.md), every field prefixed ``doc_`` so that it
    can be given flat beside the dossier switches. Rates are shares of truth documents
    (duplicates: of emitted items); counts are documents. ``unknown_type``,
    ``repeated_numbers`` and ``secret_leak`` are WARNING cases: the documents stay in the truth."""

    doc_duplicates: float = 0.01  # exact duplicate items
    doc_reappear: float = 0.25  # documents that emit their older versions too
    doc_nfd: float = 0.02  # documents whose text arrives in decomposed Unicode
    doc_body_variants: float = 0.03  # body name as "Xã Uar", "xã Uar", ... and MaDVHC null
    doc_unknown_bodies: int = 30  # extra documents of bodies outside the district, MaDVHC null
    doc_completed_before_receipt: int = 30  # extra incoming documents, NgayHoanThanh < NgayDen
    doc_unknown_labels: int = 25  # extra documents, one unknown DoMat/DoKhan/TrangThai/HinhThuc/LoaiVanBan
    doc_unknown_type: float = 0.003  # truth documents whose TenLoaiVanBan is not one of the 29 (warning)
    doc_repeated_numbers: int = 12  # truth documents given another's SoDen/SoVanBan (warning)
    doc_secret_leak: int = 5  # secret documents served WITH a summary "MẬT-LEAK …" (warning)

    @classmethod
    def clean(cls) -> DocDirtOptions:
        """No dirt at all: every document once, in its newest version, as the truth has it."""
        return cls(0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0, 0, 0)


@dataclass(frozen=True)
class FaultOptions:
    """HTTP faults of the pull API, each at its own rate (share of requests). Faults are drawn
    from a seeded hash of the request and its attempt number, and one request never faults more
    than ``max_consecutive`` times in a row, so a retrying client always gets through."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    rate_drop: float = 0.0  # connection closed mid-body
    rate_truncated: float = 0.0  # complete HTTP response whose JSON is cut short
    slow_seconds: float = 1.0
    retry_after: int = 1
    max_consecutive: int = 2

    @classmethod
    def demo(cls) -> FaultOptions:
        """Modest faults that a well-behaved client survives (the `serve` default)."""
        return cls(0.02, 0.02, 0.01, 0.005, 0.005, 0.5, 1, 2)

    @property
    def any(self) -> bool:
        return any(r > 0 for r in (self.rate_429, self.rate_5xx, self.rate_slow, self.rate_drop,
                                   self.rate_truncated))


@dataclass(frozen=True)
class SimOptions:
    """A simulated system. ``dossiers``/``units``/``years``/``start_year`` shape the uncalibrated
    ``scale`` scenario only, as does ``documents`` (0: proportional to the dossiers). ``now`` (UTC)
    hides versions that lie in the simulated future; None means the real current time.
    ``doc_dirt`` is the e-document side's dirt (it never changes the dossier side)."""

    scenario: str = "krongpa-2021-2022"
    seed: int = 2022
    dossiers: int = 1_000_000
    units: int = 15
    years: int = 2
    start_year: int = 2021
    dirt: DirtOptions = field(default_factory=DirtOptions)
    faults: FaultOptions = field(default_factory=FaultOptions)
    token: str = "demo-token"
    now: datetime | None = None
    documents: int = 0
    doc_dirt: DocDirtOptions = field(default_factory=DocDirtOptions)

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; known: {', '.join(SCENARIOS)}")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")

    @property
    def data_key(self) -> tuple[Any, ...]:
        """What determines the emitted data (faults, token and the files-only switch do not)."""
        shape = (self.dossiers, self.units, self.years, self.start_year) if self.scenario == "scale" \
            else (self.dossiers,) if self.scenario == REFORM_SCENARIO else ()
        return (self.scenario, self.seed, shape, replace(self.dirt, codes_as_numbers=0.0), self.now)

    @property
    def documents_key(self) -> tuple[Any, ...]:
        """What determines the emitted documents (the dossier truth they link to included)."""
        shape = (self.dossiers, self.units, self.years, self.start_year, self.documents) \
            if self.scenario == "scale" else ()
        return (self.scenario, self.seed, shape, self.doc_dirt, self.now)


def make_options(options: SimOptions | None = None, **kw: Any) -> SimOptions:
    """Build options from keywords. ``dirt``/``faults`` accept the dataclass, a dict of its fields,
    or "clean"/"default"/"demo"; any DirtOptions/FaultOptions field may also be given flat
    (``duplicates=0.1``, ``rate_429=0.2``). ``doc_dirt`` likewise, and its fields flat
    (``doc_secret_leak=3``); ``dirt="clean"`` without a ``doc_dirt`` cleans the documents too."""
    base = options or SimOptions()
    dirt_names = {f.name for f in fields(DirtOptions)}
    fault_names = {f.name for f in fields(FaultOptions)}
    doc_names = {f.name for f in fields(DocDirtOptions)}
    if "doc_dirt" not in kw and kw.get("dirt") in ("clean", "none"):
        kw["doc_dirt"] = "clean"
    dirt = _sub(kw.pop("dirt", base.dirt), DirtOptions)
    faults = _sub(kw.pop("faults", base.faults), FaultOptions)
    doc_dirt = _sub(kw.pop("doc_dirt", base.doc_dirt), DocDirtOptions)
    dirt = replace(dirt, **{k: kw.pop(k) for k in list(kw) if k in dirt_names})
    faults = replace(faults, **{k: kw.pop(k) for k in list(kw) if k in fault_names})
    doc_dirt = replace(doc_dirt, **{k: kw.pop(k) for k in list(kw) if k in doc_names})
    return replace(base, dirt=dirt, faults=faults, doc_dirt=doc_dirt, **kw)


def _sub(value: Any, cls: type) -> Any:
    if isinstance(value, cls):
        return value
    if value is None or value == "default":
        return cls()
    if value == "clean" or value == "none":
        return cls.clean() if cls in (DirtOptions, DocDirtOptions) else cls()
    if value == "demo":
        return cls.demo() if cls is FaultOptions else cls()
    if isinstance(value, dict):
        return cls(**value)
    raise TypeError(f"cannot make {cls.__name__} from {value!r}")
