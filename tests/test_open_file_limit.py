"""An apply of many accounts holds one lock file per account for the whole run.

On a system whose soft limit on open files is low (1,024 is common; 256 on some), a run of more
accounts than that must still work: webhookctl raises its own soft limit as far as the hard limit
allows. Where the hard limit is too low, it says so before any vendor call, naming --shard.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AmigoServer
from tests.support.fleet import fleet
from tests.support.workspace import Workspace

ORGS = 80
LOW = 64  # below ORGS: without raising it, the locks alone exhaust the descriptors


def many(root: Path, server: AmigoServer) -> Workspace:
    server.control("settings", {"rate_limits": {e: 100000 for e in
                                                ("signin", "list", "create", "update", "delete", "rotate")}})
    root.mkdir()
    workspace = fleet(root, server.url, server.emulator, ORGS, per_org=1)
    workspace.write()
    return workspace


def apply(workspace: Workspace, soft: int, hard: int) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return subprocess.run([sys.executable, "-m", "webhookctl", "apply", "--auto-approve", "-c",
                           str(workspace.config_path)], env={**os.environ, **workspace.env()}, text=True,
                          capture_output=True, preexec_fn=limit, timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_low_soft_limit_is_raised_for_the_locks(tmp_path: Path, amigo_server: AmigoServer) -> None:
    workspace = many(tmp_path / "w", amigo_server)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < ORGS + 300:
        pytest.skip(f"this machine's hard limit ({hard}) is itself too low")
    done = apply(workspace, LOW, hard)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "w" / "secrets").rglob("*.meta.json"))) == ORGS


@pytest.mark.slow
def test_a_hard_limit_too_low_is_refused_before_any_vendor_call(tmp_path: Path, amigo_server: AmigoServer) -> None:
    workspace = many(tmp_path / "w", amigo_server)
    before = sum(amigo_server.emulator.requests.values())
    done = apply(workspace, LOW, LOW)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"this run locks {ORGS} accounts" in done.stderr and "--shard K/N" in done.stderr
    assert sum(amigo_server.emulator.requests.values()) == before  # refused before any vendor call
