"""Faults switched on through the control endpoints."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    maintenance: bool = False
    latency_seconds: float = 0.0
    # Endpoints the latency applies to (signin, create, list, ...); empty means all.
    latency_endpoints: frozenset[str] = frozenset()
    conflict_writes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take_conflict(self) -> bool:
        """True (and one fewer left) while "related operation in progress" is armed."""
        with self._lock:
            if self.conflict_writes > 0:
                self.conflict_writes -= 1
                return True
            return False
