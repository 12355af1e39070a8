"""The Amigo vendor: webhook destinations of the classic API (`/v1/{organization}/...`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from webhookctl.vendors.amigo.catalogue import CAPABILITIES, RETRY_ATTEMPTS_DEFAULT
from webhookctl.vendors.amigo.config import AmigoConfig, AmigoFields
from webhookctl.vendors.vendor import FieldProblem, OpenContext, normalised_address

if TYPE_CHECKING:
    # Annotations only: the registry (validate) needs no client contract, nor its dataclasses.
    from webhookctl.vendors.contract import Provider


def _repeated_types(types: list[str]) -> list[FieldProblem]:
    """A type listed twice is a slip (the vendor would keep both, and every plan would show them)."""
    return [FieldProblem(f"accepted_types[{index}]", f"type {kind!r} is listed twice")
            for index, kind in enumerate(types) if types.index(kind) != index]


class AmigoVendor:
    type = "amigo"
    title = "Amigo"
    capabilities = CAPABILITIES
    config_model = AmigoConfig
    fields_model = AmigoFields

    def destination_fields(
        self, declared: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[FieldProblem]]:
        accepted = declared.get("accepted_types", defaults.get("accepted_types"))
        problems = [] if accepted is not None else [FieldProblem("accepted_types", "missing required key 'accepted_types'", "parent")]
        if declared.get("accepted_types") is not None:
            problems += _repeated_types(declared["accepted_types"])
        retry = declared.get("retry_attempts") or defaults.get("retry_attempts") or RETRY_ATTEMPTS_DEFAULT
        return {"accepted_types": list(accepted or []), "retry_attempts": retry}, problems

    def defaults_problems(self, defaults: Mapping[str, Any]) -> list[FieldProblem]:
        return _repeated_types(defaults["accepted_types"]) if defaults.get("accepted_types") is not None else []

    def account(self, config: AmigoConfig) -> str:
        return f"amigo:{normalised_address(config.base_url)}/{config.organization}"

    def open(self, name: str, config: AmigoConfig, context: OpenContext) -> Provider:
        from webhookctl.vendors.amigo.client import AmigoClient

        transport, base_url = None, config.base_url
        if base_url == "emulator":
            from webhookctl.vendors.amigo.embedded import transport as embedded
            from webhookctl.vendors.embedding import EMULATOR_URL

            transport, base_url = embedded(context.state_dir, config), EMULATOR_URL
        auth = config.auth
        return AmigoClient(
            name, scope=self.account(config), base_url=base_url, organization=config.organization,
            api_key=auth.api_key, api_key_id=auth.api_key_id, user_id=auth.user_id, scheme=auth.scheme,
            transport=transport, timeout=context.timeout, pool=context.http,
        )


VENDOR = AmigoVendor()
