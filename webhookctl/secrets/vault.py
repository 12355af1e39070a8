"""HashiCorp Vault / OpenBao, KV version 2, over hvac.

    <mount>/data/<key>       the record (secrets included); read only by apply and applications
    <mount>/metadata/<key>   custom_metadata: the record without secrets; all a plan reads

Writes use check-and-set: cas=0 to create, the version just read to update, so a
concurrent writer makes this write fail instead of being overwritten.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import hvac
import requests
from hvac import exceptions as vault_errors

from webhookctl.config.models import VaultSecrets
from webhookctl.errors import ForeignEntryError, LockHeldError, SecretsAccessDenied, SecretsError
from webhookctl.processes import process_gone
from webhookctl.secrets.record import MANAGED_BY, SecretRecord, from_flat, to_flat
from webhookctl.timefmt import format_epoch

LOCKS = "webhookctl-locks"


class VaultBackend:
    kind = "vault"
    io_threads: int | None = None  # a network service: calls wait, in parallel

    def __init__(self, config: VaultSecrets, environ: Mapping[str, str]) -> None:
        self.config = config
        self._environ = environ
        self._client: hvac.Client | None = None

    # -- connection ---------------------------------------------------------------

    @property
    def client(self) -> hvac.Client:
        if self._client is None:
            address = self.config.address or self._environ.get("VAULT_ADDR")
            if not address:
                raise SecretsError("vault: no address; set VAULT_ADDR or secrets.address")
            client = hvac.Client(url=address, token=self._environ.get("VAULT_TOKEN"),
                                 namespace=self.config.namespace or self._environ.get("VAULT_NAMESPACE"),
                                 timeout=self.config.timeout)
            if not self._environ.get("VAULT_TOKEN") and self._environ.get("VAULT_ROLE_ID"):
                with self._errors("AppRole login"):
                    client.auth.approle.login(role_id=self._environ["VAULT_ROLE_ID"],
                                              secret_id=self._environ.get("VAULT_SECRET_ID"))
            self._client = client
        return self._client

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (vault_errors.Forbidden, vault_errors.Unauthorized):
            raise SecretsAccessDenied(f"vault: permission denied for {what}") from None
        except requests.exceptions.RequestException as error:
            raise SecretsError(f"vault: {what} failed: {type(error).__name__} "
                               f"(is Vault at {self.config.address or self._environ.get('VAULT_ADDR')} up?)") from None
        except vault_errors.VaultError as error:
            raise SecretsError(f"vault: {what} failed: {_reason(str(error))}") from None

    @property
    def _kv(self) -> Any:
        return self.client.secrets.kv.v2

    def key_for(self, provider: str, name: str) -> str:
        return self.config.key_template.format(provider=provider, name=name)

    # -- reads --------------------------------------------------------------------

    def _metadata(self, path: str) -> dict[str, Any] | None:
        with self._errors(f"reading metadata of {path}"):
            try:
                response = self._kv.read_secret_metadata(path=path, mount_point=self.config.mount)
            except vault_errors.InvalidPath:
                return None
        data: dict[str, Any] = response["data"]
        return data

    def read_metadata(self, provider: str, name: str) -> SecretRecord | None:
        meta = self._metadata(self.key_for(provider, name))
        custom = (meta or {}).get("custom_metadata") or {}
        return from_flat(custom) if custom.get("managed_by") == MANAGED_BY else None

    def _list(self, prefix: str) -> list[str]:
        with self._errors(f"listing {prefix}"):
            try:
                keys = self._kv.list_secrets(path=prefix, mount_point=self.config.mount)["data"]["keys"]
            except vault_errors.InvalidPath:
                return []
        found: list[str] = []
        for key in keys:
            found += self._list(prefix + key) if key.endswith("/") else [prefix + key]
        return found

    def list_metadata(self, provider: str) -> list[SecretRecord]:
        fixed = self.config.key_template.split("{name}")[0].format(provider=provider)
        prefix = fixed.rsplit("/", 1)[0] + "/" if "/" in fixed else ""
        records = []
        for path in self._list(prefix):
            custom = (self._metadata(path) or {}).get("custom_metadata") or {}
            if custom.get("managed_by") == MANAGED_BY and custom.get("provider") == provider:
                records.append(from_flat(custom))
        return records

    def read(self, provider: str, name: str) -> SecretRecord | None:
        data = self._latest(self.key_for(provider, name))
        return SecretRecord.from_dict(data) if data is not None and data.get("managed_by") == MANAGED_BY else None

    def _latest(self, path: str) -> dict[str, Any] | None:
        """The data of the latest version at `path`, or None when there is none."""
        with self._errors(f"reading {path}"):
            try:
                response = self._kv.read_secret_version(path=path, mount_point=self.config.mount,
                                                        raise_on_deleted_version=True)
            except vault_errors.InvalidPath:
                return None
        data = response["data"]["data"]
        return data if isinstance(data, dict) else None

    # -- writes -------------------------------------------------------------------

    def _owned(self, path: str) -> dict[str, Any] | None:
        meta = self._metadata(path)
        if meta is None or not meta.get("versions"):
            return meta
        custom = meta.get("custom_metadata") or {}
        # A write is two calls (data, then custom_metadata): one cut between them leaves webhookctl's record
        # without its mark, which the data itself still shows.
        if custom.get("managed_by") != MANAGED_BY and (self._latest(path) or {}).get("managed_by") != MANAGED_BY:
            owner = custom.get("owner") or custom.get("managed_by") or "something other than webhookctl"
            raise ForeignEntryError(f"vault: {self.config.mount}/{path} was not written by webhookctl "
                                    f"(it seems to belong to {owner}); choose another key_template")
        return meta

    def ensure_writable(self, provider: str, name: str) -> None:
        self._owned(self.key_for(provider, name))

    def write(self, record: SecretRecord) -> None:
        path = self.key_for(record.provider, record.name)
        meta = self._owned(path)
        version = int(meta["current_version"]) if meta and meta.get("versions") else 0
        with self._errors(f"writing {path}"):
            try:
                self._kv.create_or_update_secret(path=path, secret=record.to_dict(with_secrets=True), cas=version,
                                                 mount_point=self.config.mount)
            except vault_errors.InvalidRequest as error:
                if "check-and-set" in str(error):
                    raise SecretsError(f"vault: {path} changed while webhookctl was writing it "
                                       "(another writer); nothing was overwritten") from None
                raise
            self._kv.update_metadata(path=path, custom_metadata=to_flat(record), mount_point=self.config.mount)

    def update_metadata(self, record: SecretRecord) -> None:
        # custom_metadata only: no new version of the secret data.
        path = self.key_for(record.provider, record.name)
        if self._owned(path) is None:
            return
        with self._errors(f"updating metadata of {path}"):
            self._kv.update_metadata(path=path, custom_metadata=to_flat(record), mount_point=self.config.mount)

    def delete(self, provider: str, name: str) -> None:
        path = self.key_for(provider, name)
        if self._owned(path) is None:
            return
        with self._errors(f"deleting {path}"):
            self._kv.delete_metadata_and_all_versions(path=path, mount_point=self.config.mount)

    # -- a lock for runs on several machines ----------------------------------------------

    def _lock_path(self, scope: str) -> str:
        return f"{LOCKS}/{hashlib.sha256(scope.encode()).hexdigest()[:24]}"

    def acquire_lock(self, scope: str, owner: str, ttl: float = 3600.0) -> None:
        path = self._lock_path(scope)
        meta = self._metadata(path)
        version = 0
        if meta and meta.get("versions"):
            with self._errors(f"reading lock {path}"):
                held = self._kv.read_secret_version(path=path, mount_point=self.config.mount,
                                                    raise_on_deleted_version=False)["data"]["data"] or {}
            if held and float(held.get("expires_at", 0)) > time.time() and not process_gone(str(held.get("owner"))):
                raise LockHeldError(f"{scope} is locked in Vault by {held.get('owner', 'another run')} until "
                                    f"{format_epoch(float(held['expires_at']))}"
                                    "; if that run is gone, use 'webhookctl force-unlock'")
            version = int(meta["current_version"])
        with self._errors(f"taking lock {path}"):
            try:
                self._kv.create_or_update_secret(path=path, cas=version, mount_point=self.config.mount, secret={
                    "owner": owner, "scope": scope, "expires_at": str(time.time() + ttl)})
            except vault_errors.InvalidRequest:
                raise LockHeldError(f"{scope} was just locked in Vault by another run") from None

    def release_lock(self, scope: str) -> None:
        with self._errors("releasing a lock"):
            self._kv.delete_metadata_and_all_versions(path=self._lock_path(scope), mount_point=self.config.mount)

    def held_locks(self) -> list[dict[str, str]]:
        locks = []
        for path in self._list(LOCKS + "/"):
            with self._errors(f"reading lock {path}"):
                try:
                    data = self._kv.read_secret_version(path=path, mount_point=self.config.mount,
                                                        raise_on_deleted_version=False)["data"]["data"]
                except vault_errors.InvalidPath:
                    continue
            if data:
                locks.append({"path": path, **data})
        return locks


def _reason(message: str) -> str:
    """Vault's error in one line: it writes "1 error occurred:" and then, on their own lines, the errors."""
    lines = [line.strip().removeprefix("* ") for line in message.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith("occurred:"):
        lines = lines[1:]
    return "; ".join(lines)[:300]
