"""The configuration format, version 1, as pydantic models.

Every model forbids unknown keys. All top-level keys are optional in the model
because a configuration may be split over many files; what the merged whole
must contain is checked in `checks.py`.

The core's models name no vendor: a `providers:` entry is validated by its
vendor's `config_model`, and destinations and defaults take every installed
vendor's `fields_model` fields, composed here from the vendor registry.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, create_model, field_validator

from webhookctl.configbase import ProviderConfig, Strict
from webhookctl.durations import parse_duration
from webhookctl.vendors import registry

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class Rotation(Strict):
    """Rotate the signing secret once it is older than `max_age` (e.g. `90d`)."""

    max_age: str = Field(description="Duration such as 90d, 12h or 1d12h.", examples=["90d"])

    @field_validator("max_age")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def max_age_delta(self) -> timedelta:
        return parse_duration(self.max_age)


OnDelete = Literal["keep", "delete"]
KEY_TEMPLATE = "webhooks/{provider}/{name}"


class FileSecrets(Strict):
    """One JSON record per destination under a directory (0600 files, 0700 directories)."""

    backend: Literal["file"] = "file"
    directory: str = Field(default=".webhookctl/secrets", description="Relative to the working directory.")
    key_template: str = Field(default=KEY_TEMPLATE, description="Fields: {provider}, {name}.")
    on_delete: OnDelete = Field(default="keep", description="What happens to the record when its destination is deleted.")


class VaultSecrets(Strict):
    """HashiCorp Vault or OpenBao, KV version 2. Address and token come from VAULT_ADDR and VAULT_TOKEN
    (or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole) unless given here."""

    backend: Literal["vault"]
    address: str | None = Field(default=None, description="Default: $VAULT_ADDR.")
    namespace: str | None = Field(default=None, description="Default: $VAULT_NAMESPACE.")
    mount: str = Field(default="secret", description="The KV v2 mount.")
    key_template: str = Field(default=KEY_TEMPLATE, description="Path under the mount; fields {provider}, {name}.")
    timeout: float = Field(default=10.0, gt=0, description="Seconds before a request to Vault counts as failed.")
    on_delete: OnDelete = "keep"
    lock: bool = Field(default=True, description="Hold a lock in Vault while applying (runs on other machines).")


class AwsSecrets(Strict):
    """AWS Secrets Manager through the standard credential chain, region and AWS_ENDPOINT_URL."""

    backend: Literal["aws-secretsmanager"]
    region: str | None = Field(default=None, description="Default: the SDK's ($AWS_REGION, profile).")
    key_template: str = Field(default=KEY_TEMPLATE, description="The secret's name; fields {provider}, {name}.")
    kms_key_id: str | None = None
    recovery_window_days: int = Field(default=7, ge=7, le=30, description="When on_delete is delete.")
    on_delete: OnDelete = "keep"


class SopsSecrets(Strict):
    """An age-encrypted YAML file for Git, written through the sops binary."""

    backend: Literal["sops"]
    file: str = Field(default="secrets/webhooks.sops.yaml", description="May contain {provider}: one file each.")
    age_recipients: list[str] = Field(min_length=1, description="age public keys (age1...) that can decrypt.")
    sops_binary: str = Field(default="sops")
    key_template: str = Field(default=KEY_TEMPLATE, description="The record's key inside the file.")
    on_delete: OnDelete = "keep"


class ExecSecrets(Strict):
    """Any other store: a command that receives one JSON request on stdin (see docs/exec-backend.md)."""

    backend: Literal["exec"]
    command: list[str] = Field(min_length=1, description="Program and arguments; the operation is appended.")
    key_template: str = Field(default=KEY_TEMPLATE)
    timeout: float = Field(default=30.0, gt=0)
    on_delete: OnDelete = "keep"


Secrets = Annotated[
    FileSecrets | VaultSecrets | AwsSecrets | SopsSecrets | ExecSecrets, Field(discriminator="backend")
]


class Settings(Strict):
    max_deletes: int = Field(default=5, ge=0, description="More deletes than this in one run need --allow-deletes.")
    state_dir: str = Field(default=".webhookctl", description="Escrow, locks and the embedded emulator's data.")
    parallelism: int = Field(default=10, ge=1, le=100, description="Organisations read at once.")
    escrow_key: str | None = Field(
        default=None, description="Encrypts escrowed secrets (AES-GCM); write it as ${ENV_VAR}.")
    request_timeout: float = Field(default=30.0, gt=0, description="Seconds before a vendor API call is abandoned.")
    delivery_failure_rate: float = Field(
        default=0.1, ge=0, le=1, description="drift: report delivery health when this share of deliveries failed.")
    delivery_min_failures: int = Field(
        default=1, ge=1, description="drift: ...and at least this many deliveries failed in the window.")


class DefaultsBase(Strict):
    """Defaults for every destination; each vendor adds its own fields (see `defaults_model`)."""

    rotation: Rotation | None = None


class DestinationBase(Strict):
    """One destination; each vendor's fields follow these, then `_DESTINATION_TAIL` (see `destination_model`)."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique handle; also names the secret.")
    provider: str
    url: str


