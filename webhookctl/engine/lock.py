"""One run at a time per account on this machine: an flock per account scope."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from webhookctl.errors import LockHeldError
from webhookctl.secrets.file import private_dir


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
            handle.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
            handle.flush()
        yield
