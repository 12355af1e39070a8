"""UTC timestamps as the vendors and the secret record write them (ISO 8601, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
