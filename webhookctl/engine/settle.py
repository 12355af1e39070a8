"""After an account's changes: read it again, tidy its records, and judge the whole account.

Invariant: after apply, every declared destination (of the names the run was
asked for) exists once, bound to one name, with the declared fields and its
secret in custody; no live destination is bound twice; no duplicate remains.
Anything else is an error of this run, even for names its plan did not touch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from webhookctl.engine.account import PlanOptions
from webhookctl.engine.planner import plan_one
from webhookctl.errors import PlanError, SecretsError
from webhookctl.secrets.base import SecretsBackend
from webhookctl.secrets.record import SecretRecord
from webhookctl.session import Session
from webhookctl.snapshot import Snapshot

Blocked = tuple[str, str | None, str | None]  # (kind, name, destination id) of a plan's blocked item


async def settle(session: Session, name: str, targets: frozenset[str], tolerate: frozenset[str],
                 known: frozenset[Blocked] = frozenset(), checked: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """(errors, notes) for provider `name` once its changes are done; `known` blocked items are not errors
    again (the plan reported them); `checked` records were read back by their custody in this run."""
    snapshot = await session.snapshot(name, check_records=True, checked=checked)

    def tidy() -> tuple[list[str], list[SecretRecord] | None]:
        # Housekeeping, then the records as they now are: in one trip to the I/O threads.
        notes, wrote = housekeep(session, snapshot)
        return notes, session.backend.list_metadata(name) if wrote else None

    notes, records = await session.io(tidy)
    if records is not None:
        snapshot = replace(snapshot, records=records)
    errors = [f"{name}: after apply, {error}" for error in judge(session, snapshot, targets, tolerate, known)]
    return errors, notes


def judge(session: Session, snapshot: Snapshot, targets: frozenset[str], tolerate: frozenset[str],
          known: frozenset[Blocked] = frozenset()) -> list[str]:
    try:
        again = plan_one(session.config, snapshot, datetime.now(UTC), PlanOptions(targets=targets))
    except PlanError as error:
        return [f"the account does not match the configuration: {error}"]
    errors = [f"{b.kind} {b.provider}/{b.name or b.destination_id}: {b.reason}" for b in again.blocked
              if (b.kind, b.name, b.destination_id) not in known]
    live = {d.id for d in snapshot.live}
    twice = [i for i, n in Counter(r.destination_id for r in snapshot.records if r.destination_id in live).items()
             if n > 1]
    errors += [f"destination {i} is bound to more than one name" for i in twice]
    # A policy rotation can only be due again if time passed, so it is not a failure.
    errors += [f"{c.action} {c.name or c.url} is still needed ({c.reason})"
               for c in again.changes if c.action not in tolerate | {"rotate"}]
    return errors


def housekeep(session: Session, snapshot: Snapshot) -> tuple[list[str], bool]:
    """Stamp vendor times, keep `protected` in step, drop ended previous secrets; says whether it wrote."""
    backend, name, notes, wrote = session.backend, snapshot.provider, [], False
    now = snapshot.vendor_now or datetime.now(UTC)
    generated = {d.id: d.secret_generated_at for d in snapshot.live}
    stamps: list[SecretRecord] = []
    for meta in snapshot.records:
        wanted = session.config.destination(meta.name)
        protect = wanted.protect if wanted is not None and wanted.provider == name else meta.protected
        stamp = generated.get(meta.destination_id)
        needs_stamp = meta.current is not None and meta.current.generated_at is None and stamp is not None
        expired = meta.previous is not None and meta.previous.valid_until is not None \
            and meta.previous.valid_until <= now
        try:
            if expired:
                record = backend.read(name, meta.name)
                if record is None:
                    continue
                if needs_stamp and record.current is not None:
                    record = replace(record, current=replace(record.current, generated_at=stamp))
                backend.write(replace(record, previous=None, updated_at=now, protected=protect))
                notes.append(f"{name}/{meta.name}: dropped the previous secret (its dual-signing window ended)")
                wrote = True
            elif (needs_stamp or meta.protected != protect) and meta.destination_id in generated:
                current = replace(meta.current, generated_at=stamp) if needs_stamp and meta.current else meta.current
                stamps.append(replace(meta, current=current, updated_at=now, protected=protect))
        except SecretsError as error:
            notes.append(f"{name}/{meta.name}: could not update the record: {error}")
    return notes, _stamp(backend, stamps, notes) or wrote


def _stamp(backend: SecretsBackend, stamps: list[SecretRecord], notes: list[str]) -> bool:
    """Write the metadata-only updates: together where the backend can (after an apply that created N
    destinations there are N), else, or when the batch fails, one by one so each failure is named."""
    if not stamps:
        return False
    batch = getattr(backend, "update_metadata_all", None)
    if batch is not None:
        try:
            batch(stamps)
            return True
        except SecretsError:
            pass  # one by one below: each record's own error, or the ones that can be written
    wrote = False
    for record in stamps:
        try:
            backend.update_metadata(record)
            wrote = True
        except SecretsError as error:
            notes.append(f"{record.provider}/{record.name}: could not update the record: {error}")
    return wrote
