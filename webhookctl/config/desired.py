"""The configuration after merging, defaults and checks: what the engine consumes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from webhookctl.config.models import DefaultsBase, Settings
from webhookctl.config.models import Secrets as SecretsConfig
from webhookctl.configbase import ProviderConfig


# slots: a configuration holds one per destination (100,000 in the largest estates). A slotted dataclass,
# not a NamedTuple (which `validate` would define ten times faster): a tuple of six is 16 bytes larger.
@dataclass(frozen=True, slots=True)
class DesiredDestination:
    name: str
    provider: str
    url: str
    # Vendor fields under their vendor names, defaults applied.
    fields: dict[str, Any]
    rotation_max_age: timedelta | None
    protect: bool


@dataclass(frozen=True)
class Config:
    providers: dict[str, ProviderConfig]
    secrets: SecretsConfig
    defaults: DefaultsBase
    settings: Settings
    destinations: list[DesiredDestination]
    files: list[str] = field(default_factory=list)
    # Provider name -> the account it reaches (vendor + normalised address + organisation or team).
    accounts: dict[str, str] = field(default_factory=dict)
    # Provider name -> the ${VAR}s its entry was written with (to name them when credentials are refused).
    env_references: dict[str, list[str]] = field(default_factory=dict)

    # Indexes built on first use: the engine asks per account and per change, and a scan of every
    # destination each time made a run's cost grow with the square of the organisations.
    # (cached_property writes the instance __dict__, which a frozen dataclass allows.)
    @cached_property
    def _by_name(self) -> dict[str, DesiredDestination]:
        index: dict[str, DesiredDestination] = {}
        for d in self.destinations:
            index.setdefault(d.name, d)  # the first, as a scan would find it
        return index

    @cached_property
    def _by_provider(self) -> dict[str, list[DesiredDestination]]:
        index: dict[str, list[DesiredDestination]] = defaultdict(list)
        for d in self.destinations:
            index[d.provider].append(d)
        return dict(index)

    @cached_property
    def _by_account(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for p in self.providers:
            index[self.account_of(p)].append(p)
        return dict(index)

    def destination(self, name: str) -> DesiredDestination | None:
        return self._by_name.get(name)

    def for_provider(self, provider: str) -> list[DesiredDestination]:
        return list(self._by_provider.get(provider, ()))

    def vendor_type(self, provider: str) -> str:
        return str(self.providers[provider].type)  # every vendor's config model has `type`

    def account_of(self, provider: str) -> str:
        return self.accounts.get(provider, provider)

    def siblings(self, provider: str) -> list[str]:
        """The other providers that reach the same account."""
        return [p for p in self._by_account.get(self.account_of(provider), ()) if p != provider]
