"""Receiving units of the simulated one-stop system.

Statistics-office codes and names are real (docs/figures.md §2). The unit identifiers ``MaDonVi``
(Decision 20/2020/QĐ-TTg style, Gia Lai = H21) are SIMULATED: the real ones of Krông Pa's units
were not found, so the district is ``000.00.37.H21`` and its communes ``000.NN.37.H21``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Unit:
    """One receiving unit: codes, the name the system shows, and how its staff write it."""

    code: str  # statistics-office code (MaDVHC); the district's own unit has the district code
    name: str  # TenDonVi as the system shows it
    unit_id: str  # MaDonVi (simulated)
    level: str  # "district" or "commune"
    weight: float  # relative volume of dossiers
    online_weight: float  # relative volume of online dossiers
    due_midnight: bool  # this unit's system stores due dates as 00:00 local (a date), not 17:00
    variants: tuple[str, ...] = ()  # other spellings of TenDonVi seen in exports


KRONGPA_UNITS: tuple[Unit, ...] = (
    Unit("637", "UBND huyện Krông Pa", "000.00.37.H21", "district", 22.0, 40.0, False,
         ("UBND Huyện Krông Pa", "UBND huyện KrôngPa")),
    Unit("24076", "UBND thị trấn Phú Túc", "000.01.37.H21", "commune", 12.0, 14.0, False,
         ("UBND Thị trấn Phú Túc",)),
    Unit("24079", "UBND xã Ia Rsai", "000.02.37.H21", "commune", 4.6, 3.0, True),
    Unit("24082", "UBND xã Ia Rsươm", "000.03.37.H21", "commune", 5.4, 4.0, False,
         ("UBND xã Ia RSươm", "UBND xã IaRsươm", "UBND xã Ia RSƯƠM")),
    Unit("24085", "UBND xã Chư Gu", "000.04.37.H21", "commune", 4.1, 2.0, True),
    Unit("24088", "UBND xã Đất Bằng", "000.05.37.H21", "commune", 4.3, 2.0, False),
    Unit("24091", "UBND xã Ia Mlah", "000.06.37.H21", "commune", 5.0, 3.0, True,
         ("UBND xã Ia Mláh", "UBND xã Ia MLah", "UBND xã IaMlah")),
    Unit("24094", "UBND xã Chư Drăng", "000.07.37.H21", "commune", 4.2, 2.0, False),
    Unit("24097", "UBND xã Phú Cần", "000.08.37.H21", "commune", 5.2, 4.0, False),
    Unit("24100", "UBND xã Ia Hdreh", "000.09.37.H21", "commune", 4.4, 2.0, True,
         ("UBND xã Ia HDreh", "UBND xã Ia Dreh", "UBND xã IaHdreh")),
    Unit("24103", "UBND xã Ia Rmok", "000.10.37.H21", "commune", 4.0, 2.0, False),
    Unit("24106", "UBND xã Chư Ngọc", "000.11.37.H21", "commune", 5.3, 3.0, False),
    Unit("24109", "UBND xã Uar", "000.12.37.H21", "commune", 5.1, 3.0, True),
    Unit("24112", "UBND xã Chư Rcăm", "000.13.37.H21", "commune", 5.0, 3.0, False,
         ("UBND xã Chư RCăm",)),
    # The trap: "Krông Năng" is also a district of Đắk Lắk; the name is canonical, the code null.
    Unit("24115", "UBND xã Krông Năng", "000.14.37.H21", "commune", 4.4, 2.0, False,
         ("UBND xã Krông Năng",)),
)

# The 1 July 2025 reform (scenario krongpa-2024-2026): the district level ends, Gia Lai becomes
# province 52, and the 14 units become 4 communes that keep one old code each. Their MaDonVi
# are new (SIMULATED, like the old ones: no district part any more).
REFORM_DAY = date(2025, 7, 1)
NEW_PROVINCE_CODE = "52"
KRONGPA_NEW_UNITS: tuple[Unit, ...] = (
    Unit("24076", "UBND xã Phú Túc", "000.01.00.H21", "commune", 40.0, 50.0, False),
    Unit("24100", "UBND xã Ia Dreh", "000.02.00.H21", "commune", 13.0, 6.0, True),
    Unit("24109", "UBND xã Uar", "000.03.00.H21", "commune", 15.0, 9.0, True),
    Unit("24112", "UBND xã Ia Rsai", "000.04.00.H21", "commune", 14.0, 8.0, False),
)
# Old unit code -> code of the new commune it became (the district's desk: none; its dossiers
# received from 1 July 2025 go to Phú Túc, the former district seat).
SUCCESSORS: dict[str, str | None] = {
    "637": None,
    "24076": "24076", "24088": "24076", "24091": "24076", "24097": "24076", "24106": "24076",
    "24100": "24100", "24103": "24100", "24115": "24100",
    "24109": "24109", "24082": "24109", "24094": "24109",
    "24079": "24112", "24085": "24112", "24112": "24112",
}
RECEIVES_AFTER_REFORM: dict[str, str] = {old: new or "24076" for old, new in SUCCESSORS.items()}

DISTRICT_CODE = "637"
PROVINCE_CODE = "64"
ISSUING_BODY = "UBND HUYỆN KRÔNG PA"

# Receiving units that are not Krông Pa's (neighbouring districts, provincial departments):
# extra dossiers with these names cannot be resolved within the district's scope.
UNKNOWN_UNITS: tuple[tuple[str, str], ...] = (
    ("UBND xã Ia Tul", "000.03.39.H21"),
    ("UBND xã Chư Mố", "000.05.39.H21"),
    ("UBND xã Ia Broăi", "000.07.39.H21"),
    ("UBND phường Hội Thương", "000.02.01.H21"),
    ("Sở Tư pháp tỉnh Gia Lai", "000.00.19.H21"),
    ("UBND xã Ea Sô", "000.04.11.H15"),
)


def scale_units(count: int) -> tuple[Unit, ...]:
    """Units for the uncalibrated scale scenario: Krông Pa's first, then synthetic communes
    (codes 9xxxx, names "UBND xã Thử Nghiệm NNN": clearly not real)."""
    units = list(KRONGPA_UNITS[: max(1, count)])
    for i in range(len(units), count):
        units.append(Unit(f"9{i:04d}", f"UBND xã Thử Nghiệm {i:03d}", f"000.{i % 100:02d}.{90 + i // 100}.H21",
                          "commune", 4.0, 2.0, bool(i % 3 == 0)))
    return tuple(units)
