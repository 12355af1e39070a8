"""The operation journal: write-ahead intent for every vendor write, and escrow for issued secrets.

The vendors take no idempotency key, so the journal does that work. Before apply
creates, replaces, rotates or deletes a destination it records its intent here
(what, where, which old destination a replace retires, when, on the vendor's
clock); each later step (the vendor's answer, the secret, its custody, the
retirement of the old half) is recorded as it happens. A secret the vendor shows
once is in this file (0600; AES-GCM encrypted under `settings.escrow_key` when
set) before anything else is done with it: the journal is the escrow.

The next run reads unfinished entries before planning and finishes them
(`webhookctl.engine.recover`); an entry leaves the journal only when its
operation is complete. Entries are one file each under `<state_dir>/journal/`,
replaced atomically, parsed strictly: a damaged entry is an error, never skipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets as random
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from webhookctl.errors import SecretsError
from webhookctl.fsafe import Checked, atomic_write_all, clean_temporaries, private_dir, read_text
from webhookctl.secret import Secret
from webhookctl.timefmt import format_time, parse_time

Operation = Literal["create", "replace", "rotate", "delete", "repair"]
OPERATIONS: tuple[str, ...] = Operation.__args__  # type: ignore[attr-defined]
# intent: sent or about to be sent; issued: the vendor's answer (and secret) is here;
# stored: the backend holds the secret; retired: a replace deleted its old destination.
Stage = Literal["intent", "issued", "stored"]
STAGES: tuple[str, ...] = Stage.__args__  # type: ignore[attr-defined]
SecretKind = Literal["create", "rotate"]


@dataclass(frozen=True)
class JournalEntry:
    provider: str
    account: str
    op: Operation
    name: str | None
    url: str
    started_at: datetime  # the vendor's clock when the intent was recorded
    fields: dict[str, Any] = field(default_factory=dict)
    destination_id: str | None = None  # the destination acted on, or made (once known)
    retires: str | None = None  # a replace: the old destination's id
    retired: bool = False
    stage: Stage = "intent"
    secret_kind: SecretKind | None = None
    secret: Secret | None = None
    issued_at: datetime | None = None
    dual_signing_stops_at: datetime | None = None
    id: str = ""

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.name or self.destination_id or self.url}"

    def to_dict(self, key: bytes | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "provider": self.provider, "account": self.account, "op": self.op, "name": self.name,
            "url": self.url, "started_at": format_time(self.started_at), "fields": self.fields,
            "destination_id": self.destination_id, "retires": self.retires, "retired": self.retired,
            "stage": self.stage, "secret_kind": self.secret_kind,
            "issued_at": format_time(self.issued_at) if self.issued_at else None,
            "dual_signing_stops_at": format_time(self.dual_signing_stops_at) if self.dual_signing_stops_at else None,
        }
        if self.secret is None:
            return data
        if key is None:
            return {**data, "secret": self.secret.reveal()}
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, self.secret.reveal().encode(), self.id.encode())
        return {**data, "secret_encrypted": base64.b64encode(nonce + sealed).decode()}

    @classmethod
    def from_dict(cls, data: Any, key: bytes | None) -> JournalEntry:
        """Parse strictly: a wrong type anywhere is an error (a secret is never coerced from a number)."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        text = _reader(data)
        op, stage = text("op"), text("stage")
        if op not in OPERATIONS:
            raise ValueError(f"op {op!r} is not one of {', '.join(OPERATIONS)}")
        if stage not in STAGES:
            raise ValueError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
        kind = text("secret_kind", optional=True)
        if kind not in (None, "create", "rotate"):
            raise ValueError(f"secret_kind {kind!r} is not create or rotate")
        fields = data.get("fields", {})
        if not isinstance(fields, dict):
            raise ValueError("fields is not an object")
        retired = data.get("retired", False)
        if not isinstance(retired, bool):
            raise ValueError("retired is not a boolean")
        entry_id = text("id")
        secret: Secret | None = None
        if "secret_encrypted" in data:
            if key is None:
                raise SecretsError("journaled secrets are encrypted: set settings.escrow_key to finish them")
            try:
                raw = base64.b64decode(text("secret_encrypted"), validate=True)
                secret = Secret(AESGCM(key).decrypt(raw[:12], raw[12:], entry_id.encode()).decode())
            except (InvalidTag, ValueError):
                raise SecretsError("a journaled secret does not decrypt with settings.escrow_key") from None
        elif data.get("secret") is not None:
            secret = Secret(text("secret"))
        if stage == "issued" and secret is None:
            raise ValueError("stage 'issued' without its secret")
        return cls(
            id=entry_id, provider=text("provider"), account=text("account"), op=op,
            name=text("name", optional=True), url=text("url"), started_at=parse_time(text("started_at")),
            fields=fields, destination_id=text("destination_id", optional=True),
            retires=text("retires", optional=True), retired=retired, stage=stage,
            secret_kind=kind, secret=secret,
            issued_at=_optional_time(text("issued_at", optional=True)),
            dual_signing_stops_at=_optional_time(text("dual_signing_stops_at", optional=True)),
        )


