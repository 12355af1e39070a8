"""What a plan is built from: one account's live destinations and backend metadata."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webhookctl.capabilities import Capabilities
from webhookctl.model import LiveDestination
from webhookctl.secrets.journal import JournalEntry
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
    # Unfinished operations of this provider in the journal (apply finishes them before planning).
    pending: tuple[JournalEntry, ...] = ()
    # Live destinations another provider's record or unfinished operation names: never this one's to delete
    # (two providers reaching one team with two tokens look like two accounts). Looked up for `unmanaged:
    # delete` only.
    owned_elsewhere: frozenset[str] = frozenset()
    vendor_now: datetime | None = None
    # Records whose full read disagrees with their metadata, by name -> what is wrong (apply and drift check).
    damaged: dict[str, str] = field(default_factory=dict)
    # Names whose record key holds an entry webhookctl did not write -> why (it is never overwritten).
    foreign: dict[str, str] = field(default_factory=dict)

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
        pending = sorted((e.id, e.stage) for e in self.pending)
        canonical = json.dumps({"live": live, "records": records, "pending": pending}, sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
