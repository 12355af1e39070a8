"""Every number the Amigo emulator plays by; defaults from the spec and NOTES.md."""

from __future__ import annotations

from dataclasses import dataclass, field

WEBHOOK_TYPES = (
    "conversation-post-processing-complete",
    "api-key-expiration-soon",
    "agent-framework-resource-updated",
)

ALL_PERMISSIONS = (
    "Webhook:CreateWebhookDestination",
    "Webhook:GetWebhookDestination",
    "Webhook:UpdateWebhookDestination",
    "Webhook:DeleteWebhookDestination",
    "Webhook:GetWebhookDeliveries",
)


def _default_limits() -> dict[str, int]:
    # Per organisation and endpoint, per window (A3, A4).
    return {
        "signin": 5,
        "create": 20,
        "list": 20,
        "update": 20,
        "delete": 20,
        "rotate": 20,
        "deliveries": 5,
    }


@dataclass
class AmigoSettings:
    max_destinations: int = 10
    token_ttl_seconds: float = 3600.0
    rate_limits: dict[str, int] = field(default_factory=_default_limits)
    rate_window_seconds: float = 60.0
    rotation_min_interval_seconds: float = 3600.0
    dual_signing_seconds: float = 1800.0
    # A6: 5 s, 10 s, 20 s, 20 s; the fifth interval for retry_attempts=5 is our default.
    retry_schedule_seconds: tuple[float, ...] = (5.0, 10.0, 20.0, 20.0, 20.0)
    # Multiplies every delivery wait, so tests can run the schedule in milliseconds.
    time_scale: float = 1.0
    delivery_timeout_seconds: float = 10.0
    # How two signatures travel during dual signing is undocumented (NOTES.md A6).
    signature_separator: str = ","
    # Deliveries go only to loopback addresses unless this is set.
    deliver_anywhere: bool = False
    # Call https:// destination URLs over plain http (test receivers).
    deliver_plain_http: bool = False
    control: bool = False
