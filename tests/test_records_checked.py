"""Records are checked, not assumed: a damaged secret record is drift, and apply repairs it.

The record file is damaged while its metadata stays intact, so only reading the record can tell. Real
CLI processes, the file backend, and the emulator over HTTP on 127.0.0.1; the repaired record must
verify a real signed delivery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.amigo_helpers import live, verify
from tests.conftest import AmigoServer
from tests.support.servers import receiver
from tests.support.workspace import TYPE, Workspace

pytestmark = pytest.mark.slow


def another_secret(path: Path) -> None:
    record = json.loads(path.read_text())
    record["current"]["secret"] = "whsec_" + "0" * 40  # readable, well-formed, and not the live secret
    path.write_text(json.dumps(record))


DAMAGE: dict[str, Callable[[Path], None]] = {
    "deleted": lambda path: path.unlink(),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2]),
    "garbage": lambda path: path.write_bytes(b"\x00\xff\xfe garbage \x81"),
    "another-secret": another_secret,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_record_is_drift_and_apply_repairs_it(workspace: Workspace, amigo_server: AmigoServer,
                                                        damage: str) -> None:
    with receiver() as hook:
        workspace.add("a", f"{hook.url}/a")
        workspace.add("b", f"{hook.url}/b")
        assert workspace.run_process("apply", "--auto-approve").returncode == 0
        folder = workspace.root / "secrets" / "webhooks" / "prod"
        assert (folder / "a.meta.json").exists()
        DAMAGE[damage](folder / "a.json")

        found = workspace.run_process("drift", "--format", "json")
        assert found.returncode == 2, found.stdout + found.stderr
        findings = json.loads(found.stdout)["findings"]
        assert [(f["kind"], f["destination"]) for f in findings if f["kind"].startswith("secret")] == \
            [("secret-drift", "a")], findings

        amigo_server.control("clock", {"advance_seconds": 3601})  # the vendor allows a rotation an hour apart
        repaired = workspace.run_process("apply", "--auto-approve")
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        record = workspace.record("a")
        [destination] = [d for d in live(amigo_server) if d["url"].endswith("/a")]
        assert record is not None and record["current"]["secret"] == destination["secret"]

        amigo_server.control("clock", {"advance_seconds": 1801})  # past the dual-signing window of the rotation
        clean = workspace.run_process("drift")
        assert clean.returncode == 0, clean.stdout + clean.stderr

        amigo_server.control("events", {"org": amigo_server.org, "type": TYPE})
        amigo_server.control("idle", {})
        requests = hook.wait_for(2)
        assert len(requests) == 2
        for request in requests:
            stored = workspace.record(request.path.strip("/"))
            assert stored is not None and verify(stored["current"]["secret"], request.headers, request.body)


def test_a_saved_plan_cannot_approve_a_repair_it_could_not_see(workspace: Workspace,
                                                               amigo_server: AmigoServer) -> None:
    """The repair of a damaged record rotates a secret: a saved plan (made without reading records)
    never holds it, so `apply PLAN` refuses before any change rather than do it, or leave it, unasked."""
    workspace.add("a", "https://a.example.com/hook")
    workspace.add("b", "https://b.example.com/hook")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    workspace.set("b", url="https://b2.example.com/hook")
    saved = workspace.root / "plan.json"
    assert workspace.run("plan", "--out", str(saved)).exit_code == 0
    DAMAGE["garbage"](workspace.root / "secrets" / "webhooks" / "prod" / "a.json")
    before = sorted((d["id"], d["url"], d["secret"]) for d in live(amigo_server))

    refused = workspace.run("apply", str(saved))
    assert refused.exit_code == 1
    assert "the secret records of prod/a were found damaged" in refused.output
    assert "run `webhookctl apply` to review the repair" in refused.output
    assert sorted((d["id"], d["url"], d["secret"]) for d in live(amigo_server)) == before  # nothing changed

    amigo_server.control("clock", {"advance_seconds": 3601})  # a rotation an hour after the last create
    repaired = workspace.run("apply", "--auto-approve")
    assert repaired.exit_code == 0, repaired.output
    assert "1 secret to repair" in repaired.stdout
    [a] = [d for d in live(amigo_server) if d["url"] == "https://a.example.com/hook"]
    record = workspace.record("a")
    assert record is not None and record["current"]["secret"] == a["secret"]


def test_a_foreign_entry_at_a_free_key_blocks_the_create_before_the_vendor(workspace: Workspace,
                                                                          amigo_server: AmigoServer) -> None:
    """Another tool's file at the key a new destination's record would take: apply creates nothing there
    (the vendor would issue a secret no record could keep) and says what to move; the rest is applied."""
    folder = workspace.root / "secrets" / "webhooks" / "prod"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "b.json").write_text(json.dumps({"owner": "team-payments", "password": "not ours"}))
    workspace.add("a", "https://a.example.com/hook")
    workspace.add("b", "https://b.example.com/hook")
    applied = workspace.run("apply", "--auto-approve")
    assert applied.exit_code == 1
    assert "team-payments" in applied.output and "move that entry away" in applied.output
    assert [d["url"] for d in live(amigo_server)] == ["https://a.example.com/hook"]
    (folder / "b.json").unlink()
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert sorted(d["url"] for d in live(amigo_server)) == ["https://a.example.com/hook", "https://b.example.com/hook"]
