"""Hooky for webhookctl: an example vendor package the core never names.

Registered by its entry point (`webhookctl.vendors`: `hooky = "webhookctl_hooky:VENDOR"`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from webhookctl.vendors.contract import Provider
from webhookctl.vendors.vendor import FieldProblem, OpenContext, normalised_address
from webhookctl_hooky.catalogue import CAPABILITIES
from webhookctl_hooky.config import HookyConfig, HookyFields


class HookyVendor:
    type = "hooky"
    title = "Hooky"
    capabilities = CAPABILITIES
    config_model = HookyConfig
    fields_model = HookyFields

    def destination_fields(
        self, declared: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[FieldProblem]]:
        topics = declared.get("topics", defaults.get("topics"))
        problems: list[FieldProblem] = []
        if topics is None:
            problems.append(FieldProblem("topics", "missing required key 'topics'", "parent"))
        elif not topics:
            problems.append(FieldProblem("topics", "topics must list at least one topic"))
        return {"topics": list(topics or [])}, problems

    def account(self, config: HookyConfig) -> str:
        # One account per token; the token itself is never shown, only a short hash of it.
        hint = hashlib.sha256(config.auth.token.encode()).hexdigest()[:8]
        return f"hooky:{normalised_address(config.base_url)}#{hint}"

    def open(self, name: str, config: HookyConfig, context: OpenContext) -> Provider:
        from webhookctl_hooky.client import HookyClient

        return HookyClient(name, scope=self.account(config), base_url=config.base_url, token=config.auth.token,
                           timeout=context.timeout)


VENDOR = HookyVendor()
