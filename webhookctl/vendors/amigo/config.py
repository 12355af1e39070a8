"""How an Amigo account and its destinations are written in the configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from webhookctl.configbase import DestinationFields, ProviderConfig, Strict
from webhookctl.vendors.amigo.catalogue import PRODUCTION_URL, RETRY_ATTEMPTS_MAX, WebhookType


class AmigoAuth(Strict):
    api_key: str = Field(min_length=1, description="API key value; write it as ${ENV_VAR}.")
    api_key_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    scheme: Literal["bearer", "basic"] = Field(default="bearer", description="How the token is presented.")


class AmigoConfig(ProviderConfig):
    """One organisation on the Amigo API."""

    type: Literal["amigo"]
    base_url: str = Field(
        default=PRODUCTION_URL,
        description="API root; `emulator` selects the embedded emulator.",
    )
    organization: str = Field(min_length=1)
    auth: AmigoAuth


class AmigoFields(DestinationFields):
    accepted_types: list[WebhookType] | None = Field(default=None, description="Amigo: webhook types to receive.")
    retry_attempts: int | None = Field(default=None, ge=1, le=RETRY_ATTEMPTS_MAX,
                                       description="Amigo: retries after a failure.")
