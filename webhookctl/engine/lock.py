"""One run at a time per account on this machine: an flock per account scope."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Protocol, runtime_checkable

from webhookctl.errors import LockHeldError, SecretsError
from webhookctl.fsafe import private_dir
from webhookctl.processes import lock_owner
from webhookctl.timefmt import now_text


@contextmanager
def account_locks(state_dir: Path, scopes: list[str]) -> Iterator[None]:
    """Hold every account's lock (taken in a fixed order, so two runs cannot deadlock)."""
    directory = state_dir / "locks"
    private_dir(directory)
    with ExitStack() as stack:
        for scope in sorted(set(scopes)):
            path = directory / (hashlib.sha256(scope.encode()).hexdigest()[:24] + ".lock")
            handle = stack.enter_context(open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise LockHeldError(
                    f"{scope} is locked by another webhookctl run ({holder}); wait for it to finish"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {now_text()}")
            handle.flush()
        yield


@runtime_checkable
class RemoteLocking(Protocol):
    def acquire_lock(self, scope: str, owner: str, ttl: float = 3600.0) -> None: ...

    def release_lock(self, scope: str) -> None: ...


@contextmanager
def remote_locks(backend: object, enabled: bool, scopes: list[str]) -> Iterator[None]:
    """Where the backend can hold a lock (Vault), hold one per account for runs on other machines."""
    if not enabled or not isinstance(backend, RemoteLocking):
        yield
        return
    owner = lock_owner()
    taken: list[str] = []
    try:
        for scope in sorted(set(scopes)):
            backend.acquire_lock(scope, owner)
            taken.append(scope)
        yield
    finally:
        for scope in taken:
            # If the backend is down, the lock expires, or the next run on this host takes it over.
            with suppress(SecretsError):
                backend.release_lock(scope)

