"""AWS Secrets Manager, through boto3's standard credential chain, region and AWS_ENDPOINT_URL.

The secret's value (AWSCURRENT) is the whole record; after a rotation the new
record is AWSCURRENT and the one before is AWSPREVIOUS, so an application that
reads both stages (with an explicit VersionStage) holds both secrets during the
dual-signing window. Tags carry the metadata, readable with DescribeSecret alone.

Secrets Manager has no compare-and-set: a write checks ownership and the
current version just before writing, and a ClientRequestToken derived from the
operation makes a retried write a no-op rather than a second version.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from webhookctl.config.models import AwsSecrets
from webhookctl.errors import (
    DamagedRecordError,
    ForeignEntryError,
    SecretsAccessDenied,
    SecretsError,
)
from webhookctl.secrets.record import MANAGED_BY, SecretRecord, from_flat, to_flat

TAG = "webhookctl:"
TOKENS = uuid.UUID("7d3f4c52-3c1e-4c61-9a31-5f0b2f9a1e42")
# The URL goes in the description: tag values may not hold ? & % and friends.
NOT_TAGGED = ("url",)


def _tags(record: SecretRecord) -> list[dict[str, str]]:
    return [{"Key": TAG + key, "Value": value} for key, value in to_flat(record).items() if key not in NOT_TAGGED]


def _fingerprints(record: SecretRecord) -> tuple[str | None, str | None]:
    return (record.current.fingerprint if record.current else None,
            record.previous.fingerprint if record.previous else None)


def _from_description(description: dict[str, Any]) -> SecretRecord | None:
    tags = {t["Key"][len(TAG):]: t["Value"] for t in description.get("Tags", []) if t["Key"].startswith(TAG)}
    if tags.get("managed_by") != MANAGED_BY:
        return None
    tags["url"] = description.get("Description", "")
    return from_flat(tags)


class AwsBackend:
    kind = "aws-secretsmanager"
    io_threads: int | None = None  # a network service: calls wait, in parallel

    def __init__(self, config: AwsSecrets) -> None:
        self.config = config
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                self._client = boto3.client("secretsmanager", region_name=self.config.region)
            except BotoCoreError as error:
                raise SecretsError(f"aws-secretsmanager: {error}") from None
        return self._client

    def key_for(self, provider: str, name: str) -> str:
        return self.config.key_template.format(provider=provider, name=name)

    def _call(self, what: str, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            if code == "ResourceNotFoundException" or (code == "InvalidRequestException" and "deleted" in message):
                return None  # absent, or scheduled for deletion (on_delete: delete)
            failure = SecretsAccessDenied if code in ("AccessDeniedException", "AccessDenied") else SecretsError
            raise failure(f"aws-secretsmanager: {what} failed: {code}: {message[:200]}") from None
        except BotoCoreError as error:
            raise SecretsError(f"aws-secretsmanager: {what} failed: {type(error).__name__}") from None

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        description = self._call("DescribeSecret", "describe_secret", SecretId=self.key_for(provider, name))
        return _from_description(description) if description and "DeletedDate" not in description else None

    def list_metadata(self, provider: str) -> list[SecretRecord]:
        # Only under this configuration's key prefix: another one may use the same provider name.
        prefix = self.config.key_template.split("{name}")[0].format(provider=provider)
        records = []
        token: str | None = None
        while True:
            filters = [{"Key": "tag-key", "Values": [TAG + "provider"]}, {"Key": "tag-value", "Values": [provider]}]
            if prefix:
                filters.append({"Key": "name", "Values": [prefix]})
            kwargs: dict[str, Any] = {"Filters": filters, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("ListSecrets", "list_secrets", **kwargs) or {}
            for description in page.get("SecretList", []):
                record = _from_description(description)
                if record is not None and record.provider == provider and description["Name"].startswith(prefix):
                    records.append(record)
            token = page.get("NextToken")
            if not token:
                return records

    def read(self, provider: str, name: str, stage: str = "AWSCURRENT") -> SecretRecord | None:
        value = self._call("GetSecretValue", "get_secret_value", SecretId=self.key_for(provider, name),
                           VersionStage=stage)
        if not value:
            return None
        try:
            data = json.loads(value.get("SecretString") or "")
        except ValueError:
            data = None
        if not isinstance(data, dict):  # plain text, a binary secret, JSON of another shape: not ours to touch
            raise ForeignEntryError(f"aws-secretsmanager: {self.key_for(provider, name)} does not hold a webhookctl "
                                    "record (it was not written by webhookctl); choose another key_template")
        return SecretRecord.from_dict(data) if data.get("managed_by") == MANAGED_BY else None

    def _owned(self, key: str) -> dict[str, Any] | None:
        description = self._call("DescribeSecret", "describe_secret", SecretId=key)
        if description is None:
            return None
        if _from_description(description) is None:
            owner = next((t["Value"] for t in description.get("Tags", []) if t["Key"].lower() in ("owner", "team")),
                         "something other than webhookctl")
            raise ForeignEntryError(f"aws-secretsmanager: {key} was not written by webhookctl (it seems to belong "
                                    f"to {owner}); choose another key_template")
        return dict(description)

    def write(self, record: SecretRecord) -> None:
        key = self.key_for(record.provider, record.name)
        body = json.dumps(record.to_dict(with_secrets=True))
        current = record.current.fingerprint if record.current else "-"
        previous = record.previous.fingerprint if record.previous else "-"
        token = str(uuid.uuid5(TOKENS, f"{key}|{record.destination_id}|{current}|{previous}|{record.updated_at}"))
        description = self._owned(key)
        if description is None:
            kwargs: dict[str, Any] = {"Name": key, "SecretString": body, "ClientRequestToken": token,
                                      "Description": record.url, "Tags": _tags(record)}
            if self.config.kms_key_id:
                kwargs["KmsKeyId"] = self.config.kms_key_id
            self._call("CreateSecret", "create_secret", **kwargs)
            return
        if "DeletedDate" in description:
            self._call("RestoreSecret", "restore_secret", SecretId=key)
        stored = _from_description(description)
        if ("DeletedDate" in description or stored is None or _fingerprints(stored) != _fingerprints(record)) \
                and self._current_fingerprints(key) != _fingerprints(record):
            # A new version only when a secret changes, so AWSPREVIOUS keeps holding the old secret. The tags
            # can lag the value (a write cut after PutSecretValue): then the value says it is written already.
            self._call("PutSecretValue", "put_secret_value", SecretId=key, SecretString=body, ClientRequestToken=token)
        ours = {tag["Key"] for tag in _tags(record)}
        stale = [t["Key"] for t in description.get("Tags", []) if t["Key"].startswith(TAG) and t["Key"] not in ours]
        if stale:
            self._call("UntagResource", "untag_resource", SecretId=key, TagKeys=stale)
        self._call("TagResource", "tag_resource", SecretId=key, Tags=_tags(record))
        self._call("UpdateSecret", "update_secret", SecretId=key, Description=record.url)

    def _current_fingerprints(self, key: str) -> tuple[str | None, str | None] | None:
        """The fingerprints of the secrets AWSCURRENT holds, or None when it holds no webhookctl record."""
        value = self._call("GetSecretValue", "get_secret_value", SecretId=key, VersionStage="AWSCURRENT")
        try:
            return _fingerprints(SecretRecord.from_dict(json.loads(value["SecretString"]))) if value else None
        except (DamagedRecordError, ValueError, KeyError, TypeError):
            return None

    def ensure_writable(self, provider: str, name: str) -> None:
        self._owned(self.key_for(provider, name))

    def update_metadata(self, record: SecretRecord) -> None:
        # Tags only: no new version, so AWSPREVIOUS keeps holding the previous secret.
        key = self.key_for(record.provider, record.name)
        description = self._owned(key)
        if description is None or "DeletedDate" in description:
            return
        self._call("TagResource", "tag_resource", SecretId=key, Tags=_tags(record))

    def delete(self, provider: str, name: str) -> None:
        key = self.key_for(provider, name)
        description = self._owned(key)
        if description is None or "DeletedDate" in description:
            return
        self._call("DeleteSecret", "delete_secret", SecretId=key,
                   RecoveryWindowInDays=self.config.recovery_window_days)
