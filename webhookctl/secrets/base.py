"""The contract every secrets backend keeps."""

from __future__ import annotations

from typing import Protocol

from webhookctl.secrets.record import SecretRecord


class SecretsBackend(Protocol):
    kind: str

    def key_for(self, provider: str, name: str) -> str: ...

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        """The record without secret values; needs no permission to read secrets."""
        ...

    def list_metadata(self, provider: str) -> list[SecretRecord]: ...

    def read(self, provider: str, name: str) -> SecretRecord | None: ...

    def write(self, record: SecretRecord) -> None:
        """Create or replace a record written by webhookctl; never a foreign entry."""
        ...

    def update_metadata(self, record: SecretRecord) -> None:
        """Record what only a plan reads (the vendor's generated_at), leaving the secrets as they are.

        `record` is metadata (no secret values) of a record this backend already holds.
        """
        ...

    def delete(self, provider: str, name: str) -> None: ...
