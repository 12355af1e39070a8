"""Custody of an issued secret: escrow first, then the backend, checked, then escrow cleared.

Used by apply right after a create or rotate response, and by recovery for
whatever a killed run left in escrow. Every step is idempotent, so finishing
the same entry twice is harmless.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from webhookctl import failpoints
from webhookctl.errors import SecretsError
from webhookctl.secrets.base import SecretsBackend
from webhookctl.secrets.escrow import Escrow, EscrowEntry
from webhookctl.secrets.record import SecretRecord, SecretVersion


def record_for(entry: EscrowEntry, existing: SecretRecord | None, vendor: str, scope: str) -> SecretRecord:
    """The record once `entry` is stored, keeping the old secret as previous after a rotation."""
    current = SecretVersion.of(entry.secret, issued_at=entry.issued_at)
    previous = None
    if entry.kind == "rotate" and existing is not None and existing.current is not None \
            and existing.destination_id == entry.destination_id:
        previous = replace(existing.current, valid_until=entry.dual_signing_stops_at, generated_at=None,
                           issued_at=None)
    return SecretRecord(
        provider=entry.provider, name=entry.name, vendor=vendor, scope=scope,
        destination_id=entry.destination_id, url=entry.url, current=current, previous=previous,
        last_rotated_at=entry.issued_at if entry.kind == "rotate" else
        (existing.last_rotated_at if existing and existing.destination_id == entry.destination_id else None),
        updated_at=entry.issued_at,
    )


def finish(entry: EscrowEntry, backend: SecretsBackend, escrow: Escrow, vendor: str, scope: str,
           now: datetime) -> None:
    existing = backend.read(entry.provider, entry.name)
    meta = backend.read_metadata(entry.provider, entry.name)
    # Both the record and its metadata (a separate write in some backends) must show the secret.
    already = all(r is not None and r.current is not None and r.current.fingerprint == entry.secret.fingerprint
                  for r in (existing, meta))
    if not already:
        if existing is not None and existing.current is not None \
                and existing.current.fingerprint == entry.secret.fingerprint:
            record = existing  # the record landed and its metadata did not: write both again
        else:
            record = record_for(entry, existing, vendor, scope)
        record = replace(record, updated_at=now)
        backend.write(record)
        stored = backend.read(entry.provider, entry.name)
        meta = backend.read_metadata(entry.provider, entry.name)
        if any(r is None or r.current is None or r.current.fingerprint != entry.secret.fingerprint
               for r in (stored, meta)):
            raise SecretsError(
                f"{backend.key_for(entry.provider, entry.name)}: the backend did not return the secret just "
                "written; it stays in escrow"
            )
    failpoints.hit("after-backend-write")
    escrow.remove(entry)


def take_custody(entry: EscrowEntry, backend: SecretsBackend, escrow: Escrow, vendor: str, scope: str) -> None:
    """Escrow the entry, then store it; a failure past escrow leaves it there for recovery."""
    stored = escrow.put(entry)
    failpoints.hit("after-escrow-write")
    finish(stored, backend, escrow, vendor, scope, entry.issued_at)
