"""The secret record, as every backend stores it (documented in docs/secret-record.md).

A record is what a receiving application reads to verify signatures:

    {
      "format": "webhookctl/secret-record@1",
      "managed_by": "webhookctl",
      "provider": "prod", "name": "orders", "vendor": "amigo", "scope": "amigo:https://api.amigo.ai/acme",
      "destination_id": "65f0c0ffee0000000000abcd",
      "url": "https://orders.example.com/hook",
      "current":  {"secret": "...", "fingerprint": "sha256:...", "generated_at": "...", "issued_at": "..."},
      "previous": {"secret": "...", "fingerprint": "sha256:...", "valid_until": "..."} | null,
      "last_rotated_at": "..." | null,
      "updated_at": "..."
    }

`current` is null when the destination is bound but its secret is unknown
(adopted from a vendor that shows secrets once). The metadata is the same
record without any `secret` value, and is all a plan ever reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from webhookctl.errors import DamagedRecordError
from webhookctl.secret import Secret, fingerprint
from webhookctl.timefmt import format_time, parse_time

FORMAT = "webhookctl/secret-record@1"
MANAGED_BY = "webhookctl"


def _text(value: datetime | None) -> str | None:
    return format_time(value) if value else None


@dataclass(frozen=True)
class SecretVersion:
    secret: Secret | None  # None in metadata
    fingerprint: str
    generated_at: datetime | None = None  # the vendor's time, once known
    issued_at: datetime | None = None  # when webhookctl received it
    valid_until: datetime | None = None  # previous secret: end of dual signing

    @classmethod
    def of(cls, secret: Secret, **times: datetime | None) -> SecretVersion:
        return cls(secret=secret, fingerprint=secret.fingerprint, **times)

    def to_dict(self, with_secret: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"fingerprint": self.fingerprint}
        if with_secret and self.secret is not None:
            data = {"secret": self.secret.reveal(), **data}
        for key in ("generated_at", "issued_at", "valid_until"):
            value = getattr(self, key)
            if value is not None:
                data[key] = _text(value)
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "record", field: str = "current") -> SecretVersion | None:
        """Parse strictly (see `SecretRecord.from_dict`); `None` stays `None`."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise DamagedRecordError(f"{where}: field {field!r} is not an object")
        read = _Reader(data, where, field + ".")
        secret = read.text("secret", optional=True)
        fingerprint_ = read.text("fingerprint", optional=secret is not None)
        return cls(
            secret=Secret(secret) if secret is not None else None,
            fingerprint=fingerprint_ or fingerprint(secret or ""),
            generated_at=read.time("generated_at"),
            issued_at=read.time("issued_at"),
            valid_until=read.time("valid_until"),
        )

    def without_secret(self) -> SecretVersion:
        return replace(self, secret=None)


