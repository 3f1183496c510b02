"""Time-sortable ids for loads and alerts.

UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Sorting ids sorts loads by
start time, which keeps ``etl_loads`` readable without an ORDER BY. Python 3.11 has no
``uuid.uuid7``, hence this small generator.
"""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> str:
    """A fresh UUIDv7 as text."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 random bits, 74 of them used
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # rand_b: 62 bits
    return str(uuid.UUID(int=value))
