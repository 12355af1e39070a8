"""One run at a time per account: an flock per account, where every run that can touch it looks.

The directory is the session's `lock_directory`: beside the secrets for the file
backend (two checkouts sharing one secrets directory share its locks), else the
state directory; a backend that can hold a lock itself (Vault) is asked too
(`remote_locks`), for runs on other machines.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import resource
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Protocol, runtime_checkable

from webhookctl.errors import LockHeldError, SecretsError
from webhookctl.fsafe import private_dir
from webhookctl.processes import lock_owner
from webhookctl.timefmt import now_text

# How often a waiting run tries a held lock again.
POLL_SECONDS = 0.2


@contextmanager
def account_locks(directory: Path, scopes: list[str], timeout: float = 0.0) -> Iterator[None]:
    """Hold every account's lock (taken in a fixed order, so two runs cannot deadlock).

    A held lock is waited for up to `timeout` seconds, then refused with who holds it.
    """
    # Its parent (the secrets or state directory) is checked too: a lock beside shared files is no lock.
    private_dir(directory, root=directory.parent)
    _room_for_files(len(set(scopes)))
    deadline = time.monotonic() + timeout
    with ExitStack() as stack:
        for scope in sorted(set(scopes)):
            path = directory / (hashlib.sha256(scope.encode()).hexdigest()[:24] + ".lock")
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            try:
                fd = os.open(path, flags, 0o600)
            except OSError as error:
                # ELOOP: a symbolic link put in place of a lock file; it is never followed.
                raise SecretsError(f"cannot open the lock file {path}: {error.strerror or type(error).__name__}") \
                    from None
            # Bytes decoded leniently: the file only names who holds the lock, and anything may be in it.
            handle = stack.enter_context(open(fd, "r+", encoding="utf-8", errors="replace"))
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() < deadline:
                        time.sleep(POLL_SECONDS)
                        continue
                    handle.seek(0)
                    holder = " ".join(handle.read(200).split())[:120] or "another process"
                    waited = f" (waited {timeout:g} s)" if timeout else " (wait with --lock-timeout SECONDS)"
                    raise LockHeldError(
                        f"{scope} is locked by another webhookctl run ({holder}); wait for it to finish{waited}"
                    ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} since {now_text()}")
            handle.flush()
        yield


# Descriptors a run needs besides its locks: connections, secrets and journal files, the interpreter's own.
HEADROOM = 256


def _room_for_files(locks: int) -> None:
    """Each lock is an open file for the whole run: raise the soft limit on open files as far as needed
    (many systems start at 1,024; a thousand accounts would fail mid-run), or say so before starting."""
    needed = locks + HEADROOM
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SecretsError(f"this run locks {locks} accounts, one open file each, and this system allows "
                           f"{hard} open files (ulimit -Hn): split the run with --shard K/N")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    except (ValueError, OSError):  # e.g. macOS caps the soft limit below an "unlimited" hard one
        raise SecretsError(f"this run locks {locks} accounts, one open file each, and the limit on open files "
                           f"({soft}) cannot be raised to {needed}: raise it (ulimit -n) or split the run with "
                           "--shard K/N") from None


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

