"""How a Hooky account and its hooks are written in a webhookctl configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from webhookctl.configbase import DestinationFields, ProviderConfig, Strict
from webhookctl_hooky.catalogue import PRODUCTION_URL, Topic


class HookyAuth(Strict):
    token: str = Field(description="API token; write it as ${ENV_VAR}.")


class HookyConfig(ProviderConfig):
    """One Hooky account, reached with one token."""

    type: Literal["hooky"]
    base_url: str = Field(default=PRODUCTION_URL, description="API root.")
    auth: HookyAuth


class HookyFields(DestinationFields):
    topics: list[Topic] | None = Field(default=None, description="Hooky: topics to receive.")
