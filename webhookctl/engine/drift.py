"""Drift: everything that differs from Git or needs attention, strictly read-only.

Built from the same snapshots and planner as `plan`, plus the deliveries
endpoints. Nothing here writes to a vendor or a backend: no recovery, no
housekeeping, no lock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from webhookctl.engine.plan import Plan
from webhookctl.engine.planner import build_plan
from webhookctl.engine.shard import select
from webhookctl.errors import PlanError, WebhookctlError
from webhookctl.session import Session
from webhookctl.snapshot import Snapshot
from webhookctl.timefmt import format_time
from webhookctl.vendors.contract import DeliveryQuery

KINDS = (
    "config-drift",
    "unmanaged",
    "secret-drift",
    "rotation-due",
    "dual-signing-window",
    "delivery-health",
    "subscription-disabled",
    "plan-error",
)
# Deliveries read per destination for the health check, at most.
HEALTH_SAMPLE = 200


@dataclass(frozen=True)
class Finding:
    kind: str
    provider: str
    destination: str | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "provider": self.provider, "destination": self.destination,
                "message": self.message, "details": self.details}


@dataclass
class DriftReport:
    checked_at: datetime
    since: timedelta
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why
    shard: str | None = None  # K/N when the report covers one shard of the accounts

    def counts(self) -> dict[str, int]:
        counter = Counter(f.kind for f in self.findings)
        return {kind: counter[kind] for kind in KINDS if counter[kind]}

    def as_dict(self) -> dict[str, Any]:
        data = {"checked_at": format_time(self.checked_at),
                "since_seconds": int(self.since.total_seconds()), "summary": self.counts(),
                "findings": [f.as_dict() for f in self.findings], "notes": self.notes}
        return {**data, "shard": self.shard} if self.shard else data


def _from_plan(plan: Plan) -> list[Finding]:
    findings: list[Finding] = []
    for change in plan.changes:
        name = change.name
        if change.action == "delete" and name is None:
            continue  # unmanaged: reported from the provider state below
        if change.action == "repair-secret":
            findings.append(Finding("secret-drift", change.provider, name, change.reason))
        elif change.action == "rotate":
            findings.append(Finding("rotation-due", change.provider, name, change.reason))
        else:
            disabled = [d for d in change.diff if d.field == "enabled" and d.before is False and d.after is True]
            if disabled:
                findings.append(Finding("subscription-disabled", change.provider, name,
                                        "the vendor disabled this subscription; the configuration enables it"))
            other = [d for d in change.diff if d not in disabled]
            if change.action != "update" or other:
                fields = {d.field: {"live": d.before, "config": d.after} for d in other}
                findings.append(Finding("config-drift", change.provider, name,
                                        f"{change.action}: {change.reason}", {"action": change.action,
                                                                             "fields": fields}))
    for state in plan.providers:
        for stray in state.unmanaged:
            findings.append(Finding("unmanaged", state.name, None, f"{stray.url} is declared by no configuration",
                                    {"id": stray.id, "url": stray.url, "policy": state.unmanaged_policy}))
    # What blocks apply is drift too: plan, apply and drift agree.
    blocked_kind = {"duplicate": "config-drift", "bound-twice": "config-drift", "lost-secret": "secret-drift",
                    "record": "secret-drift", "unfinished": "plan-error"}
    for blocked in plan.blocked:
        findings.append(Finding(blocked_kind[blocked.kind], blocked.provider, blocked.name,
                                f"{blocked.reason}; {blocked.fix}", {"blocked": blocked.kind}))
    for pending in plan.pending:
        findings.append(Finding("plan-error", pending.provider, pending.name,
                                f"an interrupted {pending.op} is unfinished (journaled); apply or "
                                "'webhookctl recover' finishes it"))
    for warning in plan.skipped:
        if warning.action in ("rotate", "repair-secret"):
            kind = "secret-drift" if warning.action == "repair-secret" else "rotation-due"
            findings.append(Finding(kind, warning.provider, warning.name, warning.reason))
    return findings


def _windows(snapshot: Snapshot, now: datetime) -> list[Finding]:
    found = []
    for record in snapshot.records:
        until = record.previous.valid_until if record.previous else None
        if until is not None and until > now:
            found.append(Finding("dual-signing-window", snapshot.provider, record.name,
                                 f"the previous secret still signs until {format_time(until)}",
                                 {"valid_until": format_time(until)}))
    return found


async def _health(session: Session, snapshot: Snapshot, since: timedelta, now: datetime) -> list[Finding]:
    settings = session.config.settings
    bound = {r.destination_id: r.name for r in snapshot.records}
    provider = session.provider(snapshot.provider)
    found = []
    for destination in snapshot.live:
        name = bound.get(destination.id)
        if name is None or session.config.destination(name) is None:
            continue
        total = failed = 0
        async for delivery in provider.deliveries(destination.id, DeliveryQuery(since=now - since,
                                                                                limit=HEALTH_SAMPLE)):
            total += 1
            failed += delivery.status == "failed"
        if total and failed >= settings.delivery_min_failures and failed / total >= settings.delivery_failure_rate:
            found.append(Finding("delivery-health", snapshot.provider, name,
                                 f"{failed} of {total} deliveries failed in the window ({failed / total:.0%})",
                                 {"failed": failed, "total": total, "failure_rate": round(failed / total, 3)}))
    return found


async def detect(session: Session, since: timedelta, now: datetime, shard: str | None = None) -> DriftReport:
    unreadable: dict[str, str] = {}

    async def read(name: str) -> Snapshot | None:
        try:
            # Records are read in full (drift may read secrets): a damaged record is a finding.
            return await session.snapshot(name, check_records=True)
        except WebhookctlError as error:  # one account down must not hide the others' findings
            unreadable[name] = str(error)
            return None

    read_all = await session.gather(sorted(select(session.config, session.config.providers, shard)), read)
    snapshots = {name: snapshot for name, snapshot in read_all.items() if snapshot is not None}
    findings = [Finding("plan-error", name, None, f"could not be read: {message}")
                for name, message in sorted(unreadable.items())]
    for name in sorted(snapshots):
        snapshot = snapshots[name]
        vendor_now = snapshot.vendor_now or now
        try:
            findings += _from_plan(build_plan(session.config, [snapshot], vendor_now, key_for=session.backend.key_for))
        except PlanError as error:
            findings.append(Finding("plan-error", name, None, str(error)))
        findings += _windows(snapshot, vendor_now)
    health = await session.gather(sorted(snapshots), lambda n: _health(session, snapshots[n], since,
                                                                       snapshots[n].vendor_now or now))
    for name in sorted(health):
        findings += health[name]
    notes = ["secret records were not checked against their metadata: these credentials may not read "
             "secret values"] if session.records_unchecked else []
    return DriftReport(checked_at=now, since=since, findings=findings, notes=notes, shard=shard)
