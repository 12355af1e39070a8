"""Canonical JSON (sorted keys, no spaces) of a large mapping, piece by piece, for a digest.

`json.dumps(data, sort_keys=True, separators=(",", ":"))` of a plan or a configuration with
100,000 destinations first holds all of it as dicts and then as one string (~150 MB together).
`canonical_parts` yields the same text in pieces: the mapping without its one long list, then
that list's items one at a time, each dumped on its own (a JSON list is its items joined by ",").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def canonical(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=default)


def canonical_parts(head: dict[str, Any], key: str, items: Iterable[Any],
                    default: Callable[[Any], Any] | None = None) -> Iterator[str]:
    """The canonical JSON of `{**head, key: list(items)}`, in pieces (`key` must not be in `head`)."""
    yield "{"
    for position, name in enumerate(sorted([*head, key])):
        yield ("," if position else "") + canonical(name) + ":"
        if name != key:
            yield canonical(head[name], default)
            continue
        yield "["
        for index, item in enumerate(items):
            yield ("," if index else "") + canonical(item, default)
        yield "]"
    yield "}"
