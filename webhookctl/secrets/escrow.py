"""Escrow: a secret the vendor just showed is on disk before anything else happens.

One 0600 JSON file per issued secret under `<state_dir>/escrow/` (the secret
AES-GCM encrypted when `settings.escrow_key` is set), written
atomically before the backend write and removed only after the backend holds
the secret and a read-back matched its fingerprint. Whatever is found here on
the next run is finished first (`webhookctl recover`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets as random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from webhookctl.errors import SecretsError
from webhookctl.fsafe import atomic_write
from webhookctl.model import Secret
from webhookctl.secrets.record import _text, _time


@dataclass(frozen=True)
class EscrowEntry:
    provider: str
    name: str
    kind: str  # "create" or "rotate"
    destination_id: str
    url: str
    secret: Secret
    issued_at: datetime
    dual_signing_stops_at: datetime | None = None
    id: str = ""

    def to_dict(self, key: bytes | None = None) -> dict[str, Any]:
        data = {
            "id": self.id, "provider": self.provider, "name": self.name, "kind": self.kind,
            "destination_id": self.destination_id, "url": self.url,
            "issued_at": _text(self.issued_at), "dual_signing_stops_at": _text(self.dual_signing_stops_at),
        }
        if key is None:
            return {**data, "secret": self.secret.reveal()}
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, self.secret.reveal().encode(), self.id.encode())
        return {**data, "secret_encrypted": base64.b64encode(nonce + sealed).decode()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], key: bytes | None = None) -> EscrowEntry:
        issued = _time(data["issued_at"])
        assert issued is not None
        if "secret_encrypted" in data:
            if key is None:
                raise SecretsError("escrowed secrets are encrypted: set settings.escrow_key to finish them")
            raw = base64.b64decode(data["secret_encrypted"])
            try:
                secret = AESGCM(key).decrypt(raw[:12], raw[12:], str(data["id"]).encode()).decode()
            except InvalidTag:
                raise SecretsError("an escrowed secret does not decrypt with settings.escrow_key") from None
        else:
            secret = str(data["secret"])
        return cls(
            id=str(data["id"]), provider=str(data["provider"]), name=str(data["name"]), kind=str(data["kind"]),
            destination_id=str(data["destination_id"]), url=str(data["url"]), secret=Secret(secret),
            issued_at=issued, dual_signing_stops_at=_time(data.get("dual_signing_stops_at")),
        )


def escrow_key(passphrase: str | None) -> bytes | None:
    """A 256-bit AES key from the configured key text (any length; a random one is best)."""
    if not passphrase:
        return None
    return hashlib.sha256(b"webhookctl escrow v1\0" + passphrase.encode()).digest()


class Escrow:
    def __init__(self, directory: str | Path, key: bytes | None = None) -> None:
        self.directory = Path(directory)
        self._key = key

    def put(self, entry: EscrowEntry) -> EscrowEntry:
        entry_id = entry.id or f"{entry.issued_at.strftime('%Y%m%dT%H%M%S')}-{random.token_hex(4)}"
        stored = EscrowEntry(**{**entry.__dict__, "id": entry_id})
        atomic_write(self.directory / f"{entry_id}.json", json.dumps(stored.to_dict(self._key)) + "\n")
        return stored

    def remove(self, entry: EscrowEntry) -> None:
        (self.directory / f"{entry.id}.json").unlink(missing_ok=True)

    def entries(self) -> list[EscrowEntry]:
        if not self.directory.exists():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                found.append(EscrowEntry.from_dict(json.loads(path.read_text()), self._key))
            except FileNotFoundError:
                continue  # finished by another account's worker since the listing
            except SecretsError:
                raise
            except (ValueError, KeyError, AssertionError):
                # Writes are atomic, so this is damage from outside; never skip a secret silently.
                raise SecretsError(f"escrow entry {path} is unreadable; inspect it before running again") from None
        return found

    def pending(self, provider: str, name: str) -> list[EscrowEntry]:
        return [e for e in self.entries() if e.provider == provider and e.name == name]
