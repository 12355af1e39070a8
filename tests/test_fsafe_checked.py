"""Private files when directories are checked once per run (fsafe's `checked` set) and written fast.

What must hold whatever was checked before: a file is written exactly 0600 whatever the umask (set
while the process runs, too); a
directory removed since it was checked is created again (0700), not an error and not a write
elsewhere; temporary names never clash, in a forked child either; a run that starts after a
directory was swapped for a symbolic link refuses it (the set lives for one run, one backend
instance). Real files, real umasks, a real fork.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.test_backend_contract import record
from webhookctl.errors import SecretsError
from webhookctl.fsafe import Checked, atomic_write_all, read_text
from webhookctl.secrets.file import FileBackend


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o277, 0o000])
def test_files_are_exactly_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    atomic_write_all(tmp_path / "warm", [("a.json", "{}")], root=tmp_path, checked=set())  # under another umask
    previous = os.umask(umask)
    try:
        atomic_write_all(tmp_path / "d", [("a.json", "{}"), ("b.json", "[]")], root=tmp_path, checked=set())
    finally:
        os.umask(previous)
    for name in ("a.json", "b.json"):
        assert stat.S_IMODE((tmp_path / "d" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700


def test_a_directory_removed_after_it_was_checked_is_created_again(tmp_path: Path) -> None:
    checked: Checked = set()
    target = tmp_path / "secrets" / "webhooks" / "prod"
    atomic_write_all(target, [("a.json", "1")], root=tmp_path / "secrets", checked=checked)
    assert os.fspath(target) in checked
    shutil.rmtree(tmp_path / "secrets" / "webhooks")
    atomic_write_all(target, [("a.json", "2")], root=tmp_path / "secrets", checked=checked)
    assert (target / "a.json").read_text() == "2"
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert read_text(target / "a.json", tmp_path / "secrets", checked) == "2"


def test_a_backend_of_a_later_run_refuses_a_directory_swapped_for_a_link(tmp_path: Path) -> None:
    first = FileBackend(tmp_path / "secrets")
    first.write(record(name="a", provider="prod"))
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "secrets" / "webhooks" / "prod").rename(elsewhere)
    (tmp_path / "secrets" / "webhooks" / "prod").symlink_to(elsewhere, target_is_directory=True)
    later = FileBackend(tmp_path / "secrets")  # a new run: nothing taken as checked
    with pytest.raises(SecretsError, match="symbolic link"):
        later.read("prod", "a")
    with pytest.raises(SecretsError, match="symbolic link"):
        later.write(record(name="b", provider="prod"))
    assert not (elsewhere / "b.json").exists()


def test_temporary_names_do_not_clash_in_a_forked_child(tmp_path: Path) -> None:
    import webhookctl.fsafe as fsafe

    parent_next = fsafe._names.next()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next name and leave at once
        os.close(reader)
        os.write(writer, fsafe._names.next().encode())
        os._exit(0)
    os.close(writer)
    child_next = os.read(reader, 100).decode()
    os.close(reader)
    os.waitpid(pid, 0)
    assert child_next and child_next[:8] != parent_next[:8]  # a prefix of its own
    names = {fsafe._names.next() for _ in range(1000)}
    assert len(names) == 1000
