"""Building blocks shared by every configuration model: the core's and each vendor's.

A vendor package describes its `providers:` entry and its destination fields with
these, so every configuration model refuses unknown keys and reads the same way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# What happens to live destinations that no configuration declares.
UnmanagedPolicy = Literal["ignore", "report", "delete"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderConfig(Strict):
    """One `providers:` entry: one account on one vendor's API. Vendors subclass it.

    A subclass declares `type: Literal["<vendor>"]` (the discriminator) and its own
    address and credentials.
    """

    type: str = Field(description="The vendor (the registry's key).")
    unmanaged: UnmanagedPolicy = Field(
        default="report", description="ignore | report | delete: live destinations no configuration declares.")


class DestinationFields(Strict):
    """A vendor's own destination fields, all optional (a default may supply them). Vendors subclass it."""