# After the vendors' fields, so that "expected one of ..." lists keys in the order users write them.
_DESTINATION_TAIL: dict[str, Any] = {
    "rotation": (Rotation | None, None),
    "protect": (bool, Field(default=False, description="Never deleted or replaced by webhookctl.")),
}


class ConfigFileBase(Strict):
    version: Literal[1] | None = None
    secrets: Secrets | None = None
    settings: Settings | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _an_integer(cls, value: Any) -> Any:
        # Literal[1] takes `true` and `1.0` (they equal 1), but not "1": the format's version is the integer 1.
        if value is not None and type(value) is not int:
            raise ValueError("Input should be 1")
        return value


def _vendor_fields() -> dict[str, Any]:
    """Every installed vendor's destination fields (the first vendor to declare a name defines it)."""
    fields: dict[str, Any] = {}
    for vendor in registry().values():
        for name, info in vendor.fields_model.model_fields.items():
            fields.setdefault(name, (info.annotation, info))
    return fields


@functools.cache
def defaults_model() -> type[DefaultsBase]:
    return create_model("Defaults", __base__=DefaultsBase, **_vendor_fields())


@functools.cache
def destination_model() -> type[DestinationBase]:
    return create_model("Destination", __base__=DestinationBase, **_vendor_fields(), **_DESTINATION_TAIL)


@functools.cache
def provider_union() -> Any:
    """A `providers:` entry: one of the installed vendors' config models, chosen by `type`."""
    models = tuple(vendor.config_model for vendor in registry().values())
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007 (a runtime tuple)


@functools.cache
def provider_adapter() -> TypeAdapter[ProviderConfig]:
    return TypeAdapter(provider_union())


# Python functions, not `dict`/`list`: pydantic reads a default factory's signature, and a builtin's is
# parsed from text through tokenize, whose pattern compiles on first use (~3 ms of every validate).
def _no_providers() -> dict[str, Any]:
    return {}


def _no_destinations() -> list[Any]:
    return []


@functools.cache
def config_file_model() -> type[ConfigFileBase]:
    """One webhookctl configuration file (several may be merged)."""
    fields: dict[str, Any] = {
        "providers": (dict[str, provider_union()], Field(default_factory=_no_providers)),  # type: ignore[misc]
        "defaults": (defaults_model() | None, None),
        "destinations": (list[destination_model()], Field(default_factory=_no_destinations)),  # type: ignore[misc]
    }
    model = create_model("ConfigFile", __base__=ConfigFileBase,
                         __doc__="One webhookctl configuration file (several may be merged).", **fields)
    model.model_config["title"] = "webhookctl configuration"
    return model
