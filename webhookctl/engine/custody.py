"""Custody of an issued secret: journaled first, then the backend, checked, then marked stored.

Used by apply right after a create or rotate answer, and by recovery for whatever a
killed run left in the journal. Every step is idempotent, so finishing the same
entry twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from webhookctl import failpoints
from webhookctl.errors import DamagedRecordError, SecretsError
from webhookctl.secret import Secret
from webhookctl.secrets.base import SecretsBackend
from webhookctl.secrets.journal import Journal, JournalEntry
from webhookctl.secrets.record import SecretRecord, SecretVersion


def record_for(entry: JournalEntry, secret: Secret, existing: SecretRecord | None, vendor: str,
               protected: bool) -> SecretRecord:
    """The record once `entry`'s secret is stored, keeping the old secret as previous after a rotation."""
    assert entry.name is not None and entry.destination_id is not None
    current = SecretVersion.of(secret, issued_at=entry.issued_at)
    previous = None
    same = existing is not None and existing.destination_id == entry.destination_id
    if entry.secret_kind == "rotate" and existing is not None and existing.current is not None and same:
        previous = replace(existing.current, valid_until=entry.dual_signing_stops_at, generated_at=None,
                           issued_at=None)
    return SecretRecord(
        provider=entry.provider, name=entry.name, vendor=vendor, scope=entry.account,
        destination_id=entry.destination_id, url=entry.url, current=current, previous=previous,
        last_rotated_at=entry.issued_at if entry.secret_kind == "rotate" else
        (existing.last_rotated_at if existing is not None and same else None),
        updated_at=entry.issued_at, protected=protected,
    )


def _readable(read: Callable[[], SecretRecord | None]) -> SecretRecord | None:
    """A record to build on, or None when it is damaged: storing the new secret is its repair.

    A record something else wrote is never overwritten (ForeignEntryError goes up), and a backend that
    fails goes up too (the secret stays escrowed): taken for no record, it would drop `previous`.
    """
    try:
        return read()
    except (DamagedRecordError, ValueError, KeyError, TypeError):
        return None


def store(entry: JournalEntry, backend: SecretsBackend, journal: Journal, vendor: str, protected: bool,
          now: datetime, mark: bool = True) -> JournalEntry:
    """Write the entry's secret to the backend, read it back, and record that it is stored.

    `mark=False` when the caller finishes the entry next: then the 'stored' stage is not written
    (the secret stays escrowed until the entry is finished, which removes it).
    """
    assert entry.name is not None and entry.secret is not None
    secret = entry.secret
    provider, name = entry.provider, entry.name
    existing = _readable(lambda: backend.read(provider, name))
    meta = _readable(lambda: backend.read_metadata(provider, name))
    # Both the record and its metadata (a separate write in some backends) must show the secret.
    already = all(r is not None and r.current is not None and r.current.fingerprint == secret.fingerprint
                  for r in (existing, meta))
    if not already:
        if existing is not None and existing.current is not None \
                and existing.current.fingerprint == secret.fingerprint:
            record = existing  # the record landed and its metadata did not: write both again
        else:
            record = record_for(entry, secret, existing, vendor, protected)
        backend.write(replace(record, updated_at=now, protected=protected))
        stored = backend.read(entry.provider, entry.name)
        meta = backend.read_metadata(entry.provider, entry.name)
        if any(r is None or r.current is None or r.current.fingerprint != secret.fingerprint
               for r in (stored, meta)):
            raise SecretsError(
                f"{backend.key_for(entry.provider, entry.name)}: the backend did not return the secret just "
                "written; it stays in the journal"
            )
    failpoints.hit("after-backend-write")
    return journal.advance(entry, stage="stored", secret=None) if mark else entry