@dataclass(frozen=True)
class SecretRecord:
    provider: str
    name: str
    vendor: str
    scope: str
    destination_id: str
    url: str
    current: SecretVersion | None
    previous: SecretVersion | None = None
    last_rotated_at: datetime | None = None
    updated_at: datetime | None = None
    managed_by: str = MANAGED_BY
    # `protect: true` when last applied: a removed declaration does not delete it (only `protect: false`).
    protected: bool = False

    @property
    def has_secret(self) -> bool:
        return self.current is not None

    def to_dict(self, *, with_secrets: bool) -> dict[str, Any]:
        # No default: every caller says whether secret values go where it writes.
        return {
            "format": FORMAT,
            "managed_by": self.managed_by,
            "provider": self.provider,
            "name": self.name,
            "vendor": self.vendor,
            "scope": self.scope,
            "destination_id": self.destination_id,
            "url": self.url,
            "current": self.current.to_dict(with_secrets) if self.current else None,
            "previous": self.previous.to_dict(with_secrets) if self.previous else None,
            "last_rotated_at": _text(self.last_rotated_at),
            "updated_at": _text(self.updated_at),
            "protected": self.protected,
        }

    def metadata(self) -> SecretRecord:
        return replace(
            self,
            current=self.current.without_secret() if self.current else None,
            previous=self.previous.without_secret() if self.previous else None,
        )

    @classmethod
    def from_dict(cls, data: Any, where: str = "record") -> SecretRecord:
        """Parse strictly: a missing key or a wrong type is a `DamagedRecordError` naming `where` and the field.

        Nothing is coerced (a secret that is a number is an error, never the text "12345").
        """
        if not isinstance(data, dict):
            kind = "a JSON list" if isinstance(data, list) else type(data).__name__
            raise DamagedRecordError(f"{where} is not a webhookctl record (it holds {kind}, not an object)")
        read = _Reader(data, where)
        protected = data.get("protected", False)
        if not isinstance(protected, bool):
            raise DamagedRecordError(f"{where}: field 'protected' is not a boolean")
        return cls(
            provider=read.text("provider") or "",
            name=read.text("name") or "",
            vendor=read.text("vendor", optional=True) or "",
            scope=read.text("scope", optional=True) or "",
            destination_id=read.text("destination_id") or "",
            url=read.text("url", optional=True) or "",
            current=SecretVersion.from_dict(data.get("current"), where, "current"),
            previous=SecretVersion.from_dict(data.get("previous"), where, "previous"),
            last_rotated_at=read.time("last_rotated_at"),
            updated_at=read.time("updated_at"),
            managed_by=read.text("managed_by", optional=True) or "",
            protected=protected,
        )


class _Reader:
    """Typed fields of one JSON object, each error naming where the object came from and the field."""

    def __init__(self, data: dict[str, Any], where: str, prefix: str = "") -> None:
        self.data, self.where, self.prefix = data, where, prefix

    def _fail(self, key: str, problem: str) -> DamagedRecordError:
        # The field's name and JSON type only: its value may be a secret.
        return DamagedRecordError(f"{self.where}: field {self.prefix + key!r} {problem}")

    def text(self, key: str, optional: bool = False) -> str | None:
        if key not in self.data or self.data[key] is None:
            if optional:
                return None
            raise self._fail(key, "is missing")
        value = self.data[key]
        if not isinstance(value, str):
            raise self._fail(key, f"is not a string (it is {_json_type(value)})")
        return value

    def time(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, datetime):  # YAML stores (sops) may give one already typed
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if not isinstance(value, str):
            raise self._fail(key, f"is not a timestamp (it is {_json_type(value)})")
        try:
            return parse_time(value)
        except ValueError:
            raise self._fail(key, "is not an ISO 8601 timestamp") from None


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object",
             str: "a string"}
    return names.get(type(value), type(value).__name__)


FLAT_FIELDS = ("managed_by", "provider", "name", "vendor", "scope", "destination_id", "url",
               "last_rotated_at", "updated_at", "protected")


def to_flat(record: SecretRecord) -> dict[str, str]:
    """The metadata as a flat map of strings (Vault custom_metadata, AWS tags). Never a secret."""
    data = record.to_dict(with_secrets=False)
    flat = {key: str(data[key]) for key in FLAT_FIELDS if data.get(key) is not None}
    for version in ("current", "previous"):
        for key, value in (data.get(version) or {}).items():
            flat[f"{version}_{key}"] = str(value)
    return flat


def from_flat(flat: dict[str, str]) -> SecretRecord:
    data: dict[str, Any] = {key: flat.get(key) for key in FLAT_FIELDS}
    # Flat stores hold text only: the one non-text field is read back as what to_flat wrote.
    data["protected"] = flat.get("protected") == "True"
    for version in ("current", "previous"):
        prefix = version + "_"
        fields = {key[len(prefix):]: value for key, value in flat.items() if key.startswith(prefix)}
        data[version] = fields or None
    return SecretRecord.from_dict(data)


def with_metadata(full: SecretRecord, metadata: SecretRecord) -> SecretRecord:
    """`full` (secrets included) carrying `metadata`'s vendor times: for stores without separate metadata."""
    current = full.current
    if current is not None and metadata.current is not None and current.fingerprint == metadata.current.fingerprint:
        current = replace(current, generated_at=metadata.current.generated_at)
    return replace(full, current=current, updated_at=metadata.updated_at)
