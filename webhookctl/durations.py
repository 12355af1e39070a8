"""Durations as people write them in config: `90d`, `12h`, `1d12h`, `30m`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"^(?:\d+[wdhms])+$")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


# Far beyond any rotation period, and within what timedelta can hold (999,999,999 days).
MAX_SECONDS = 100 * 365 * 86400
_MAX_CHARS = 64


def parse_duration(text: str) -> timedelta:
    """Raises ValueError (only) when `text` is not a duration or is longer than `MAX_SECONDS`."""
    compact = text.strip().replace(" ", "")
    shown = text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS] + "..."
    if not compact or len(compact) > _MAX_CHARS or not _WHOLE.match(compact):
        raise ValueError(f"invalid duration {shown!r}: use a number and a unit (w, d, h, m, s), e.g. 90d or 1h30m")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(compact))
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {shown!r} is too long: at most 100 years")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The largest unit and the one below it, when non-zero: 91d, 90d23h, 2h5m, 45s."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for index, (unit, size) in enumerate(units):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            if index + 1 < len(units):
                below, below_size = units[index + 1]
                rest = (seconds % size) // below_size
                text += f"{rest}{below}" if rest else ""
            return text
    return "0s"
