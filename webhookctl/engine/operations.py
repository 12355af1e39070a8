"""Each plan action, carried out: one function per action, dispatched through `OPERATIONS`.

Every vendor write that is not idempotent is journaled first (intent), and each
step after it is recorded as it happens (`webhookctl.secrets.journal`), so that a
run killed at any point is finished by the next one (`engine.recover`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from webhookctl import failpoints
from webhookctl.engine.custody import store
from webhookctl.engine.plan import Action, Change
from webhookctl.errors import ProviderError, TransportError
from webhookctl.model import Issued
from webhookctl.secrets.journal import JournalEntry, Operation
from webhookctl.secrets.record import SecretRecord, SecretVersion
from webhookctl.session import Session
from webhookctl.vendors.contract import Provider

T = TypeVar("T")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """What an operation works with: one account's client, the backend and the journal."""

    session: Session
    provider: Provider

    @property
    def account(self) -> str:
        return self.session.config.account_of(self.provider.name)

    @property
    def vendor(self) -> str:
        return self.session.config.vendor_type(self.provider.name)

    def protected(self, name: str | None) -> bool:
        wanted = self.session.config.destination(name) if name else None
        return wanted.protect if wanted is not None else False

    # Journal writes fsync: on the session's I/O threads, so they never hold up other accounts' requests.
    async def begin(self, op: Operation, change: Change, **fields: Any) -> JournalEntry:
        return await self.session.io(self.session.journal.begin, JournalEntry(
            provider=change.provider, account=self.account, op=op, name=change.name, url=change.url,
            started_at=self.provider.vendor_now(), **fields))

    async def advance(self, entry: JournalEntry, **changes: Any) -> JournalEntry:
        return await self.session.io(functools.partial(self.session.journal.advance, entry, **changes))

    async def finish(self, entry: JournalEntry) -> None:
        await self.session.io(self.session.journal.finish, entry)

    async def take_custody(self, entry: JournalEntry, issued: Issued, kind: str, last: bool = False) -> JournalEntry:
        """Journal the issued secret (the escrow), then store it in the backend, read it back and check it.

        `last`: nothing follows but finishing the entry, so it is finished here and the 'stored' stage
        is not written first (one atomic write, two fsyncs, fewer per secret); a run killed between
        the two finds the entry at 'issued' and stores the secret again, which is idempotent.
        """
        session, issued_at, protected = self.session, self.provider.vendor_now(), self.protected(entry.name)

        def custody() -> JournalEntry:
            # Escrow, store, check (and finish): in order, in one trip to the I/O threads.
            escrowed = session.journal.advance(
                entry, stage="issued", destination_id=issued.destination_id, secret=issued.secret,
                secret_kind=kind, issued_at=issued_at, dual_signing_stops_at=issued.dual_signing_stops_at)
            failpoints.hit("after-escrow-write")
            stored = store(escrowed, session.backend, session.journal, self.vendor, protected, now(), not last)
            if last:
                session.journal.finish(stored)
            return stored

        return await session.io(custody)


def _fields(change: Change) -> dict[str, Any]:
    return {k: v for k, v in (change.after or {}).items() if k != "url"}


async def answered(ctx: Context, entry: JournalEntry, call: Awaitable[T]) -> T:
    """A vendor write whose refusal is definite: then nothing happened, and the entry is finished.

    Without an answer (a TransportError) the vendor may have acted: the entry stays for recovery.
    """
    try:
        return await call
    except TransportError:
        raise
    except ProviderError:
        await ctx.finish(entry)
        raise


async def make(ctx: Context, change: Change, entry: JournalEntry, last: bool = False) -> JournalEntry:
    """Create the destination of a journaled create or replace and take custody of its secret."""
    issued = await answered(ctx, entry, ctx.provider.create(change.url, _fields(change)))
    failpoints.hit("after-create-response")
    if issued.secret is None:
        # The create landed but its answer was lost; a rotation issues a secret we can keep.
        entry = await ctx.advance(entry, destination_id=issued.destination_id)
        issued = await ctx.provider.rotate(issued.destination_id)
        failpoints.hit("after-rotate-response")
        return await ctx.take_custody(entry, issued, "rotate", last)
    return await ctx.take_custody(entry, issued, "create", last)


async def create(ctx: Context, change: Change) -> str:
    entry = await ctx.begin("create", change, fields=_fields(change))
    failpoints.hit("after-intent")
    await make(ctx, change, entry, last=True)  # finishes the entry
    return ""


