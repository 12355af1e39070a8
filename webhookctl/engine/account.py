"""One account's planning state, shared by the planner's pure pieces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from webhookctl.capabilities import Capabilities
from webhookctl.config.desired import Config, DesiredDestination
from webhookctl.engine.plan import Blocked, Change, Request, SecretPlan, Skipped
from webhookctl.snapshot import Snapshot

KeyFor = Callable[[str, str], str]  # (provider, name) -> the backend key of its secret


@dataclass(frozen=True)
class PlanOptions:
    targets: frozenset[str] = frozenset()
    rotate: frozenset[str] = frozenset()
    rotate_by_replace: bool = False
    shard: str | None = None

    def request(self) -> Request:
        return Request(targets=sorted(self.targets), rotate=sorted(self.rotate),
                       rotate_by_replace=self.rotate_by_replace, shard=self.shard)

    @classmethod
    def of(cls, request: Request) -> PlanOptions:
        return cls(frozenset(request.targets), frozenset(request.rotate), request.rotate_by_replace, request.shard)


@dataclass
class Account:
    """One account's planning: its inputs and what it found."""

    config: Config
    snapshot: Snapshot
    options: PlanOptions
    now: datetime
    key_for: KeyFor
    changes: list[Change] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def caps(self) -> Capabilities:
        return self.snapshot.capabilities

    def targeted(self, name: str | None) -> bool:
        return not self.options.targets or (name is not None and name in self.options.targets)

    def secret(self, name: str, note: str) -> SecretPlan:
        return SecretPlan(key=self.key_for(self.snapshot.provider, name), note=note)


def replace_or_skip(account: Account, wanted: DesiredDestination, change: Change) -> None:
    if wanted.protect:
        account.skipped.append(Skipped(provider=wanted.provider, name=wanted.name, action="replace",
                                       reason=f"protected: {change.reason}"))
        account.warnings.append(f"{wanted.provider}/{wanted.name} is protected; skipped replace ({change.reason})")
        return
    account.changes.append(change)
