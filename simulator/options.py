"""What a simulated one-stop system looks like: scenario, seed, dirt and faults, in one value.

One frozen, hashable ``SimOptions`` describes a simulated system completely, so the API, the
file exports and a test's expected truth are all built from the same value (and cached by it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

SCENARIOS = ("krongpa-2021-2022", "scale")


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

    @classmethod
    def clean(cls) -> DirtOptions:
        """No dirt at all: every dossier once, in its newest version."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0)


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
    ``scale`` scenario only. ``now`` (UTC) hides versions that lie in the simulated future;
    None means the real current time."""

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

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; known: {', '.join(SCENARIOS)}")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")

    @property
    def data_key(self) -> tuple[Any, ...]:
        """What determines the emitted data (faults, token and the files-only switch do not)."""
        shape = (self.dossiers, self.units, self.years, self.start_year) if self.scenario == "scale" else ()
        return (self.scenario, self.seed, shape, replace(self.dirt, codes_as_numbers=0.0), self.now)


def make_options(options: SimOptions | None = None, **kw: Any) -> SimOptions:
    """Build options from keywords. ``dirt``/``faults`` accept the dataclass, a dict of its fields,
    or "clean"/"default"/"demo"; any DirtOptions/FaultOptions field may also be given flat
    (``duplicates=0.1``, ``rate_429=0.2``)."""
    base = options or SimOptions()
    dirt_names = {f.name for f in fields(DirtOptions)}
    fault_names = {f.name for f in fields(FaultOptions)}
    dirt = _sub(kw.pop("dirt", base.dirt), DirtOptions)
    faults = _sub(kw.pop("faults", base.faults), FaultOptions)
    dirt = replace(dirt, **{k: kw.pop(k) for k in list(kw) if k in dirt_names})
    faults = replace(faults, **{k: kw.pop(k) for k in list(kw) if k in fault_names})
    return replace(base, dirt=dirt, faults=faults, **kw)


def _sub(value: Any, cls: type) -> Any:
    if isinstance(value, cls):
        return value
    if value is None or value == "default":
        return cls()
    if value == "clean" or value == "none":
        return cls.clean() if cls is DirtOptions else cls()
    if value == "demo":
        return cls.demo() if cls is FaultOptions else cls()
    if isinstance(value, dict):
        return cls(**value)
    raise TypeError(f"cannot make {cls.__name__} from {value!r}")
