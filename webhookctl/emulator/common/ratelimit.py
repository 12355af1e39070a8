"""Fixed-window request limits, keyed by whatever the vendor keys on.

Windows are aligned on multiples of their length, so `X-RateLimit-Reset`
(whole epoch seconds) is exact whenever the window is a whole number of seconds.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from webhookctl.emulator.common.clock import Clock


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class FixedWindowLimiter:
    def __init__(self, clock: Clock, window_seconds: float) -> None:
        self._clock = clock
        self.window_seconds = window_seconds
        self._counts: dict[tuple[str, ...], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: tuple[str, ...], limit: int) -> Verdict:
        now = self._clock.time()
        window = int(now // self.window_seconds)
        reset = (window + 1) * self.window_seconds
        with self._lock:
            seen_window, count = self._counts.get(key, (window, 0))
            if seen_window != window:
                count = 0
            allowed = count < limit
            if allowed:
                count += 1
            self._counts[key] = (window, count)
        return Verdict(
            allowed=allowed,
            limit=limit,
            remaining=max(limit - count, 0),
            reset_epoch=math.ceil(reset),
            retry_after=max(math.ceil(reset - now), 1),
        )
