"""Each plan action, carried out: one function per action, dispatched through `OPERATIONS`.

Every vendor write that is not idempotent is journaled first (intent), and each
step after it is recorded as it happens (`webhookctl.secrets.journal`), so that a
run killed at any point is finished by the next one (`engine.recover`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from webhookctl import failpoints
from webhookctl.engine.custody import store
from webhookctl.engine.plan import Action, Change
from webhookctl.errors import ProviderError
from webhookctl.model import Issued
from webhookctl.secrets.journal import JournalEntry, Operation
from webhookctl.secrets.record import SecretRecord, SecretVersion
from webhookctl.session import Session
from webhookctl.vendors.contract import Provider


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

    def begin(self, op: Operation, change: Change, **fields: Any) -> JournalEntry:
        return self.session.journal.begin(JournalEntry(
            provider=change.provider, account=self.account, op=op, name=change.name, url=change.url,
            started_at=self.provider.vendor_now(), **fields))

    async def take_custody(self, entry: JournalEntry, issued: Issued, kind: str) -> JournalEntry:
        """Journal the issued secret (the escrow), then store it in the backend."""
        entry = self.session.journal.advance(
            entry, stage="issued", destination_id=issued.destination_id, secret=issued.secret, secret_kind=kind,
            issued_at=self.provider.vendor_now(), dual_signing_stops_at=issued.dual_signing_stops_at)
        failpoints.hit("after-escrow-write")
        # Off the event loop: fsyncs here must not hold up the other accounts' requests.
        return await asyncio.to_thread(store, entry, self.session.backend, self.session.journal, self.vendor,
                                       self.protected(entry.name), now())


def _fields(change: Change) -> dict[str, Any]:
    return {k: v for k, v in (change.after or {}).items() if k != "url"}


async def make(ctx: Context, change: Change, entry: JournalEntry) -> JournalEntry:
    """Create the destination of a journaled create or replace and take custody of its secret."""
    issued = await ctx.provider.create(change.url, _fields(change))
    failpoints.hit("after-create-response")
    if issued.secret is None:
        # The create landed but its answer was lost; a rotation issues a secret we can keep.
        entry = ctx.session.journal.advance(entry, destination_id=issued.destination_id)
        issued = await ctx.provider.rotate(issued.destination_id)
        failpoints.hit("after-rotate-response")
        return await ctx.take_custody(entry, issued, "rotate")
    return await ctx.take_custody(entry, issued, "create")


async def create(ctx: Context, change: Change) -> str:
    entry = ctx.begin("create", change, fields=_fields(change))
    failpoints.hit("after-intent")
    entry = await make(ctx, change, entry)
    ctx.session.journal.finish(entry)
    return ""


async def replace(ctx: Context, change: Change) -> str:
    assert change.destination_id
    op: Operation = "repair" if change.action == "repair-secret" else "replace"
    entry = ctx.begin(op, change, fields=_fields(change), retires=change.destination_id)
    failpoints.hit("after-intent")
    if change.order == "delete-before-create":
        await ctx.provider.delete(change.destination_id)
        entry = ctx.session.journal.advance(entry, retired=True)
        failpoints.hit("after-retire")
        entry = await make(ctx, change, entry)
    else:
        entry = await make(ctx, change, entry)
        failpoints.hit("before-retire")
        await ctx.provider.delete(change.destination_id)
    ctx.session.journal.finish(entry)
    return ""


async def rotate(ctx: Context, change: Change) -> str:
    assert change.destination_id
    entry = ctx.begin("rotate", change, destination_id=change.destination_id)
    issued = await ctx.provider.rotate(change.destination_id)
    failpoints.hit("after-rotate-response")
    entry = await ctx.take_custody(entry, issued, "rotate")
    ctx.session.journal.finish(entry)
    return ""


async def delete(ctx: Context, change: Change) -> str:
    assert change.destination_id
    entry = ctx.begin("delete", change, destination_id=change.destination_id)
    await ctx.provider.delete(change.destination_id)
    failpoints.hit("after-delete-response")
    detail = ""
    if change.name and ctx.session.config.secrets.on_delete == "delete":
        await asyncio.to_thread(ctx.session.backend.delete, change.provider, change.name)
        detail = "its secret was deleted from the backend (on_delete: delete)"
    ctx.session.journal.finish(entry)
    return detail


async def update(ctx: Context, change: Change) -> str:
    assert change.destination_id
    await ctx.provider.update(change.destination_id, {d.field: d.after for d in change.diff})
    return ""


async def adopt(ctx: Context, change: Change) -> str:
    assert change.destination_id and change.name
    if change.diff:
        await ctx.provider.update(change.destination_id, {d.field: d.after for d in change.diff})
    await asyncio.to_thread(bind, ctx, change.name, change.destination_id, change.url, change.carry_from)
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
    existing = await asyncio.to_thread(backend.read, change.provider, change.name)
    await asyncio.to_thread(backend.write, SecretRecord(
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
