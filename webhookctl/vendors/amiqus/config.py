"""How an Amiqus team and its webhooks are written in the configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from webhookctl.configbase import DestinationFields, ProviderConfig, Strict


class AmiqusAuth(Strict):
    token: str = Field(min_length=1, description="Personal access or OAuth token; write it as ${ENV_VAR}.")


class AmiqusConfig(ProviderConfig):
    """One team on the Amiqus ID API."""

    type: Literal["amiqus"]
    base_url: str | None = Field(
        default=None,
        description="API root, e.g. https://id.amiqus.co/api/v2; `emulator` selects the embedded emulator.",
    )
    api_version: Literal["v1", "v2"] = "v2"
    auth: AmiqusAuth


class AmiqusFields(DestinationFields):
    events: list[str] | None = Field(default=None, description="Amiqus: events, with `*` and `category.*`.")
    enabled: bool | None = Field(default=None, description="Amiqus: whether the webhook is enabled.")