async def replace(ctx: Context, change: Change) -> str:
    assert change.destination_id
    op: Operation = "repair" if change.action == "repair-secret" else "replace"
    entry = await ctx.begin(op, change, fields=_fields(change), retires=change.destination_id)
    failpoints.hit("after-intent")
    if change.order == "delete-before-create":
        await answered(ctx, entry, ctx.provider.delete(change.destination_id))
        entry = await ctx.advance(entry, retired=True)
        failpoints.hit("after-retire")
        await make(ctx, change, entry, last=True)  # finishes the entry
        return ""
    entry = await make(ctx, change, entry)
    failpoints.hit("before-retire")
    await ctx.provider.delete(change.destination_id)
    await ctx.finish(entry)
    return ""


async def rotate(ctx: Context, change: Change) -> str:
    assert change.destination_id
    entry = await ctx.begin("rotate", change, destination_id=change.destination_id)
    issued = await answered(ctx, entry, ctx.provider.rotate(change.destination_id))
    failpoints.hit("after-rotate-response")
    await ctx.take_custody(entry, issued, "rotate", last=True)  # finishes the entry
    return ""


async def delete(ctx: Context, change: Change) -> str:
    assert change.destination_id
    entry = await ctx.begin("delete", change, destination_id=change.destination_id)
    await answered(ctx, entry, ctx.provider.delete(change.destination_id))
    failpoints.hit("after-delete-response")
    detail = ""
    if change.name and ctx.session.config.secrets.on_delete == "delete":
        await ctx.session.io(ctx.session.backend.delete, change.provider, change.name)
        detail = "its secret was deleted from the backend (on_delete: delete)"
    await ctx.finish(entry)
    return detail


async def update(ctx: Context, change: Change) -> str:
    assert change.destination_id
    await ctx.provider.update(change.destination_id, {d.field: d.after for d in change.diff})
    return ""


async def adopt(ctx: Context, change: Change) -> str:
    assert change.destination_id and change.name
    if change.diff:
        await ctx.provider.update(change.destination_id, {d.field: d.after for d in change.diff})
    await ctx.session.io(bind, ctx, change.name, change.destination_id, change.url, change.carry_from)
    return ""


def bind(ctx: Context, name: str, destination_id: str, url: str, carry_from: str | None = None) -> None:
    """Record that `name` is `destination_id` (keeping a secret carried over from a renamed record)."""
    backend, provider = ctx.session.backend, ctx.provider.name
    current = None
    if carry_from:
        old = backend.read(provider, carry_from)
        if old is not None and old.destination_id == destination_id:
            current = old.current
    existing = backend.read(provider, name)
    backend.write(SecretRecord(
        provider=provider, name=name, vendor=ctx.vendor, scope=ctx.account, destination_id=destination_id, url=url,
        current=current,
        previous=existing.previous if existing and existing.destination_id == destination_id else None,
        updated_at=now(), protected=ctx.protected(name),
    ))
    if carry_from:
        backend.delete(provider, carry_from)


async def write_live(ctx: Context, change: Change) -> str:
    assert change.name
    live = next((d for d in await ctx.provider.list() if d.id == change.destination_id), None)
    if live is None or live.secret is None:
        raise ProviderError("the destination or its secret is no longer readable")
    backend = ctx.session.backend
    existing = await ctx.session.io(backend.read, change.provider, change.name)
    await ctx.session.io(backend.write, SecretRecord(
        provider=change.provider, name=change.name, vendor=ctx.vendor, scope=ctx.account,
        destination_id=live.id, url=live.url,
        current=SecretVersion.of(live.secret, generated_at=live.secret_generated_at, issued_at=now()),
        previous=existing.previous if existing and existing.destination_id == live.id else None,
        updated_at=now(), protected=ctx.protected(change.name),
    ))
    return ""


async def repair_secret(ctx: Context, change: Change) -> str:
    source = change.secret_source
    if source == "replace":
        return await replace(ctx, change)
    if source == "write-live":
        return await write_live(ctx, change)
    return await rotate(ctx, change)


Operation_ = Callable[[Context, Change], Awaitable[str]]
OPERATIONS: dict[Action, Operation_] = {
    "create": create,
    "update": update,
    "replace": replace,
    "delete": delete,
    "adopt": adopt,
    "repair-secret": repair_secret,
    "rotate": rotate,
}
