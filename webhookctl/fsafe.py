"""Files that must survive a crash and stay private: 0700 directories, atomic 0600 writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path


def private_dir(path: Path) -> None:
    """Create `path` and any missing parents as 0700 (mkdir's mode skips parents)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# A temporary file older than this belongs to no live write (each takes milliseconds).
STALE_TEMPORARY_SECONDS = 60.0


def clean_temporaries(directory: Path) -> None:
    """Remove what an atomic write killed mid-way left behind (`.<name>.<random>.tmp`, maybe a secret)."""
    if not directory.is_dir():
        return
    horizon = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in directory.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            if not leftover.is_symlink() and leftover.stat().st_mtime < horizon:
                leftover.unlink()
