"""A signing secret, and the witnesses told of every secret value as it is made.

Its own module, apart from the wire model (`model.py`), so that what every command loads
(`redact.py`, through the presenter) does not build the model's dataclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

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