def _reader(data: dict[str, Any]) -> Any:
    def text(key: str, optional: bool = False) -> str | None:
        value = data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise ValueError(f"{key} is not a string")
        return value

    return text


def _optional_time(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def escrow_key(passphrase: str | None) -> bytes | None:
    """A 256-bit AES key from the configured key text (any length; a random one is best)."""
    if not passphrase:
        return None
    return hashlib.sha256(b"webhookctl escrow v1\0" + passphrase.encode()).digest()


class Journal:
    def __init__(self, directory: str | Path, key: bytes | None = None) -> None:
        self.directory = Path(directory)
        self._key = key
        self._checked: Checked = set()  # the directory, once found safe (each entry is written several times)

    def begin(self, entry: JournalEntry) -> JournalEntry:
        """Record an intent, durably, before the vendor is asked."""
        stamp = entry.started_at.strftime("%Y%m%dT%H%M%S")
        return self._write(replace(entry, id=entry.id or f"{stamp}-{random.token_hex(6)}"))

    def advance(self, entry: JournalEntry, **changes: Any) -> JournalEntry:
        """Record the next step of an entry (its answer, its secret, its custody), durably."""
        return self._write(replace(entry, **changes))

    def finish(self, entry: JournalEntry) -> None:
        try:
            (self.directory / f"{entry.id}.json").unlink(missing_ok=True)
        except OSError as error:
            raise SecretsError(f"cannot finish journal entry {entry.id}: {error.strerror or type(error).__name__}") \
                from None

    def _write(self, entry: JournalEntry) -> JournalEntry:
        atomic_write_all(self.directory, [(f"{entry.id}.json", json.dumps(entry.to_dict(self._key)) + "\n")],
                         checked=self._checked)
        return entry

    def entries(self, provider: str | None = None) -> list[JournalEntry]:
        if not os.path.lexists(self.directory):
            return []
        private_dir(self.directory)  # refuses a symbolic link or a directory others can write
        clean_temporaries(self.directory)
        found = [self._read(path) for path in sorted(self.directory.glob("*.json"))]
        return [e for e in found if e is not None and (provider is None or e.provider == provider)]

    def entry(self, entry_id: str) -> JournalEntry | None:
        """One entry by id (None when there is none); SecretsError when it is damaged."""
        return self._read(self.directory / f"{entry_id}.json") if os.path.lexists(self.directory) else None

    def _read(self, path: Path) -> JournalEntry | None:
        try:
            text = read_text(path)
            if text is None:
                return None  # finished by another account's worker since the listing
            entry = JournalEntry.from_dict(json.loads(text), self._key)
        except SecretsError as error:
            raise SecretsError(f"journal entry {path}: {error}") from None
        except (ValueError, UnicodeDecodeError) as error:
            # Writes are atomic, so this is damage from outside; never skip a secret silently.
            raise SecretsError(f"journal entry {path} is unreadable ({error}); inspect it, or drop it with "
                               f"'webhookctl recover --drop {path.stem}'") from None
        if entry.id != path.stem:
            raise SecretsError(f"journal entry {path} names another entry ({entry.id!r}); inspect it")
        return entry

    def drop(self, entry_id: str) -> Path:
        """Remove one entry on purpose (what it held is lost); the caller has asked the user."""
        path = self.directory / f"{entry_id}.json"
        if not path.is_file() or path.parent != self.directory:
            raise SecretsError(f"no journal entry {entry_id!r} in {self.directory}")
        try:
            path.unlink()
        except OSError as error:
            raise SecretsError(f"cannot drop {path}: {error.strerror or type(error).__name__}") from None
        return path
