"""What a plan is built from: one account's live destinations and backend metadata."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webhookctl.model import Capabilities, LiveDestination
from webhookctl.secrets.record import SecretRecord


def normalized(fields: dict[str, Any], set_fields: frozenset[str]) -> dict[str, Any]:
    return {k: sorted(v) if k in set_fields and isinstance(v, list) else v for k, v in fields.items()}


@dataclass(frozen=True)
class Snapshot:
    provider: str
    type: str
    scope: str
    capabilities: Capabilities
    live: list[LiveDestination]
    records: list[SecretRecord]  # metadata only
    pending_escrow: frozenset[str] = field(default_factory=frozenset)
    vendor_now: datetime | None = None

    def fingerprint(self) -> str:
        """Changes whenever anything a plan depends on changes (never reveals a secret)."""
        live = sorted(
            (
                d.id,
                d.url,
                normalized(d.fields, self.capabilities.set_fields),
                d.secret_generated_at.isoformat() if d.secret_generated_at else None,
                d.secret.fingerprint if d.secret else None,
            )
            for d in self.live
        )
        records = sorted(
            (
                r.name,
                r.destination_id,
                r.current.fingerprint if r.current else None,
                r.current.generated_at.isoformat() if r.current and r.current.generated_at else None,
                r.previous.fingerprint if r.previous else None,
            )
            for r in self.records
        )
        canonical = json.dumps({"live": live, "records": records}, sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
