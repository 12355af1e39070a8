"""A plan is plain data: what will change, why, and in which order.

It is saved as JSON (`plan --out`), rendered as text or markdown from that
same data, and holds no secret: only where each new secret will be stored.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter
from pydantic.dataclasses import dataclass

from webhookctl import __version__
from webhookctl.engine.canonical import canonical_parts
from webhookctl.redact import mask_urls

Action = Literal["create", "update", "replace", "delete", "adopt", "repair-secret", "rotate"]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]
# A replace (or a repair by replacement): which half goes first.
ReplaceOrder = Literal["create-before-delete", "delete-before-create"]
# A repair-secret: where the new secret comes from.
SecretSource = Literal["rotate", "replace", "write-live"]
# What stops apply until someone acts; the plan exits 2 and apply 1 while any remains.
BlockedKind = Literal["duplicate", "bound-twice", "lost-secret", "unfinished", "record"]
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


NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A plan holds a Change (with its SecretPlan, maybe FieldChanges) per destination: these are slotted, frozen
# dataclasses, validated as the models are, not models. A model keeps a `__dict__` and a set of its given
# fields per instance: a create was ~1.5 KB, it is ~0.8 KB (~70 MB less at 100,000 changes). An empty list
# is the one empty tuple. `CHANGE` dumps a change as `model_dump` did.
PER_DESTINATION = ConfigDict(extra="forbid")


@dataclass(config=PER_DESTINATION, frozen=True, slots=True, kw_only=True)
class FieldChange:
    field: str
    before: Any = None
    after: Any = None
    forces_replace: bool = False


@dataclass(config=PER_DESTINATION, frozen=True, slots=True, kw_only=True)
class SecretPlan:
    key: str = Field(description="Where the secret is (or will be) stored in the backend.")
    note: str = Field(description="What happens to it, e.g. 'issued on apply'.")


@dataclass(config=PER_DESTINATION, frozen=True, slots=True, kw_only=True)
class Change:
    action: Action
    provider: str = Field(pattern=NAME)
    name: str | None = Field(pattern=NAME, description="The destination's name; null for an unmanaged one.")
    destination_id: str | None = None
    url: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    diff: tuple[FieldChange, ...] = ()
    reason: str
    order: ReplaceOrder | None = Field(default=None, description="replace, or repair-secret by replacement.")
    secret_source: SecretSource | None = Field(default=None, description="repair-secret: where the secret comes from.")
    secret: SecretPlan | None = None
    carry_from: str | None = Field(default=None, pattern=NAME,
                                   description="adopt: the record whose secret this destination keeps.")
    warnings: tuple[str, ...] = ()

    @property
    def replaces(self) -> bool:
        """Whether apply makes a new destination and deletes this one."""
        return self.action == "replace" or self.secret_source == "replace"


CHANGE: TypeAdapter[Change] = TypeAdapter(Change)


class Skipped(Data):
    provider: str
    name: str
    action: Action
    reason: str


class Blocked(Data):
    """Something apply cannot settle now: `plan --detailed-exitcode` exits 2 and apply exits 1 until it is."""

    kind: BlockedKind
    provider: str
    name: str | None = None
    destination_id: str | None = None
    reason: str
    fix: str = Field(description="What to do about it.")


class PendingOperation(Data):
    """An operation an interrupted run left unfinished (in the journal); apply finishes it first."""

    op: str
    provider: str
    name: str | None = None
    url: str
    stage: str
    started_at: datetime


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


class Request(Data):
    """What the plan was asked for; `apply PLAN` re-plans with exactly this."""

    targets: list[str] = Field(default_factory=list, description="--target names; empty for the whole configuration.")
    rotate: list[str] = Field(default_factory=list)
    rotate_by_replace: bool = False
    shard: str | None = Field(default=None, description="K/N when the plan covers one shard of the accounts.")


class Plan(Data):
    """A webhookctl plan (`plan --out`, `plan --format json`)."""

    model_config = ConfigDict(extra="forbid", title="webhookctl plan", frozen=True)

    format_version: Literal[1] = FORMAT_VERSION
    webhookctl_version: str = __version__
    created_at: datetime
    config_files: list[str] = Field(default_factory=list)
    config_digest: str = Field(default="", description="Of the desired state this plan was made from.")
    request: Request = Field(default_factory=Request)
    providers: list[ProviderState] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    blocked: list[Blocked] = Field(default_factory=list)
    pending: list[PendingOperation] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    deletes: int = Field(default=0, description="Destinations this plan deletes (shown; apply counts again).")
    digest: str = Field(default="", description="Of everything above; an edited file no longer matches it.")
    # provider -> its changes, built on first use (apply asks once per account), with the list it indexes:
    # model_copy(update={"changes": ...}) copies private attributes, so an index of another list is rebuilt.
    _by_provider: tuple[list[Change], dict[str, list[Change]]] | None = PrivateAttr(default=None)

    @property
    def has_changes(self) -> bool:
        """Anything for apply to do or to be told: changes, blocked work, or unfinished operations."""
        return bool(self.changes or self.blocked or self.pending)

    @property
    def targets(self) -> list[str]:
        return self.request.targets

    def content_digest(self) -> str:
        """sha256 of everything in the plan but `digest` itself (when, by which version and from which files
        it was made included: they are shown to whoever approves it).

        The canonical JSON of `model_dump(mode="json", exclude=...)`, hashed as it is written, one
        change at a time (the whole dump and its text were ~150 MB at 100,000 changes)."""
        head = self.model_dump(mode="json", exclude={"digest", "changes"})
        digest = hashlib.sha256()
        for part in canonical_parts(head, "changes", (CHANGE.dump_python(change, mode="json") for change in self.changes)):
            digest.update(part.encode())
        return "sha256:" + digest.hexdigest()

    def sealed(self) -> Plan:
        return self.model_copy(update={"digest": self.content_digest()})

    def summary(self) -> dict[str, int]:
        counts: Counter[str] = Counter(change.action for change in self.changes)
        return {action: counts[action] for action in ACTIONS if counts[action]}

    def for_provider(self, provider: str) -> list[Change]:
        if self._by_provider is None or self._by_provider[0] is not self.changes:
            index: dict[str, list[Change]] = {}
            for change in self.changes:
                index.setdefault(change.provider, []).append(change)
            self._by_provider = (self.changes, index)
        return list(self._by_provider[1].get(provider, ()))

    def masked(self) -> Plan:
        """The plan as it may be shown or saved: credentials in every URL masked (`redact.mask_urls`).

        A saved plan is an approval, never executed, so it holds this form; the live plan keeps the
        configured URLs, which are what is sent to the vendor.
        """
        # `mask_url` changes a URL only where it has user info (`@`), a query (`?`) or a fragment
        # (`#`), and JSON never escapes those: a plan whose JSON has none is its own masked form.
        # That is most plans, and skips two copies of it (dicts, then models): ~40 MB at 10,000 changes.
        # Each change's JSON on its own: the plan's JSON is those and the rest, and no key has a mark.
        texts = itertools.chain([self.model_dump_json(exclude={"changes"}).encode()],
                                (CHANGE.dump_json(change) for change in self.changes))
        if not any(b"@" in text or b"?" in text or b"#" in text for text in texts):
            return self.sealed() if self.digest else self
        data = _mask_strings(self.model_dump(mode="json"))
        masked = Plan.model_validate(data)
        return masked.sealed() if self.digest else masked

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.model_validate_json(text)


def _mask_strings(value: Any) -> Any:
    if isinstance(value, str):
        return mask_urls(value)
    if isinstance(value, list):
        return [_mask_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _mask_strings(item) for key, item in value.items()}
    return value
