"""The Amiqus vendor: Amiqus ID webhooks through API v2 (`/api/v2`) or v1 (`/api`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from webhookctl.vendors.amiqus.catalogue import CAPABILITIES, PRODUCTION_URLS, SUBSCRIBABLE
from webhookctl.vendors.amiqus.config import AmiqusConfig, AmiqusFields
from webhookctl.vendors.vendor import FieldProblem, OpenContext, normalised_address

if TYPE_CHECKING:
    # Annotations only: the registry (validate) needs no client contract, nor its dataclasses.
    from webhookctl.vendors.contract import Provider


def token_hint(token: str) -> str:
    """Which token (so which team) without the token: a short hash."""
    return hashlib.sha256(token.encode()).hexdigest()[:8]


def event_problems(events: list[str], field: str = "events") -> list[FieldProblem]:
    problems = [] if events else [FieldProblem(field, "events must list at least one event")]
    seen: set[str] = set()
    for index, event in enumerate(events):
        if event not in SUBSCRIBABLE:
            hint = " ('ping' cannot be subscribed to)" if event == "ping" else ""
            problems.append(FieldProblem(f"{field}[{index}]", f"unknown Amiqus event {event!r}{hint}"))
        if event in seen:
            problems.append(FieldProblem(f"{field}[{index}]", f"event {event!r} is listed twice"))
        seen.add(event)
    return problems


class AmiqusVendor:
    type = "amiqus"
    title = "Amiqus"
    capabilities = CAPABILITIES
    config_model = AmiqusConfig
    fields_model = AmiqusFields

    def destination_fields(
        self, declared: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[FieldProblem]]:
        problems: list[FieldProblem] = []
        if declared.get("events") is not None:
            problems += event_problems(declared["events"])
        events = declared.get("events", defaults.get("events"))
        if events is None:
            problems.append(FieldProblem("events", "missing required key 'events'", "parent"))
        enabled = declared.get("enabled", defaults.get("enabled"))
        return {"events": list(events or []), "enabled": True if enabled is None else enabled}, problems

    def defaults_problems(self, defaults: Mapping[str, Any]) -> list[FieldProblem]:
        return event_problems(defaults["events"]) if defaults.get("events") is not None else []

    def account(self, config: AmiqusConfig) -> str:
        # One team, whichever API version reaches it: the account names the host and the token.
        root = re.sub(r"/api(/v2)?/?$", "", config.base_url or PRODUCTION_URLS[config.api_version])
        return f"amiqus:{normalised_address(root)}#{token_hint(config.auth.token)}"

    def open(self, name: str, config: AmiqusConfig, context: OpenContext) -> Provider:
        from webhookctl.vendors.amiqus.client import AmiqusClient

        transport, base_url = None, config.base_url or PRODUCTION_URLS[config.api_version]
        if base_url == "emulator":
            from webhookctl.vendors.amiqus.embedded import transport as embedded
            from webhookctl.vendors.embedding import EMULATOR_URL

            transport = embedded(context.state_dir, config.auth.token)
            base_url = EMULATOR_URL + ("/api/v2" if config.api_version == "v2" else "/api")
        return AmiqusClient(name, scope=self.account(config), base_url=base_url, token=config.auth.token,
                            api_version=config.api_version, transport=transport, timeout=context.timeout,
                            pool=context.http)


VENDOR = AmiqusVendor()
