"""Files that must survive a crash and stay private: 0700 directories, atomic 0600 writes, no links followed.

- `private_dir` creates what is missing as 0700 and leaves an existing directory's
  mode alone (it may be the working directory, or shared); an existing one that
  others can write into, or a symbolic link below the root, is refused instead.
- `atomic_write` writes a temporary file beside the target, fsyncs, renames.
- `read_text` opens without following a symbolic link (O_NOFOLLOW) below the root.
- `clean_temporaries` removes what a killed atomic write left behind.

A caller that checks the same directories again and again (a secrets backend: every secret's
custody writes and reads several files in them) passes a `Checked` set, kept for one run: a
directory found safe is not looked at again in that run. It would take a process of the same user
to swap it for a link meanwhile, and such a process can read the secrets anyway; a directory that
vanished meanwhile is created again on the next write.

Every OS failure (a read-only directory, a permission) becomes a `SecretsError`
naming the path and the OS's reason, never the text being written.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import secrets
import stat
import time
from pathlib import Path

from webhookctl.errors import DamagedRecordError, SecretsError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# A new temporary file: never an existing one, never through a link, not inherited by children.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_SIZE = 1 << 16
# A record, its metadata or a journal entry is a few kilobytes (secrets, a URL of at most 2,048 characters).
MAX_FILE_BYTES = 1 << 20
_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}
Checked = set[str]  # directories found safe in this run (see the module's docstring)


class _TemporaryNames:
    """Unique temporary names without a system call each: a random prefix per process, then a count.

    O_EXCL makes any clash an error rather than an overwrite; the prefix is drawn again in a forked
    child, which would otherwise count from the same place."""

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = secrets.token_hex(4)
        self._count = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._count):x}"


_names = _TemporaryNames()


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _below(path: Path | str, root: Path | str) -> list[str]:
    """`path` and its ancestors strictly below `root`, outermost first (`[path]` when not below it).

    On strings, not `pathlib`: every secret read and write checks its directories, and building
    `Path`s for it cost more CPU than the system calls. The paths come from `Path`s (normalised), so
    the comparison is the lexical one `Path.relative_to` makes.
    """
    text, top = os.fspath(path), os.fspath(root)
    if text == top:
        return []
    prefix = top if top.endswith(os.sep) else top + os.sep
    if not text.startswith(prefix):
        return [text]
    parts, current = [], top
    for part in text[len(prefix):].split(os.sep):
        current = os.path.join(current, part)
        parts.append(current)
    return parts


def _check_existing(directory: Path | str, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise SecretsError(f"{directory} is a symbolic link; webhookctl does not follow links inside its "
                           "directories (replace it with a directory)")
    if not stat.S_ISDIR(info.st_mode):
        raise SecretsError(f"{directory} is not a directory")
    writable_by_others = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    # A sticky directory of our own keeps others from replacing what we write; any other shared one does not.
    # (Owner asked only then: every secret's custody checks several directories.)
    if writable_by_others and not (info.st_mode & stat.S_ISVTX and info.st_uid == os.geteuid()):
        raise SecretsError(f"{directory} is writable by other users (mode {stat.S_IMODE(info.st_mode):04o}); "
                           "webhookctl keeps secrets only in a private directory: choose another, or "
                           f"'chmod go-w {directory}'")


def private_dir(path: Path, root: Path | None = None, checked: Checked | None = None) -> None:
    """Make sure `path` is a private directory: create what is missing (0700), refuse what is unsafe.

    Existing directories keep their mode. With `root`, every directory from below `root` down to
    `path` must be a real directory (a symbolic link there is refused); `root` itself is the user's choice.
    Directories in `checked` are taken as checked; those checked now are added to it.
    """
    if checked is not None and os.fspath(path) in checked:
        return
    if root is None:
        _ensure(path, checked=checked)
        return
    _ensure(root, follow=True, checked=checked)
    for directory in _below(path, root):
        _ensure(directory, checked=checked)


def _ensure(directory: Path | str, follow: bool = False, checked: Checked | None = None) -> None:
    if checked is not None:
        key = os.fspath(directory)
        if key in checked:
            return
        _ensure(directory, follow)
        checked.add(key)
        return
    try:
        info = os.stat(directory) if follow else os.lstat(directory)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise SecretsError(f"cannot use {directory}: {_reason(error)}") from None
    if info is not None:
        _check_existing(directory, info)
        return
    # Missing: create it and any missing parents, each 0700 (mkdir's mode skips parents and the umask bites).
    missing = []
    current = directory = Path(directory)
    while not os.path.lexists(current):
        missing.append(current)
        current = current.parent
    new = directory
    try:
        for new in reversed(missing):
            with contextlib.suppress(FileExistsError):
                new.mkdir(mode=0o700)
                os.chmod(new, 0o700)
    except OSError as error:
        raise SecretsError(f"cannot create {new}: {_reason(error)}") from None
    _check_existing(directory, os.lstat(directory))


def atomic_write(path: Path, text: str, mode: int = 0o600, root: Path | None = None) -> None:
    """Replace `path` with `text` atomically; a failure is a `SecretsError` (the text is never in it)."""
    atomic_write_all(path.parent, [(path.name, text)], mode, root)


def atomic_write_all(directory: Path, files: list[tuple[str, str]], mode: int = 0o600,
                     root: Path | None = None, checked: Checked | None = None) -> None:
    """Replace each file of `directory` atomically, in order, with one fsync of the directory for all.

    Each file's content is fsync'd before any rename, so every file is the old one or the new one;
    the one directory fsync afterwards makes all the renames durable together. Every temporary is
    written before the first fsync: on a journaling filesystem the first fsync commits them all and
    the others find nothing left to write (ten metadata files: one disk commit instead of ten).
    A failure is a `SecretsError` (no text is in it).
    """
    private_dir(directory, root, checked)
    try:
        _write_files(directory, files, mode, vanish=checked is not None)
    except _Vanished:  # a directory this run checked was removed since: create it again, once
        assert checked is not None
        checked.difference_update(_below(directory, root) if root is not None else [os.fspath(directory)])
        private_dir(directory, root, checked)
        _write_files(directory, files, mode, vanish=False)
    try:
        handle_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle_fd)
        finally:
            os.close(handle_fd)
    except OSError as error:
        raise SecretsError(f"cannot write {directory}: {_reason(error)}") from None


class _Vanished(Exception):
    """The directory to write in is gone (nothing was written)."""


def _write_files(directory: Path, files: list[tuple[str, str]], mode: int, vanish: bool) -> None:
    """Write, fsync and rename each file; `vanish`: raise `_Vanished` if `directory` is gone."""
    folder = os.fspath(directory)
    temporaries: list[tuple[str, str]] = []
    descriptors: list[int] = []
    try:
        for name, text in files:
            # Plain system calls, not tempfile + a text file object: every secret's custody writes
            # several files, and those layers (name sequences, buffering, isatty and seek probes)
            # cost more than the writes. O_EXCL and a unique name (`_names`) make the guarantee mkstemp does.
            temporary = os.path.join(folder, f".{name}.{_names.next()}.tmp")
            try:
                fd = os.open(temporary, _CREATE, mode)
            except FileNotFoundError:
                if not vanish or temporaries or os.path.lexists(directory):
                    raise
                raise _Vanished() from None
            descriptors.append(fd)
            temporaries.append((temporary, os.path.join(folder, name)))
            os.fchmod(fd, mode)  # exactly `mode`, whatever the umask (which can change while a process runs)
            _write_all(fd, text.encode("utf-8"))
        while descriptors:
            os.fsync(descriptors[0])
            os.close(descriptors.pop(0))
        for temporary, path in temporaries:
            os.replace(temporary, path)
    except BaseException as error:
        for fd in descriptors:
            with contextlib.suppress(OSError):
                os.close(fd)
        for temporary, _ in temporaries:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise SecretsError(f"cannot write {directory / files[len(temporaries) - 1][0] if temporaries else directory}: "
                               f"{_reason(error)}") from None
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def refuse_unsafe(directory: Path | str, root: Path | None = None, checked: Checked | None = None) -> None:
    """SecretsError if `directory`, or a directory between `root` and it, is a symbolic link, or (below
    `root`, a private tree) one other users can write into. Nothing is created: a read or a plan looks
    down to the first missing directory only. Directories in `checked` are not looked at again; those
    found safe are added to it.

    Without `root`, only `directory` itself is looked at, and only for a link."""
    if checked is not None and os.fspath(directory) in checked:
        return  # it was checked whole, each directory from `root` down (private_dir)
    if root is None:
        if os.path.islink(directory):
            raise SecretsError(f"{directory} is a symbolic link; webhookctl does not follow links inside "
                               "its directories (replace it with a directory)")
        return
    for each in _below(directory, root):
        if checked is not None and each in checked:
            continue
        try:
            info = os.lstat(each)
        except FileNotFoundError:
            return  # nothing below a missing directory exists either
        except OSError as error:
            raise SecretsError(f"cannot use {each}: {_reason(error)}") from None
        # The mode matters as much as at a write: a record read from a directory others can write
        # into may be theirs, and a plan must not call it webhookctl's.
        _check_existing(each, info)
        if checked is not None:
            checked.add(each)


def read_text(path: Path, root: Path | None = None, checked: Checked | None = None) -> str | None:
    """The file's text, or None when it does not exist; never through a symbolic link below `root`.

    As `read_regular` reads it: a regular file of at most MAX_FILE_BYTES."""
    refuse_unsafe(os.path.dirname(path), root, checked)
    data = read_regular(path, MAX_FILE_BYTES)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DamagedRecordError(f"cannot read {path}: it is not UTF-8 text") from None


def read_regular(path: Path, limit: int, follow: bool = False) -> bytes | None:
    """The bytes of the regular file at `path` (through a link only with `follow`), or None when there is none.

    Anything else is refused rather than read: a named pipe would block the run forever, a device never
    end. More than `limit` bytes is no file webhookctl wrote (DamagedRecordError): reading it whole could
    exhaust memory."""
    try:
        # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer; a regular file ignores it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow else NOFOLLOW))
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SecretsError(f"{path} is a symbolic link; webhookctl does not follow links inside its "
                               "directories") from None
        raise SecretsError(f"cannot read {path}: {_reason(error)}") from None
    try:
        kind = stat.S_IFMT(os.fstat(fd).st_mode)
        if kind != stat.S_IFREG:
            raise SecretsError(f"{path} is {_KINDS.get(kind, 'not a regular file')}, not a file webhookctl "
                               "wrote; move it away")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, _READ_SIZE)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise SecretsError(f"cannot read {path}: {_reason(error)}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise DamagedRecordError(f"{path} is over {limit // (1 << 20)} MiB, more than any file webhookctl writes")
    return b"".join(chunks)


# A temporary file older than this belongs to no live write (each takes milliseconds).
STALE_TEMPORARY_SECONDS = 60.0


def clean_temporaries(directory: Path) -> None:
    """Remove what an atomic write killed mid-way left behind (`.<name>.<random>.tmp`, maybe a secret)."""
    if not directory.is_dir() or directory.is_symlink():
        return
    horizon = time.time() - STALE_TEMPORARY_SECONDS
    # os.walk does not follow directory links, so nothing outside `directory` is touched.
    for folder, _, files in os.walk(directory):
        for name in files:
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            leftover = Path(folder) / name
            with contextlib.suppress(OSError):
                info = os.lstat(leftover)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < horizon:
                    leftover.unlink()
