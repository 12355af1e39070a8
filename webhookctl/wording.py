"""Counted nouns, said once: "1 secret", "2 secrets", "1 delivery"."""

from __future__ import annotations

IRREGULAR = {"delivery": "deliveries", "secret to rotate": "secrets to rotate",
             "secret to repair": "secrets to repair", "is": "are"}


def plural(word: str) -> str:
    return IRREGULAR.get(word, word + "s")


def count(n: int, word: str) -> str:
    """`count(1, "destination")` is "1 destination"; `count(0, ...)` and above take the plural."""
    return f"{n} {word if n == 1 else plural(word)}"


def seconds(value: float) -> str:
    """A wait for people: "9 s", "0.5 s" (tenths below ten seconds)."""
    return f"{value:.0f} s" if value >= 10 or value == int(value) else f"{value:.1f} s"
