"""A plan is plain data: what will change, why, and in which order.

It is saved as JSON (`plan --out`), rendered as text or markdown from that
same data, and holds no secret: only where each new secret will be stored.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from webhookctl import __version__

Action = Literal["create", "update", "replace", "delete", "adopt", "repair-secret", "rotate"]
ACTIONS: tuple[str, ...] = ("create", "update", "replace", "delete", "adopt", "repair-secret", "rotate")
SYMBOLS = {
    "create": "+",
    "update": "~",
    "replace": "-/+",
    "delete": "-",
    "adopt": "<=",
    "repair-secret": "!",
    "rotate": "@",
}
FORMAT_VERSION: Literal[1] = 1


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldChange(Data):
    field: str
    before: Any = None
    after: Any = None
    forces_replace: bool = False


class SecretPlan(Data):
    key: str = Field(description="Where the secret is (or will be) stored in the backend.")
    note: str = Field(description="What happens to it, e.g. 'issued on apply'.")


class Change(Data):
    action: Action
    provider: str
    name: str | None = Field(description="The destination's name; null for an unmanaged one.")
    destination_id: str | None = None
    url: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    diff: list[FieldChange] = Field(default_factory=list)
    reason: str
    via: str | None = Field(
        default=None,
        description="replace: create-before-delete | delete-before-create; repair-secret: rotate | replace | write-live.",
    )
    secret: SecretPlan | None = None
    carry_from: str | None = Field(default=None, description="adopt: the record whose secret this destination keeps.")
    warnings: list[str] = Field(default_factory=list)


class Skipped(Data):
    provider: str
    name: str
    action: Action
    reason: str


class UnmanagedDestination(Data):
    id: str
    url: str


class ProviderState(Data):
    name: str
    type: str
    scope: str
    state_fingerprint: str = Field(description="Of the live destinations and backend metadata read for this plan.")
    unmanaged_policy: str
    cap: int | None = None
    slots_before: int
    slots_after: int
    unmanaged: list[UnmanagedDestination] = Field(default_factory=list)


class Plan(Data):
    """A webhookctl plan (`plan --out`, `plan --format json`)."""

    model_config = ConfigDict(extra="forbid", title="webhookctl plan")

    format_version: Literal[1] = FORMAT_VERSION
    webhookctl_version: str = __version__
    created_at: datetime
    config_files: list[str] = Field(default_factory=list)
    providers: list[ProviderState] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list, description="--target names; empty for the whole configuration.")
    deletes: int = 0
    max_deletes: int = 5

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def summary(self) -> dict[str, int]:
        counts: Counter[str] = Counter(change.action for change in self.changes)
        return {action: counts[action] for action in ACTIONS if counts[action]}

    def for_provider(self, provider: str) -> list[Change]:
        return [c for c in self.changes if c.provider == provider]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.model_validate_json(text)
