"""SIGKILL at the worst moments: the next run ends with every secret stored, nothing duplicated.

The kill is real (the process signals itself at a named failpoint, see
webhookctl/failpoints.py); everything else is the real CLI, emulator and backend.
"""

from __future__ import annotations

import signal

import pytest

from tests.amigo_helpers import live, verify
from tests.conftest import AmigoServer
from tests.support.servers import receiver
from tests.support.workspace import TYPE, Workspace

KILLED = -signal.SIGKILL


def assert_converged(workspace: Workspace, amigo_server: AmigoServer, names: list[str]) -> None:
    destinations = live(amigo_server)
    assert len(destinations) == len(names)
    assert len({d["url"] for d in destinations}) == len(names)  # no duplicates
    for destination in destinations:
        name = destination["url"].rsplit("/", 1)[1]
        record = workspace.record(name)
        assert record is not None and record["destination_id"] == destination["id"]
        assert record["current"]["secret"] == destination["secret"]
    assert not list((workspace.root / "state" / "journal").glob("*.json"))


@pytest.mark.parametrize("failpoint", ["after-create-response", "after-escrow-write", "after-backend-write"])
def test_killed_during_create(workspace: Workspace, amigo_server: AmigoServer, failpoint: str) -> None:
    with receiver() as hook:
        names = ["a", "b", "c"]
        for name in names:
            workspace.add(name, f"{hook.url}/{name}")
        killed = workspace.run_process("apply", "--auto-approve", extra_env={"WEBHOOKCTL_FAILPOINTS": failpoint})
        assert killed.returncode == KILLED
        assert len(live(amigo_server)) == 1  # the first create landed, then the process died

        again = workspace.run_process("apply", "--auto-approve")
        assert again.returncode == 0, again.stdout + again.stderr
        assert_converged(workspace, amigo_server, names)
        assert workspace.run_process("plan", "--detailed-exitcode").returncode == 0

        amigo_server.control("events", {"org": amigo_server.org, "type": TYPE})
        amigo_server.control("idle", {})
        for request in hook.wait_for(3):
            record = workspace.record(request.path.strip("/"))
            assert record is not None and verify(record["current"]["secret"], request.headers, request.body)
    assert all(d["secret"] not in workspace.written_text() for d in live(amigo_server))


@pytest.mark.parametrize("failpoint", ["after-escrow-write", "after-backend-write"])
def test_killed_during_rotation_resumes(workspace: Workspace, amigo_server: AmigoServer, failpoint: str) -> None:
    workspace.add("a", "https://a.example.com/a")
    assert workspace.run_process("apply", "--auto-approve").returncode == 0
    killed = workspace.run_process("rotate", "a", "--auto-approve", extra_env={"WEBHOOKCTL_FAILPOINTS": failpoint})
    assert killed.returncode == KILLED
    recovered = workspace.run_process("recover")
    assert recovered.returncode == 0, recovered.stderr
    if failpoint == "after-escrow-write":
        assert "Finished the interrupted rotate of prod/a: stored its secret." in recovered.stdout
    assert_converged(workspace, amigo_server, ["a"])
    record = workspace.record("a")
    assert record is not None and record["previous"] is not None  # the old secret still signs for 30 minutes


def test_killed_before_the_rotation_secret_was_kept(workspace: Workspace, amigo_server: AmigoServer) -> None:
    """The one unrecoverable moment: the vendor showed the secret and the process died at once.

    The plan then repairs by rotating again, as soon as the vendor allows it.
    """
    workspace.add("a", "https://a.example.com/a")
    assert workspace.run_process("apply", "--auto-approve").returncode == 0
    killed = workspace.run_process("rotate", "a", "--auto-approve",
                                   extra_env={"WEBHOOKCTL_FAILPOINTS": "after-rotate-response"})
    assert killed.returncode == KILLED
    # The loss is reported, not hidden, until the repair is possible and done.
    plan = workspace.run_process("plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "lost-secret: prod/a: the live secret is newer than the backend's" in plan.stdout
    assert "rotation is possible after" in plan.stdout
    refused = workspace.run_process("apply", "--auto-approve")
    assert refused.returncode == 1
    assert "blocked: prod/a: the live secret is newer than the backend's" in refused.stderr
    assert "run apply after" in refused.stderr
    amigo_server.control("clock", {"advance_seconds": 3601})
    plan = workspace.run_process("plan")
    assert "# prod/a will have its secret repaired (rotate)" in plan.stdout
    assert "the live secret is newer than the backend's (a rotation whose answer was lost" in plan.stdout
    assert workspace.run_process("apply", "--auto-approve").returncode == 0
    assert_converged(workspace, amigo_server, ["a"])


def test_a_held_lock_is_a_clear_error(workspace: Workspace, amigo_server: AmigoServer) -> None:
    from webhookctl.engine.lock import account_locks

    workspace.add("a", "https://a.example.com/a")
    scope = f"amigo:{amigo_server.url}/{amigo_server.org}"
    with account_locks(workspace.root / "secrets" / ".locks", [scope]):
        result = workspace.run_process("apply", "--auto-approve")
    assert result.returncode == 1
    assert f"error: {scope} is locked by another webhookctl run (pid " in result.stderr
    assert live(amigo_server) == []


def test_escrow_is_encrypted_when_a_key_is_configured(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.settings = {"escrow_key": "${ESCROW_KEY}"}
    workspace.extra_env = {"ESCROW_KEY": "a long random escrow key"}
    workspace.add("a", "https://a.example.com/a")
    killed = workspace.run_process("apply", "--auto-approve", extra_env={"WEBHOOKCTL_FAILPOINTS": "after-escrow-write"})
    assert killed.returncode == KILLED
    [entry] = (workspace.root / "state" / "journal").glob("*.json")
    assert entry.stat().st_mode & 0o777 == 0o600
    secret = live(amigo_server)[0]["secret"]
    assert secret not in entry.read_text() and "secret_encrypted" in entry.read_text()

    workspace.extra_env = {"ESCROW_KEY": "the wrong key"}
    refused = workspace.run_process("recover")
    assert refused.returncode == 1 and "does not decrypt with settings.escrow_key" in refused.stderr
    workspace.extra_env = {"ESCROW_KEY": "a long random escrow key"}
    assert workspace.run_process("recover").returncode == 0
    assert_converged(workspace, amigo_server, ["a"])
