"""An age-encrypted YAML file for Git, written through the `sops` binary.

Only values under keys named `secret` are encrypted (`--encrypted-regex
^secret$`), so the metadata a plan needs is readable without any key, while
sops' MAC still covers the whole file. A write decrypts a copy, changes it,
encrypts it again (the plain text goes to sops on its standard input, never to
a file a killed run could leave beside the encrypted one, in a directory meant
for Git) and atomically replaces the file, under a lock: the file is never
edited in place. `sops decrypt FILE` reads it.

    records:
      webhooks/prod/orders: {managed_by: webhookctl, ..., current: {secret: ENC[...], fingerprint: ...}}
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import yaml

from webhookctl.config.models import SopsSecrets
from webhookctl.errors import DamagedRecordError, ForeignEntryError, SecretsError
from webhookctl.fsafe import atomic_write, private_dir, read_regular
from webhookctl.secrets.record import MANAGED_BY, SecretRecord, with_metadata

# One file holds every record of a provider (a few kilobytes and ~20 YAML nodes each, encrypted): room for
# tens of thousands of destinations, and no more, since the file sits in Git where a pull request may change it.
MAX_FILE_BYTES = 32 << 20
MAX_NODES = 1_000_000


class _Refused(yaml.YAMLError):
    """A sops file refused for its shape rather than its syntax; the message says what (never a value)."""


class _Bounded(yaml.SafeLoader):
    """sops writes no anchors or aliases (it expands them when it encrypts), so a file that has one was edited
    by hand; and a file of more nodes than any sops writes would take minutes and gigabytes to parse."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
            raise _Refused(f"holds a YAML alias (line {line}), which sops never writes")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"holds more than {MAX_NODES:,} YAML nodes, more than any sops file webhookctl writes")
        return super().compose_node(parent, index)


