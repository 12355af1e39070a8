"""Strict readers for wire values: what the vendors' specs declare, and nothing Python adds.

Python's `int()` takes "٣", " 5" and "1_000", `str.isdigit()` says yes to "²", `json.loads`
takes `NaN` and `Infinity`, and `datetime.fromisoformat` takes forms RFC 3339 does not. A
server that trusts them either accepts what the spec forbids or fails with a 500 later.
Every pattern here is ASCII-only and matched whole.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# RFC 3339 section 5.6 date-time; "t", "z" and a space separator are allowed by its notes.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def integer(text: str) -> int | None:
    """A base-10 integer written in ASCII digits with an optional sign, else None."""
    if not _INTEGER.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:  # longer than Python's int-parsing limit: no real id or count is
        return None


def digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits (no sign, no other script's digits)."""
    return _DIGITS.fullmatch(text) is not None


def date_time(text: str) -> datetime | None:
    """An RFC 3339 date-time (the OpenAPI `date-time` format) as an aware datetime, else None."""
    if not _DATE_TIME.fullmatch(text):
        return None
    normalised = text[:10] + "T" + text[11:].upper().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(normalised)
    except ValueError:  # 2023-02-30, 25:00:00 and the like
        return None
    return value.astimezone(UTC)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_value(raw: bytes) -> Any:
    """Parse a JSON body as RFC 8259 defines it (no NaN or Infinity); ValueError otherwise."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
