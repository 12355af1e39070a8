"""The `file` backend: one JSON record per destination under a directory.

Layout (key template `webhooks/{provider}/{name}`):

    <directory>/webhooks/prod/orders.json        the record, secrets included (0600)
    <directory>/webhooks/prod/orders.meta.json   the same without secret values (0600)

Directories are 0700. Every file is replaced atomically (temporary file, fsync,
rename, fsync of the directory) under an exclusive lock on `<directory>/.lock`,
so a reader sees the old record or the new one, never a mix.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from webhookctl.errors import ForeignEntryError, SecretsError
from webhookctl.fsafe import atomic_write, atomic_write_all, private_dir
from webhookctl.secrets.record import MANAGED_BY, SecretRecord

META_SUFFIX = ".meta.json"


class FileBackend:
    kind = "file"

    def __init__(self, directory: str | Path, key_template: str = "webhooks/{provider}/{name}") -> None:
        self.directory = Path(directory)
        self.key_template = key_template

    @property
    def lock_directory(self) -> Path:
        """Account locks, beside the records: every run that shares this directory sees them."""
        return self.directory / ".locks"

    def key_for(self, provider: str, name: str) -> str:
        return self.key_template.format(provider=provider, name=name)

    def _paths(self, provider: str, name: str) -> tuple[Path, Path]:
        base = self.directory / self.key_for(provider, name)
        return base.with_name(base.name + ".json"), base.with_name(base.name + META_SUFFIX)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.directory)
        os.chmod(self.directory, 0o700)
        with open(os.open(self.directory / ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _load(path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise SecretsError(f"cannot read {path}: {type(error).__name__}") from None
        if not isinstance(data, dict):
            raise SecretsError(f"{path} is not a webhookctl record")
        return data

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        data = self._load(self._paths(provider, name)[1])
        return SecretRecord.from_dict(data) if data else None

    def _provider_root(self, provider: str) -> Path:
        """The deepest directory holding every key of `provider` (the template's fixed prefix)."""
        fixed = self.key_template.split("{name}")[0].format(provider=provider)
        return self.directory / fixed.rsplit("/", 1)[0] if "/" in fixed else self.directory

    def list_metadata(self, provider: str) -> list[SecretRecord]:
        records = []
        root = self._provider_root(provider)
        for path in sorted(root.rglob("*" + META_SUFFIX)) if root.exists() else []:
            data = self._load(path)
            if data and data.get("provider") == provider and data.get("managed_by") == MANAGED_BY:
                records.append(SecretRecord.from_dict(data))
        return records

    def read(self, provider: str, name: str) -> SecretRecord | None:
        data = self._load(self._paths(provider, name)[0])
        return SecretRecord.from_dict(data) if data else None

    def _check_owner(self, path: Path) -> None:
        existing = self._load(path)
        if existing is not None and existing.get("managed_by") != MANAGED_BY:
            owner = existing.get("managed_by") or existing.get("owner") or "something other than webhookctl"
            raise ForeignEntryError(f"{path} was not written by webhookctl (it seems to belong to {owner}); "
                                    "move it away or change the key template")

    def write(self, record: SecretRecord) -> None:
        record_path, meta_path = self._paths(record.provider, record.name)
        with self._locked():
            self._check_owner(record_path)
            # Both files in one batch: the record first (as before), one directory fsync for the two.
            atomic_write_all(record_path.parent, [
                (record_path.name, json.dumps(record.to_dict(with_secrets=True), indent=2) + "\n"),
                (meta_path.name, json.dumps(record.to_dict(with_secrets=False), indent=2) + "\n"),
            ])

    def update_metadata(self, record: SecretRecord) -> None:
        # Only the index a plan reads; the record file keeps its secrets (and its older times).
        record_path, meta_path = self._paths(record.provider, record.name)
        with self._locked():
            self._check_owner(record_path)
            if record_path.exists():
                atomic_write(meta_path, json.dumps(record.to_dict(with_secrets=False), indent=2) + "\n")

    def delete(self, provider: str, name: str) -> None:
        record_path, meta_path = self._paths(provider, name)
        with self._locked():
            self._check_owner(record_path)
            meta_path.unlink(missing_ok=True)
            record_path.unlink(missing_ok=True)
