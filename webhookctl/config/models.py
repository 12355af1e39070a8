"""The configuration format, version 1, as pydantic models.

Every model forbids unknown keys. All top-level keys are optional in the model
because a configuration may be split over many files; what the merged whole
must contain is checked in `checks.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from webhookctl.durations import parse_duration
from webhookctl.vocabulary import AMIGO_PRODUCTION_URL, AMIGO_WEBHOOK_TYPES

AmigoType = Literal[
    "conversation-post-processing-complete",
    "api-key-expiration-soon",
    "agent-framework-resource-updated",
]
assert set(AmigoType.__args__) == set(AMIGO_WEBHOOK_TYPES)  # type: ignore[attr-defined]

Unmanaged = Literal["ignore", "report", "delete"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class AmigoAuth(Strict):
    api_key: str = Field(description="API key value; write it as ${ENV_VAR}.")
    api_key_id: str
    user_id: str
    scheme: Literal["bearer", "basic"] = Field(default="bearer", description="How the token is presented.")


class AmiqusAuth(Strict):
    token: str = Field(description="Personal access or OAuth token; write it as ${ENV_VAR}.")


class AmigoProvider(Strict):
    """One organisation on the Amigo API."""

    type: Literal["amigo"]
    base_url: str = Field(
        default=AMIGO_PRODUCTION_URL,
        description="API root; `emulator` selects the embedded emulator.",
    )
    organization: str
    auth: AmigoAuth
    unmanaged: Unmanaged = "report"


class AmiqusProvider(Strict):
    """One team on the Amiqus ID API."""

    type: Literal["amiqus"]
    base_url: str | None = Field(
        default=None,
        description="API root, e.g. https://id.amiqus.co/api/v2; `emulator` selects the embedded emulator.",
    )
    api_version: Literal["v1", "v2"] = "v2"
    auth: AmiqusAuth
    unmanaged: Unmanaged = "report"


Provider = Annotated[AmigoProvider | AmiqusProvider, Field(discriminator="type")]


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


class Defaults(Strict):
    accepted_types: list[AmigoType] | None = None
    retry_attempts: int | None = Field(default=None, ge=1, le=5)
    events: list[str] | None = None
    enabled: bool | None = None
    rotation: Rotation | None = None


class Destination(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique handle; also names the secret.")
    provider: str
    url: str
    accepted_types: list[AmigoType] | None = Field(default=None, description="Amigo: webhook types to receive.")
    retry_attempts: int | None = Field(default=None, ge=1, le=5, description="Amigo: retries after a failure.")
    events: list[str] | None = Field(default=None, description="Amiqus: events, with `*` and `category.*`.")
    enabled: bool | None = Field(default=None, description="Amiqus: whether the webhook is enabled.")
    rotation: Rotation | None = None
    protect: bool = Field(default=False, description="Never deleted or replaced by webhookctl.")


class ConfigFile(Strict):
    """One webhookctl configuration file (several may be merged)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="webhookctl configuration")

    version: Literal[1] | None = None
    providers: dict[str, Provider] = Field(default_factory=dict)
    secrets: Secrets | None = None
    defaults: Defaults | None = None
    settings: Settings | None = None
    destinations: list[Destination] = Field(default_factory=list)
