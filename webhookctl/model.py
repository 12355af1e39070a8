"""The shared model every provider translates its vendor's wire format into.

`Secret` and `Capabilities` live in modules of their own (`secret.py`, `capabilities.py`), so that
`validate`, which needs them, does not define this module's dataclasses; they are re-exported here,
where vendor packages outside this repository import them from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webhookctl.capabilities import Capabilities
from webhookctl.secret import Secret, fingerprint, witness_secrets

__all__ = ["Capabilities", "Delivery", "Issued", "LiveDestination", "Secret", "fingerprint", "witness_secrets"]


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
class Delivery:
    id: str
    type: str
    status: str
    created_at: datetime
    attempts: int
    last_status_code: int | None
    dual_signed: bool | None = None
