"""The contract every secrets backend keeps."""

from __future__ import annotations

from typing import Protocol

from webhookctl.secrets.record import SecretRecord


class SecretsBackend(Protocol):
    kind: str
    # How many of a run's I/O threads can usefully work on this backend at once: None for as many as
    # accounts run at once (a network service or a helper process: each call mostly waits), a small
    # number for local files behind one lock (more threads only take turns at the lock and the GIL).
    io_threads: int | None

    def key_for(self, provider: str, name: str) -> str: ...

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        """The record without secret values; needs no permission to read secrets."""
        ...

    def list_metadata(self, provider: str) -> list[SecretRecord]: ...

    def read(self, provider: str, name: str) -> SecretRecord | None: ...

    def write(self, record: SecretRecord) -> None:
        """Create or replace a record written by webhookctl; never a foreign entry."""
        ...

    def ensure_writable(self, provider: str, name: str) -> None:
        """ForeignEntryError when the record's key holds an entry webhookctl did not write: asked before a
        destination is created, so that the vendor never issues a secret no record could keep."""
        ...

    def update_metadata(self, record: SecretRecord) -> None:
        """Record what only a plan reads (the vendor's generated_at), leaving the secrets as they are.

        `record` is metadata (no secret values) of a record this backend already holds.
        """
        ...

    def delete(self, provider: str, name: str) -> None: ...
