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
    atomic_write_all(path.parent, [(path.name, text)], mode)


def atomic_write_all(directory: Path, files: list[tuple[str, str]], mode: int = 0o600) -> None:
    """Replace each file of `directory` atomically, in order, with one fsync of the directory for all.

    Each file's content is fsync'd before its rename, so every file is the old one or the new one;
    the one directory fsync afterwards makes all the renames durable together (a secret's record and
    its metadata: three fsyncs instead of four).
    """
    private_dir(directory)
    temporaries: list[tuple[str, Path]] = []
    try:
        for name, text in files:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
            temporaries.append((temporary, directory / name))
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        for temporary, path in temporaries:
            os.replace(temporary, path)
    except BaseException:
        for temporary, _ in temporaries:
            Path(temporary).unlink(missing_ok=True)
        raise
    handle_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle_fd)
    finally:
        os.close(handle_fd)


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
