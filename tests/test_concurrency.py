"""Runs that could touch one account see each other, wherever they start.

Two checkouts sharing one file-backend secrets directory take the same account lock (it lives in the
secrets directory, keyed by account), so two applies at once never duplicate a destination: one is
refused with a clear message, or waits with `--lock-timeout`. Two providers reaching one organisation
through different spellings of its address are one account, so `unmanaged: delete` in either never
deletes what the other declares. Real CLI processes, a real emulator on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.workspace import Org, Workspace

pytestmark = pytest.mark.slow

LOCKED = "is locked by another webhookctl run"


def checkout(root: Path, account: Org, secrets: Path) -> Workspace:
    root.mkdir()
    workspace = Workspace(root, {"prod": account})
    workspace.secrets = {"backend": "file", "directory": str(secrets)}
    return workspace


def both(a: Workspace, b: Workspace, *args: str) -> list[subprocess.CompletedProcess[str]]:
    """Start two applies at once and wait for both."""
    processes = []
    for workspace in (a, b):
        workspace.write()
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "webhookctl", "apply", "--auto-approve", *args, "-c", str(workspace.config_path)],
            env={**os.environ, **workspace.env()}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results


def assert_no_duplicates(server: AmigoServer) -> None:
    counts = Counter(d["url"] for d in live(server))
    assert not [url for url, count in counts.items() if count > 1], counts


def test_two_checkouts_sharing_a_secrets_directory(tmp_path: Path, workspace: Workspace,
                                                   amigo_server: AmigoServer) -> None:
    account = workspace.orgs["prod"]
    assert isinstance(account, Org)
    secrets = tmp_path / "shared-secrets"
    a, b = checkout(tmp_path / "a", account, secrets), checkout(tmp_path / "b", account, secrets)
    refused = 0
    for round_ in range(4):
        for workspace_ in (a, b):
            workspace_.add(f"r{round_}-x", f"https://x.example.com/r{round_}")
            workspace_.add(f"r{round_}-y", f"https://y.example.com/r{round_}")
        for result in both(a, b):
            assert result.returncode == 0 or (result.returncode == 1 and LOCKED in result.stderr), \
                result.stdout + result.stderr
            refused += result.returncode == 1
        assert_no_duplicates(amigo_server)
    for workspace_ in (a, b):
        workspace_.add("w-x", "https://x.example.com/w")
    results = both(a, b, "--lock-timeout", "30")
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert_no_duplicates(amigo_server)
    assert sorted(d["url"] for d in live(amigo_server)) == sorted(d["url"] for d in a.destinations)
    for workspace_ in (a, b):
        plan = workspace_.run_process("plan", "--detailed-exitcode")
        assert plan.returncode == 0, plan.stdout + plan.stderr


def test_two_spellings_of_one_address_are_one_account(workspace: Workspace, amigo_server: AmigoServer) -> None:
    account = workspace.orgs["prod"]
    assert isinstance(account, Org)
    spelled = Org(account.url.replace("http://", "HTTP://") + "/", account.org, account.user_id,
                  account.api_key_id, account.api_key)
    workspace.orgs = {"prod": account, "alias": spelled}
    workspace.unmanaged = "delete"
    workspace.add("a", "https://a.example.com/a", provider="prod")
    workspace.add("b", "https://b.example.com/b", provider="alias")
    for _ in range(2):
        result = workspace.run_process("apply", "--auto-approve")
        assert result.returncode == 0, result.stdout + result.stderr
        assert sorted(d["url"] for d in live(amigo_server)) == ["https://a.example.com/a", "https://b.example.com/b"]
    assert workspace.run_process("plan", "--detailed-exitcode").returncode == 0

    workspace.add("b-again", "https://b.example.com/b", provider="prod")
    invalid = workspace.run_process("validate")
    assert invalid.returncode != 0
    output = invalid.stdout + invalid.stderr
    assert "url is already declared for provider 'alias', which reaches the same account," in output, output
    # Both locations: the error's own line and the first declaration's.
    assert output.count(f"{workspace.config_path}:") == 2, output
