"""Which request gets which HTTP fault: seeded, reproducible, and never forever.

A fault is drawn from a hash of (seed, request key, attempt number), so the same sequence of
requests meets the same faults in every run. A request key that has faulted
``max_consecutive`` times in a row is answered normally next, so a client that retries always
gets through.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter

from simulator.options import FaultOptions

KINDS = ("429", "5xx", "slow", "drop", "truncated")


def _uniform(seed: int, key: str, n: int) -> float:
    digest = hashlib.blake2b(f"{seed}|{key}|{n}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultInjector:
    """Decides per request; counts what it served (for /health and tests)."""

    def __init__(self, options: FaultOptions, seed: int) -> None:
        self.options = options
        self.seed = seed
        self.served: Counter[str] = Counter()
        self._attempts: Counter[str] = Counter()
        self._streak: Counter[str] = Counter()
        self._lock = threading.Lock()

    def decide(self, key: str) -> str | None:
        """The fault for this attempt at ``key`` (None: answer normally)."""
        o = self.options
        if not o.any:
            return None
        with self._lock:
            n = self._attempts[key]
            self._attempts[key] += 1
            if self._streak[key] >= o.max_consecutive:
                self._streak[key] = 0
                return None
            u = _uniform(self.seed, key, n)
            kind = None
            edge = 0.0
            for name, rate in zip(KINDS, (o.rate_429, o.rate_5xx, o.rate_slow, o.rate_drop, o.rate_truncated),
                                  strict=True):
                edge += rate
                if u < edge:
                    kind = name
                    break
            self._streak[key] = self._streak[key] + 1 if kind else 0
            if kind:
                self.served[kind] += 1
            return kind

    def status_5xx(self, key: str) -> int:
        """Which 5xx (500, 502 or 503), also seeded."""
        return (500, 502, 503)[int(_uniform(self.seed, key + "#5xx", self._attempts[key]) * 3)]
