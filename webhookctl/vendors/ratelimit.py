"""Client-side pacing from the vendor's X-RateLimit-* headers.

One bucket per account and endpoint. A request waits while the last answer
said nothing remains in the window, until the window resets; a 429 makes the
bucket wait `Retry-After`. Requests on one bucket go one at a time, which is
also the order the vendor sees them in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

# A reset further away than this is a clock mismatch, not a window; rely on 429s instead.
MAX_TRUSTED_WAIT = 3600.0


@dataclass
class Bucket:
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def wait_time(self, now: float) -> float:
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return 0.0
        wait = self.reset_at - now
        return wait if 0 < wait <= MAX_TRUSTED_WAIT else 0.0

    def observe(self, response: httpx.Response, now: float) -> None:
        headers = response.headers
        try:
            if "x-ratelimit-limit" in headers:
                self.limit = int(headers["x-ratelimit-limit"])
            if "x-ratelimit-remaining" in headers:
                self.remaining = int(headers["x-ratelimit-remaining"])
            if "x-ratelimit-reset" in headers:
                self.reset_at = float(headers["x-ratelimit-reset"])
        except ValueError:
            return
        if response.status_code == 429:
            self.remaining = 0
            self.reset_at = now + retry_after(response, default=1.0)


def retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("retry-after")
    if value is None:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return default


class Pacer:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._buckets: dict[str, Bucket] = {}
        self._clock = clock
        self.on_wait: Callable[[str, float], None] | None = None

    def now(self) -> float:
        return self._clock()

    def bucket(self, endpoint: str) -> Bucket:
        return self._buckets.setdefault(endpoint, Bucket())

    @asynccontextmanager
    async def slot(self, endpoint: str) -> AsyncIterator[Bucket]:
        bucket = self.bucket(endpoint)
        async with bucket.lock:
            wait = bucket.wait_time(self._clock())
            if wait > 0:
                if self.on_wait:
                    self.on_wait(endpoint, wait)
                await asyncio.sleep(wait)
                bucket.remaining = None
            yield bucket
