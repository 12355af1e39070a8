"""The configuration after merging, defaults and checks: what the engine consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from webhookctl.config.models import AmigoProvider, AmiqusProvider, Defaults, Settings
from webhookctl.config.models import Secrets as SecretsConfig
from webhookctl.config.problems import Location

ProviderConfig = AmigoProvider | AmiqusProvider


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
    defaults: Defaults
    settings: Settings
    destinations: list[DesiredDestination]
    files: list[str] = field(default_factory=list)

    def destination(self, name: str) -> DesiredDestination | None:
        return next((d for d in self.destinations if d.name == name), None)

    def for_provider(self, provider: str) -> list[DesiredDestination]:
        return [d for d in self.destinations if d.provider == provider]
