"""Carry out a plan: account by account, change by change, secrets in custody.

A failed operation stops what depends on it (the rest of its account), never
another account. Afterwards each account is read again and re-planned; anything
still differing is reported as an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from webhookctl import failpoints
from webhookctl.engine.custody import take_custody
from webhookctl.engine.plan import Change, Plan
from webhookctl.engine.planner import PlanOptions, build_plan
from webhookctl.errors import PlanError, ProviderError, SecretsError, WebhookctlError
from webhookctl.model import Issued, LiveDestination
from webhookctl.secrets.escrow import EscrowEntry
from webhookctl.secrets.record import SecretRecord, SecretVersion
from webhookctl.session import Session
from webhookctl.vendors.contract import Provider

Status = Literal["done", "failed", "skipped"]

@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    detail: str = ""

    @property
    def label(self) -> str:
        return f"{self.change.provider}/{self.change.name or self.change.destination_id}"

    def describe(self) -> str:
        if self.status == "failed":
            return f"{self.change.action} {self.label} failed: {self.detail}"
        if self.status == "skipped":
            return f"{self.change.action} {self.label} skipped: {self.detail}"
        return f"{self.change.action} {self.label} done" + (f" ({self.detail})" if self.detail else "")


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)
    verify_errors: list[str] = field(default_factory=list)
    housekeeping: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status == "done" for o in self.outcomes) and not self.verify_errors


def _now() -> datetime:
    return datetime.now(UTC)


class Applier:
    def __init__(
        self,
        session: Session,
        plan: Plan,
        progress: Callable[[Outcome], None] | None = None,
        tolerate: frozenset[str] = frozenset(),
    ) -> None:
        self.session = session
        self.plan = plan
        self.progress = progress or (lambda outcome: None)
        # Actions that may legitimately remain afterwards (import leaves unknown secrets to repair).
        self.tolerate = tolerate | {"rotate"}

    async def run(self) -> ApplyReport:
        report = ApplyReport()
        names = [state.name for state in self.plan.providers]
        results = await self.session.gather(names, self._account)
        for name in names:
            outcomes, errors, notes = results[name]
            report.outcomes += outcomes
            report.verify_errors += errors
            report.housekeeping += notes
        return report

    async def _account(self, name: str) -> tuple[list[Outcome], list[str], list[str]]:
        outcomes: list[Outcome] = []
        failed = False
        for change in self.plan.for_provider(name):
            if failed:
                outcome = Outcome(change, "skipped", "an earlier operation on this account failed")
            else:
                try:
                    detail = await self._execute(change)
                    outcome = Outcome(change, "done", detail)
                except WebhookctlError as error:
                    failed = True
                    outcome = Outcome(change, "failed", str(error) or type(error).__name__)
            outcomes.append(outcome)
            self.progress(outcome)
        if failed:
            return outcomes, [], []
        errors, notes = await self._settle(name)
        return outcomes, errors, notes

    # -- operations ---------------------------------------------------------------

    def _fields(self, change: Change) -> dict[str, Any]:
        return {k: v for k, v in (change.after or {}).items() if k != "url"}

    async def _execute(self, change: Change) -> str:
        provider = self.session.provider(change.provider)
        action = change.action
        if action == "create":
            await self._create(provider, change)
        elif action == "update":
            assert change.destination_id
            await provider.update(change.destination_id, {d.field: d.after for d in change.diff})
        elif action == "delete":
            assert change.destination_id
            await provider.delete(change.destination_id)
            if change.name and self.session.config.secrets.on_delete == "delete":
                await asyncio.to_thread(self.session.backend.delete, change.provider, change.name)
                return "its secret was deleted from the backend (on_delete: delete)"
        elif action == "replace" or (action == "repair-secret" and change.via == "replace"):
            await self._replace(provider, change)
        elif action == "adopt":
            await self._adopt(provider, change)
        elif action == "repair-secret" and change.via == "write-live":
            await self._write_live(provider, change)
        else:  # rotate, or repair-secret via rotate
            assert change.destination_id
            issued = await provider.rotate(change.destination_id)
            failpoints.hit("after-rotate-response")
            await self._custody(provider, change, issued, "rotate")
        return ""

    async def _create(self, provider: Provider, change: Change) -> None:
        issued = await provider.create(change.url, self._fields(change))
        failpoints.hit("after-create-response")
        if issued.secret is None:
            # The create landed but its answer was lost; a rotation issues a secret we can keep.
            issued = await provider.rotate(issued.destination_id)
            failpoints.hit("after-rotate-response")
            await self._custody(provider, change, issued, "rotate")
            return
        await self._custody(provider, change, issued, "create")

    async def _replace(self, provider: Provider, change: Change) -> None:
        assert change.destination_id
        if change.via == "delete-before-create":
            await provider.delete(change.destination_id)
            await self._create(provider, change)
        else:
            await self._create(provider, change)
            await provider.delete(change.destination_id)

    async def _adopt(self, provider: Provider, change: Change) -> None:
        assert change.destination_id and change.name
        if change.diff:
            await provider.update(change.destination_id, {d.field: d.after for d in change.diff})
        await asyncio.to_thread(self._bind, provider, change)

    def _bind(self, provider: Provider, change: Change) -> None:
        assert change.destination_id and change.name
        backend = self.session.backend
        current = None
        if change.carry_from:
            old = backend.read(change.provider, change.carry_from)
            if old is not None and old.destination_id == change.destination_id:
                current = old.current
        existing = backend.read(change.provider, change.name)
        backend.write(SecretRecord(
            provider=change.provider, name=change.name, vendor=provider.capabilities.vendor, scope=provider.scope,
            destination_id=change.destination_id, url=change.url, current=current,
            previous=existing.previous if existing and existing.destination_id == change.destination_id else None,
            updated_at=_now(),
        ))
        if change.carry_from:
            backend.delete(change.provider, change.carry_from)

    async def _write_live(self, provider: Provider, change: Change) -> None:
        assert change.name
        live = next((d for d in await provider.list() if d.id == change.destination_id), None)
        if live is None or live.secret is None:
            raise ProviderError("the destination or its secret is no longer readable")
        existing = await asyncio.to_thread(self.session.backend.read, change.provider, change.name)
        await asyncio.to_thread(self.session.backend.write, SecretRecord(
            provider=change.provider, name=change.name, vendor=provider.capabilities.vendor, scope=provider.scope,
            destination_id=live.id, url=live.url,
            current=SecretVersion.of(live.secret, generated_at=live.secret_generated_at, issued_at=_now()),
            previous=existing.previous if existing else None, updated_at=_now(),
        ))

    async def _custody(self, provider: Provider, change: Change, issued: Issued, kind: str) -> None:
        assert change.name and issued.secret is not None
        entry = EscrowEntry(
            provider=change.provider, name=change.name, kind=kind, destination_id=issued.destination_id,
            url=change.url, secret=issued.secret, issued_at=provider.vendor_now(),
            dual_signing_stops_at=issued.dual_signing_stops_at,
        )
        # Off the event loop: fsyncs here must not hold up the other accounts' requests.
        await asyncio.to_thread(take_custody, entry, self.session.backend, self.session.escrow,
                                provider.capabilities.vendor, provider.scope)

    # -- after the changes ----------------------------------------------------------

    async def _settle(self, name: str) -> tuple[list[str], list[str]]:
        """Re-read the account: verify it converged, record vendor times, drop ended previous secrets."""
        snapshot = await self.session.snapshot(name)
        notes, wrote = await asyncio.to_thread(self._housekeep, name, snapshot.live, snapshot.records,
                                               self.session.provider(name).vendor_now())
        if wrote:
            snapshot = replace(snapshot, records=await asyncio.to_thread(self.session.backend.list_metadata, name))
        try:
            again = build_plan(self.session.config, [snapshot], snapshot.vendor_now or _now(),
                               PlanOptions(targets=frozenset(self.plan.targets)))
        except PlanError as error:
            return [f"{name}: after apply, the account does not match the configuration: {error}"], notes
        # Judge against what this plan set out to do (a saved plan may predate the configuration);
        # a policy rotation can only be due again if time passed, so it is not a failure.
        planned = self.plan.for_provider(name)
        names = {c.name for c in planned if c.name} | {c.destination_id for c in planned if c.destination_id}
        errors = [
            f"{name}: after apply, {c.action} {c.name or c.url} is still needed ({c.reason})"
            for c in again.changes
            if c.action not in self.tolerate and (c.name in names or c.destination_id in names)
        ]
        return errors, notes

    def _housekeep(self, name: str, live: list[LiveDestination], records: list[SecretRecord],
                   now: datetime) -> tuple[list[str], bool]:
        """Stamp vendor times and drop ended previous secrets; says whether it wrote anything."""
        backend, notes, wrote = self.session.backend, [], False
        generated = {d.id: d.secret_generated_at for d in live}
        for meta in records:
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
                    backend.write(replace(record, previous=None, updated_at=now))
                    notes.append(f"{name}/{meta.name}: dropped the previous secret (its dual-signing window ended)")
                    wrote = True
                elif needs_stamp and meta.current is not None:
                    backend.update_metadata(replace(meta, current=replace(meta.current, generated_at=stamp),
                                                    updated_at=now))
                    wrote = True
            except SecretsError as error:
                notes.append(f"{name}/{meta.name}: could not update the record: {error}")
        return notes, wrote
