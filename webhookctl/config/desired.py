"""The configuration after merging, defaults and checks: what the engine consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from webhookctl.config.models import DefaultsBase, Settings
from webhookctl.config.models import Secrets as SecretsConfig
from webhookctl.config.problems import Location
from webhookctl.configbase import ProviderConfig


@dataclass(frozen=True)
class DesiredDestination:
    name: str
    provider: str
    url: str
    # Vendor fields under their vendor names, defaults applied.
    fields: dict[str, Any]
    rotation_max_age: timedelta | None
    protect: bool
    location: Location


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

    def destination(self, name: str) -> DesiredDestination | None:
        return next((d for d in self.destinations if d.name == name), None)

    def for_provider(self, provider: str) -> list[DesiredDestination]:
        return [d for d in self.destinations if d.provider == provider]

    def vendor_type(self, provider: str) -> str:
        return str(self.providers[provider].type)  # every vendor's config model has `type`

    def account_of(self, provider: str) -> str:
        return self.accounts.get(provider, provider)

    def siblings(self, provider: str) -> list[str]:
        """The other providers that reach the same account."""
        account = self.account_of(provider)
        return [p for p in self.providers if p != provider and self.account_of(p) == account]
