"""Finish what an interrupted run left in the journal, before anything is planned.

For each unfinished entry (see `webhookctl.secrets.journal`):
- a secret that was issued is stored (custody completed);
- a create or replace whose answer never came is looked for: destinations at its
  URL that appeared after the intent and that no record binds are webhookctl's own
  (the account was locked): the first is adopted, the rest deleted;
- a replace whose new destination exists retires the old one;
- a delete is sent again (deleting what is gone succeeds);
- a rotation whose answer was lost cannot be recovered (the secret was shown once):
  the entry is closed and the planner reports the lost secret until the next
  allowed rotation repairs it.
An entry leaves the journal only when all of this is done.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from webhookctl.config.urls import canonical_url
from webhookctl.engine.custody import store
from webhookctl.engine.operations import Context, bind, now
from webhookctl.errors import WebhookctlError
from webhookctl.model import Issued, LiveDestination
from webhookctl.secrets.journal import JournalEntry
from webhookctl.secrets.record import SecretRecord
from webhookctl.session import Session

# After an interrupted create, how long to wait before each look for what it may have made.
RECHECK_DELAYS = (0.5, 1.0, 2.0, 4.0)
# The intent is stamped with the vendor's clock as its last whole-second Date header showed it.
CLOCK_SLACK = timedelta(seconds=2)


@dataclass(frozen=True)
class Recovered:
    provider: str
    name: str | None
    op: str
    done: str = ""
    error: str | None = None


async def recover(session: Session, providers: list[str]) -> list[Recovered]:
    """Finish every journal entry of these providers; one failing entry does not stop the others."""
    results = []
    for entry in session.journal.entries():
        if entry.provider not in providers:
            continue
        if entry.provider not in session.config.providers:
            results.append(Recovered(entry.provider, entry.name, entry.op,
                                     error="its provider is no longer configured; the entry stays in the journal "
                                           f"(drop it with 'webhookctl recover --drop {entry.id}')"))
            continue
        ctx = Context(session, session.provider(entry.provider))
        try:
            done = await finish_entry(ctx, entry)
        except WebhookctlError as error:
            results.append(Recovered(entry.provider, entry.name, entry.op, error=str(error)))
        else:
            results.append(Recovered(entry.provider, entry.name, entry.op, done))
    return results


def _appeared_after(live: LiveDestination, entry: JournalEntry) -> bool:
    if live.secret_generated_at is None:
        return True  # the vendor does not date secrets: unbound at the URL is all there is to go by
    return live.secret_generated_at >= entry.started_at - CLOCK_SLACK


async def finish_entry(ctx: Context, entry: JournalEntry) -> str:
    journal, backend = ctx.session.journal, ctx.session.backend
    done: list[str] = []
    if entry.stage == "issued":
        entry = await ctx.session.io(store, entry, backend, journal, ctx.vendor, ctx.protected(entry.name), now())
        done.append("stored its secret")
    if entry.op == "delete":
        assert entry.destination_id
        await ctx.provider.delete(entry.destination_id)
        done.append("deleted the destination")
    elif entry.op == "rotate":
        if entry.stage == "intent" and await _note_lost_rotation(ctx, entry):
            done.append("its rotation's answer was lost; the plan reports the secret until it is repaired")
    else:
        made = await _settle_create(ctx, entry, done)
        if entry.retires and not entry.retired and made:
            await ctx.provider.delete(entry.retires)
            done.append(f"retired the old destination {entry.retires}")
    await ctx.session.io(journal.finish, entry)
    return "; ".join(done) or "nothing had happened yet"


async def _note_lost_rotation(ctx: Context, entry: JournalEntry) -> bool:
    """Whether the rotation of `entry` happened (its answer lost); if so, its record remembers when.

    The vendor allows one rotation an hour: the planner must know this one happened to block the
    repair until the next is allowed, even where the record holds no secret to compare.
    """
    live = next((d for d in await ctx.provider.list() if d.id == entry.destination_id), None)
    if live is None or live.secret_generated_at is None or live.secret_generated_at < entry.started_at - CLOCK_SLACK:
        return False
    assert entry.name is not None
    backend, provider, name = ctx.session.backend, ctx.provider.name, entry.name
    meta = await ctx.session.io(backend.read_metadata, provider, name)
    if meta is not None and meta.destination_id == live.id and meta.last_rotated_at != live.secret_generated_at:
        await ctx.session.io(backend.update_metadata, replace(meta, last_rotated_at=live.secret_generated_at,
                                                              updated_at=now()))
    return True


def _horizon(ctx: Context, entry: JournalEntry) -> datetime:
    """Until when a vendor may still act on the entry's request (an answer we stopped waiting for)."""
    return entry.started_at + timedelta(seconds=2 * ctx.session.config.settings.request_timeout) + CLOCK_SLACK


async def _settle_create(ctx: Context, entry: JournalEntry, done: list[str]) -> bool:
    """Whether the create of `entry` landed. Adopts what it made if its answer was lost, and deletes
    what else it made at the URL (the extras).

    The account is locked, so an unbound destination at the URL that appeared after the intent is
    this entry's. A recent create that has not appeared may still be under way at the vendor (an
    answer given up on): it is looked for again a few times before it is taken as never made. One
    that lands later still is a duplicate the plan reports (blocked, with what to do), never silence.
    """
    for delay in (0.0, *RECHECK_DELAYS):
        await asyncio.sleep(delay)
        live = await ctx.provider.list()
        records = await ctx.session.io(ctx.session.backend.list_metadata, ctx.provider.name)
        found = _made(entry, live, records)
        if found is not None or ctx.provider.vendor_now() > _horizon(ctx, entry):
            break
    if found is None:
        done.append("what it would have made never appeared")
        return False
    keep, extras, adopt = found
    if adopt:
        assert entry.name is not None
        if keep.secret is not None:
            await ctx.take_custody(entry, Issued(destination_id=keep.id, secret=keep.secret), "create")
            done.append(f"adopted destination {keep.id} that it had made")
        else:
            await ctx.session.io(bind, ctx, entry.name, keep.id, entry.url)
            done.append(f"adopted destination {keep.id} that it had made (its secret is repaired by rotation)")
    for extra in extras:
        await ctx.provider.delete(extra.id)
        done.append(f"deleted the duplicate {extra.id} that it had made")
    return True


def _made(entry: JournalEntry, live: list[LiveDestination], records: list[SecretRecord]) \
        -> tuple[LiveDestination, list[LiveDestination], bool] | None:
    """(the destination the entry's name keeps, the extras it made, whether the kept one needs adopting),
    or None when nothing of the entry's is live (yet)."""
    by_id = {d.id: d for d in live}
    bound = {r.destination_id for r in records}
    # Compared canonically (config/urls.py): a vendor may list the URL it was given in another spelling.
    url = canonical_url(entry.url)
    candidates = [d for d in live if canonical_url(d.url) == url and d.id not in bound and d.id != entry.retires
                  and _appeared_after(d, entry)]
    own = next((r for r in records if r.name == entry.name), None)
    kept = by_id.get(entry.destination_id) if entry.stage == "stored" and entry.destination_id else None
    if kept is None and own is not None and own.destination_id in by_id \
            and canonical_url(by_id[own.destination_id].url) == url and own.destination_id != entry.retires:
        kept = by_id[own.destination_id]  # a later run made and bound it: what this entry made is extra
    if kept is not None:
        return kept, [d for d in candidates if d.id != kept.id], False
    if candidates:
        return candidates[0], candidates[1:], True
    return None
