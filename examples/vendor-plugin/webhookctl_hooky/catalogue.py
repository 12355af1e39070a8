"""What the Hooky API accepts and promises, as data: the one place each Hooky fact is written."""

from __future__ import annotations

from typing import Literal

from webhookctl.model import Capabilities

PRODUCTION_URL = "https://api.hooky.example"
MAX_HOOKS = 5

Topic = Literal["order.created", "order.paid", "order.refunded"]
TOPICS: tuple[str, ...] = Topic.__args__  # type: ignore[attr-defined]

CAPABILITIES = Capabilities(
    vendor="hooky",
    updatable_fields=frozenset({"topics"}),
    replace_fields=frozenset({"url"}),
    set_fields=frozenset({"topics"}),
    max_destinations=MAX_HOOKS,
    secret_readable=False,
    can_rotate=True,
    # A new secret replaces the old one at once: no dual signing, no minimum interval.
    server_side_delivery_filters=False,
)
