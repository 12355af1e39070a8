"""Durations as people write them in config: `90d`, `12h`, `1d12h`, `30m`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"^(?:\d+[wdhms])+$")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    compact = text.strip().replace(" ", "")
    if not compact or not _WHOLE.match(compact):
        raise ValueError(f"invalid duration {text!r}: use a number and a unit (w, d, h, m, s), e.g. 90d or 1h30m")
    return timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(compact)))


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts[:2])
