"""The `file` backend: one JSON record per destination under a directory.

Layout (key template `webhooks/{provider}/{name}`):

    <directory>/webhooks/prod/orders.json        the record, secrets included (0600)
    <directory>/webhooks/prod/orders.meta.json   the same without secret values (0600)

Directories webhookctl creates are 0700; an existing directory keeps its mode,
and is refused if others can write into it. Every file is replaced atomically
(temporary file, fsync, rename, fsync of the directory) under an exclusive lock on
`<directory>/.lock`, so a reader sees the old record or the new one, never a mix;
the temporary files a killed run left are removed by the next one. No symbolic
link below the directory is followed. Every file read is parsed strictly
(`SecretRecord.from_dict`): damage is a `SecretsError` naming the file and field.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from webhookctl.errors import DamagedRecordError, ForeignEntryError, SecretsError
from webhookctl.fsafe import (
    NOFOLLOW,
    Checked,
    atomic_write_all,
    clean_temporaries,
    private_dir,
    read_text,
    refuse_unsafe,
)
from webhookctl.secrets.record import MANAGED_BY, SecretRecord

META_SUFFIX = ".meta.json"


class FileBackend:
    kind = "file"
    io_threads: int | None = 2  # one lock for the directory; a second thread writes journal entries meanwhile

    def __init__(self, directory: str | Path, key_template: str = "webhooks/{provider}/{name}") -> None:
        self.directory = Path(directory)
        self.key_template = key_template
        self._cleaned = False
        # (provider, name) -> (record path, metadata path): a secret's custody asks for them about ten
        # times, and building the `Path`s each time was a visible share of its CPU.
        self._path_cache: dict[tuple[str, str], tuple[Path, Path]] = {}
        # Directories found safe by this instance (one run's): each custody is not a dozen lstats.
        self._checked: Checked = set()

    @property
    def lock_directory(self) -> Path:
        """Account locks, beside the records: every run that shares this directory sees them."""
        return self.directory / ".locks"

    def key_for(self, provider: str, name: str) -> str:
        return self.key_template.format(provider=provider, name=name)

    def _paths(self, provider: str, name: str) -> tuple[Path, Path]:
        paths = self._path_cache.get((provider, name))
        if paths is None:
            base = self.directory / self.key_for(provider, name)
            paths = self._path_cache[provider, name] = (base.with_name(base.name + ".json"),
                                                        base.with_name(base.name + META_SUFFIX))
        return paths

    def _clean_once(self) -> None:
        """Remove temporaries a killed write left (they may hold a secret), once per run."""
        if not self._cleaned:
            self._cleaned = True
            clean_temporaries(self.directory)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.directory, checked=self._checked)
        self._clean_once()
        try:
            fd = os.open(self.directory / ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND | NOFOLLOW, 0o600)
        except OSError as error:
            raise SecretsError(f"cannot lock {self.directory}: {error.strerror or type(error).__name__}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _load(self, path: Path) -> dict[str, Any] | None:
        text = read_text(path, self.directory, self._checked)
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError as error:
            # The position only: the text may hold a secret.
            raise DamagedRecordError(f"{path} is not valid JSON (line {getattr(error, 'lineno', '?')}); "
                                     "restore it from a backup, or delete it to have it repaired") from None
        if not isinstance(data, dict):
            kind = "a JSON list" if isinstance(data, list) else "JSON that is not an object"
            raise DamagedRecordError(f"{path} is not a webhookctl record (it holds {kind})")
        return data

    def _owned(self, path: Path) -> dict[str, Any] | None:
        """The record at `path`, refused when something other than webhookctl wrote it."""
        data = self._load(path)
        if data is not None and data.get("managed_by") != MANAGED_BY:
            owner = data.get("managed_by") or data.get("owner")
            owner = owner if isinstance(owner, str) else "something other than webhookctl"
            raise ForeignEntryError(f"{path} was not written by webhookctl (it seems to belong to {owner[:80]}); "
                                    "move it away or change the key template")
        return data

    def ensure_writable(self, provider: str, name: str) -> None:
        for path in self._paths(provider, name):
            with suppress(DamagedRecordError):  # unreadable, not another tool's: a write repairs it
                self._owned(path)

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        path = self._paths(provider, name)[1]
        data = self._owned(path)
        return SecretRecord.from_dict(data, str(path)) if data is not None else None

    def _provider_root(self, provider: str) -> Path:
        """The deepest directory holding every key of `provider` (the template's fixed prefix)."""
        fixed = self.key_template.split("{name}")[0].format(provider=provider)
        return self.directory / fixed.rsplit("/", 1)[0] if "/" in fixed else self.directory

    def list_metadata(self, provider: str) -> list[SecretRecord]:
        records = []
        root = self._provider_root(provider)
        if os.path.lexists(self.directory):
            # exists: only checked, down to the provider's records (a directory others can write is refused)
            private_dir(self.directory, checked=self._checked)
            refuse_unsafe(root, self.directory, self._checked)
            self._clean_once()
        for path in _metadata_files(root, self.directory):
            data = self._load(path)
            if data is None or data.get("managed_by") != MANAGED_BY:
                continue  # not webhookctl's: never listed (writing over it is refused)
            if isinstance(data.get("provider"), str) and data["provider"] != provider:
                continue  # another provider's, under a shared prefix
            records.append(SecretRecord.from_dict(data, str(path)))
        return records

    def read(self, provider: str, name: str) -> SecretRecord | None:
        path = self._paths(provider, name)[0]
        data = self._owned(path)
        return SecretRecord.from_dict(data, str(path)) if data is not None else None

    def _check_owner(self, path: Path, meta_path: Path | None = None) -> None:
        try:
            self._owned(path)
        except ForeignEntryError:
            raise
        except SecretsError:
            # An unreadable record whose metadata is webhookctl's is webhookctl's, damaged: a repair may
            # overwrite it. Without such metadata nobody can tell whose it is, so it stays untouched.
            meta = self._load(meta_path) if meta_path is not None else None
            if meta is None or meta.get("managed_by") != MANAGED_BY:
                raise

    def write(self, record: SecretRecord) -> None:
        record_path, meta_path = self._paths(record.provider, record.name)
        with self._locked():
            self._check_owner(record_path, meta_path)
            # Both files in one batch: the record first (as before), one directory fsync for the two.
            atomic_write_all(record_path.parent, [
                (record_path.name, json.dumps(record.to_dict(with_secrets=True), indent=2) + "\n"),
                (meta_path.name, _metadata_text(record)),
            ], root=self.directory, checked=self._checked)

    def update_metadata(self, record: SecretRecord) -> None:
        self.update_metadata_all([record])

    def update_metadata_all(self, records: list[SecretRecord]) -> None:
        """`update_metadata` for several records: one lock, and per directory one batch of atomic
        writes (each file fsync'd, one directory fsync for all). After an apply every new record is
        stamped with the vendor's time: one at a time, each took the lock and its own directory fsync."""
        # Only the index a plan reads; each record file keeps its secrets (and its older times).
        batches: dict[Path, list[tuple[str, str]]] = {}
        with self._locked():
            for record in records:
                record_path, meta_path = self._paths(record.provider, record.name)
                self._check_owner(record_path)
                if record_path.exists():
                    batches.setdefault(meta_path.parent, []).append(
                        (meta_path.name, _metadata_text(record)))
            for directory, files in batches.items():
                atomic_write_all(directory, files, root=self.directory, checked=self._checked)

    def delete(self, provider: str, name: str) -> None:
        record_path, meta_path = self._paths(provider, name)
        with self._locked():
            self._check_owner(record_path)
            try:
                meta_path.unlink(missing_ok=True)
                record_path.unlink(missing_ok=True)
            except OSError as error:
                raise SecretsError(f"cannot delete {record_path}: {error.strerror or type(error).__name__}") from None


def _metadata_text(record: SecretRecord) -> str:
    """The metadata file: compact JSON. Only programs read it (plan, the post-apply stamps), and an
    indented dump goes through json's pure-Python encoder (~5x the CPU of the C one); the record
    file, which a person may open, stays indented."""
    return json.dumps(record.to_dict(with_secrets=False), separators=(",", ":")) + "\n"


def _metadata_files(root: Path, top: Path) -> list[Path]:
    """Every metadata file under `root`, without following a symbolic link (os.walk does not)."""
    if not root.is_dir() or (root.is_symlink() and root != top):
        return []
    found = []
    for folder, _, files in os.walk(root):
        found += [Path(folder) / name for name in files if name.endswith(META_SUFFIX)]
    return sorted(found)