class SopsBackend:
    kind = "sops"
    io_threads: int | None = 2  # one file, rewritten under one lock

    def __init__(self, config: SopsSecrets, environ: Mapping[str, str]) -> None:
        self.config = config
        # sops checks GitHub for a newer version unless told not to; webhookctl never lets it.
        self._environ = {**environ, "SOPS_DISABLE_VERSION_CHECK": "1"}

    def key_for(self, provider: str, name: str) -> str:
        return self.config.key_template.format(provider=provider, name=name)

    def path(self, provider: str) -> Path:
        return Path(self.config.file.format(provider=provider))

    def _sops(self, *args: str, stdin: bytes | None = None) -> bytes:
        try:
            done = subprocess.run([self.config.sops_binary, *args], input=stdin, capture_output=True,
                                  env=self._environ, timeout=60, check=False)
        except FileNotFoundError:
            raise SecretsError(f"sops: {self.config.sops_binary!r} not found; install sops") from None
        except subprocess.TimeoutExpired:
            raise SecretsError("sops: timed out") from None
        if done.returncode != 0:
            # sops explains over several lines ("Failed to get the data key...", then each key's failure):
            # the first says what failed, the later ones why; the last alone ("but none were.") says neither.
            lines = [line.strip() for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
            raise SecretsError(f"sops {args[0]} failed: {' / '.join(lines)[:400] or f'exit {done.returncode}'}")
        return done.stdout

    def _plain(self, provider: str) -> dict[str, Any]:
        """The file as written, secrets still encrypted: enough for metadata."""
        path = self.path(provider)
        try:
            # The path is the user's choice: a link to the file is followed (only links inside webhookctl's
            # own directories are refused).
            text = read_regular(path, MAX_FILE_BYTES, follow=True)
            if text is None:
                return {}
            data = yaml.load(text.decode("utf-8"), Loader=_Bounded)  # a SafeLoader
        except SecretsError as error:
            raise SecretsError(f"sops: {error}") from None
        except _Refused as error:
            raise SecretsError(f"sops: {path} {error}; restore it from Git") from None
        except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
            raise SecretsError(f"sops: {path} cannot be read ({type(error).__name__}); restore it from Git") from None
        return _records(data, path)

    def _decrypted(self, provider: str) -> dict[str, Any]:
        path = self.path(provider)
        if not path.exists():
            return {}
        return _records(json.loads(self._sops("decrypt", "--input-type", "yaml", "--output-type", "json", str(path))),
                        path)

    @staticmethod
    def _metadata(data: dict[str, Any]) -> SecretRecord:
        record = SecretRecord.from_dict({**data, "current": _strip(data.get("current")),
                                         "previous": _strip(data.get("previous"))})
        return record

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        data = _entry(self._plain(provider), self.key_for(provider, name))
        return self._metadata(data) if data and data.get("managed_by") == MANAGED_BY else None

    def list_metadata(self, provider: str) -> list[SecretRecord]:
        return [self._metadata(data) for data in self._plain(provider).values()
                if isinstance(data, dict) and data.get("managed_by") == MANAGED_BY and data.get("provider") == provider]

    def read(self, provider: str, name: str) -> SecretRecord | None:
        data = _entry(self._decrypted(provider), self.key_for(provider, name))
        return SecretRecord.from_dict(data) if data and data.get("managed_by") == MANAGED_BY else None

    @contextmanager
    def _locked(self, provider: str) -> Iterator[None]:
        path = self.path(provider)
        if not path.parent.exists():
            private_dir(path.parent)
        with open(os.open(f"{path}.lock", os.O_WRONLY | os.O_CREAT, 0o600), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _change(self, provider: str, key: str, data: dict[str, Any] | None) -> None:
        with self._locked(provider):
            records = self._decrypted(provider)
            existing = records.get(key)
            if existing is not None and existing.get("managed_by") != MANAGED_BY:
                raise ForeignEntryError(f"sops: {key} in {self.path(provider)} was not written by webhookctl "
                                        f"(it seems to belong to {existing.get('owner', 'someone else')})")
            if data is None:
                if existing is None:
                    return
                records.pop(key)
            else:
                records[key] = data
            self._encrypt_into(provider, records)

    def _encrypt_into(self, provider: str, records: dict[str, Any]) -> None:
        target = self.path(provider)
        if not target.parent.exists():
            private_dir(target.parent)
        plain = yaml.safe_dump({"records": records}, sort_keys=True).encode()
        encrypted = self._sops("encrypt", "--age", ",".join(self.config.age_recipients),
                               "--encrypted-regex", "^secret$", "--input-type", "yaml", "--output-type", "yaml",
                               "--filename-override", str(target), stdin=plain)
        atomic_write(target, encrypted.decode(), mode=0o600)

    def ensure_writable(self, provider: str, name: str) -> None:
        key = self.key_for(provider, name)
        with suppress(DamagedRecordError):  # not a mapping: no owner to respect, a write repairs it
            existing = _entry(self._plain(provider), key)
            if existing is not None and existing.get("managed_by") != MANAGED_BY:
                raise ForeignEntryError(f"sops: {key} in {self.path(provider)} was not written by webhookctl "
                                        f"(it seems to belong to {existing.get('owner', 'someone else')})")

    def write(self, record: SecretRecord) -> None:
        self._change(record.provider, self.key_for(record.provider, record.name), record.to_dict(with_secrets=True))

    def update_metadata(self, record: SecretRecord) -> None:
        # The store keeps metadata beside the secrets: rewrite the record with the new times.
        full = self.read(record.provider, record.name)
        if full is not None:
            self.write(with_metadata(full, record))

    def delete(self, provider: str, name: str) -> None:
        self._change(provider, self.key_for(provider, name), None)


def _strip(version: Any) -> Any:
    return {k: v for k, v in version.items() if k != "secret"} if isinstance(version, dict) else None


def _records(data: Any, path: Path) -> dict[str, Any]:
    """The `records` mapping of a sops file; a file of another shape is refused whole (it is not damage one
    record's repair could mend, and a repair would rotate a secret at the vendor)."""
    records = data.get("records") if isinstance(data, dict) else data
    if records is None:  # an empty file, or no records yet
        return {}
    if not isinstance(records, dict):
        raise SecretsError(f"sops: {path} is not a webhookctl secrets file (no mapping under 'records'); "
                           "restore it from Git")
    return records


def _entry(records: dict[str, Any], key: str) -> dict[str, Any] | None:
    """One record's entry; one that is not a mapping is a damaged record."""
    data = records.get(key)
    if data is not None and not isinstance(data, dict):
        raise DamagedRecordError(f"sops: {key} is not a webhookctl record")
    return data
