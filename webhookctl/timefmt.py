"""UTC timestamps as the vendors and the secret record write them (ISO 8601, `Z`).

Every timestamp webhookctl writes or prints goes through here, so they all read alike.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_time(value: datetime, timespec: str = "auto") -> str:
    """`2026-12-01T13:38:00.123456Z`; `timespec="seconds"` for what people read."""
    return value.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def format_epoch(seconds: float, timespec: str = "seconds") -> str:
    return format_time(datetime.fromtimestamp(seconds, tz=UTC), timespec)


def now_text() -> str:
    """The current time, to the second (lock owners, file headers)."""
    return format_epoch(time.time())
