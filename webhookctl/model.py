"""The shared model every provider translates its vendor's wire format into."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Told of every secret value as it is made (`webhookctl.redact` listens), so that whatever a run prints
# can be cleaned of every secret the run has seen: issued, read from a backend or the journal, or live.
_WITNESSES: list[Callable[[str], None]] = []


def witness_secrets(callback: Callable[[str], None]) -> None:
    _WITNESSES.append(callback)


class Secret:
    """A signing secret. It prints as a mask; only `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        for witness in _WITNESSES:
            witness(value)

    def reveal(self) -> str:
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    def __repr__(self) -> str:
        return "Secret(****)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible tag for comparing secrets without showing them."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LiveDestination:
    id: str
    url: str
    # Vendor fields under their vendor names (accepted_types, retry_attempts / events, enabled).
    fields: dict[str, Any]
    secret_generated_at: datetime | None = None
    # Only for vendors whose secret stays readable.
    secret: Secret | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Issued:
    """A secret the vendor just showed, with what it belongs to."""

    destination_id: str
    secret: Secret | None
    dual_signing_stops_at: datetime | None = None


@dataclass(frozen=True)
class Capabilities:
    vendor: str
    updatable_fields: frozenset[str]
    replace_fields: frozenset[str]
    # Fields whose order does not matter (compared as sets).
    set_fields: frozenset[str]
    max_destinations: int | None
    secret_readable: bool
    can_rotate: bool
    rotation_min_interval: timedelta | None = None
    dual_signing_window: timedelta | None = None
    # Whether the vendor filters and sorts deliveries itself; otherwise the CLI sorts what it read.
    server_side_delivery_filters: bool = False


@dataclass(frozen=True)
class Delivery:
    id: str
    type: str
    status: str
    created_at: datetime
    attempts: int
    last_status_code: int | None
    dual_signed: bool | None = None
