"""What the Amigo API accepts and promises, as data (from its OpenAPI spec and NOTES.md).

The one place each Amigo fact is written: the configuration model, the client and
the capabilities all read it from here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from webhookctl.capabilities import Capabilities

PRODUCTION_URL = "https://api.amigo.ai"
MAX_DESTINATIONS = 10

WebhookType = Literal[
    "conversation-post-processing-complete",
    "api-key-expiration-soon",
    "agent-framework-resource-updated",
]
WEBHOOK_TYPES: tuple[str, ...] = WebhookType.__args__  # type: ignore[attr-defined]

RETRY_ATTEMPTS_DEFAULT = 3
RETRY_ATTEMPTS_MAX = 5

CAPABILITIES = Capabilities(
    vendor="amigo",
    updatable_fields=frozenset({"accepted_types", "retry_attempts"}),
    replace_fields=frozenset({"url"}),
    set_fields=frozenset({"accepted_types"}),
    max_destinations=MAX_DESTINATIONS,
    secret_readable=False,
    can_rotate=True,
    rotation_min_interval=timedelta(hours=1),
    dual_signing_window=timedelta(minutes=30),
    server_side_delivery_filters=True,
)
