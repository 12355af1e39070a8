"""plan and apply, end to end: the CLI against the Amigo emulator over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from tests.amigo_helpers import live, verify
from tests.conftest import AmigoServer
from tests.support.servers import receiver
from tests.support.workspace import TYPE, Workspace

ROOT = Path(__file__).resolve().parents[1]
OTHER = "api-key-expiration-soon"


def secrets_of(workspace: Workspace, names: list[str]) -> list[str]:
    found = []
    for name in names:
        record = workspace.record(name)
        assert record is not None, name
        found.append(record["current"]["secret"])
    return found


def test_create_replan_update_replace_delete(workspace: Workspace, amigo_server: AmigoServer) -> None:
    for name in ("orders", "billing", "audit"):
        workspace.add(name, f"https://{name}.example.com/hook")
    plan = workspace.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "Plan: 3 to create." in plan.stdout
    assert "(issued on apply → stored at webhooks/prod/orders)" in plan.stdout

    applied = workspace.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 3 done, 0 failed, 0 skipped." in applied.stdout
    assert sorted(d["url"] for d in live(amigo_server)) == sorted(
        f"https://{n}.example.com/hook" for n in ("orders", "billing", "audit"))
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0

    # update in place
    workspace.set("billing", accepted_types=[TYPE, OTHER], retry_attempts=5)
    plan = workspace.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "# prod/billing will be updated in place" in plan.stdout
    assert f'~ accepted_types = ["{TYPE}"] -> ["{OTHER}", "{TYPE}"]' in plan.stdout
    billing_record = workspace.record("billing")
    assert billing_record is not None
    billing_id = billing_record["destination_id"]
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    [billing] = [d for d in live(amigo_server) if d["id"] == billing_id]
    assert sorted(billing["accepted_types"]) == sorted([TYPE, OTHER]) and billing["retry_attempts"] == 5

    # a new URL is a new destination: replace
    old_secret = secrets_of(workspace, ["orders"])[0]
    workspace.set("orders", url="https://orders-v2.example.com/hook")
    plan = workspace.run("plan")
    assert '-/+ destination "orders"' in plan.stdout
    assert "# forces replacement" in plan.stdout and "(create-before-delete)" in plan.stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    urls = sorted(d["url"] for d in live(amigo_server))
    assert "https://orders-v2.example.com/hook" in urls and "https://orders.example.com/hook" not in urls
    record = workspace.record("orders")
    assert record is not None and record["current"]["secret"] != old_secret
    assert record["url"] == "https://orders-v2.example.com/hook"

    # removed from the configuration: delete
    workspace.remove("audit")
    plan = workspace.run("plan")
    assert "# prod/audit will be deleted" in plan.stdout and "removed from the configuration" in plan.stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert len(live(amigo_server)) == 2
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
    assert all(secret not in workspace.written_text() for secret in secrets_of(workspace, ["orders", "billing"]))


def test_issued_secrets_verify_real_deliveries(workspace: Workspace, amigo_server: AmigoServer) -> None:
    with receiver() as hook:
        workspace.add("a", hook.url + "/a")
        workspace.add("b", hook.url + "/b")
        assert workspace.run("apply", "--auto-approve").exit_code == 0
        amigo_server.control("events", {"org": "acme", "type": TYPE})
        amigo_server.control("idle", {})
        received = hook.wait_for(2)
    assert len(received) == 2
    for request in received:
        name = request.path.strip("/")
        record = workspace.record(name)
        assert record is not None
        assert verify(record["current"]["secret"], request.headers, request.body)
        assert record["destination_id"] == next(d["id"] for d in live(amigo_server) if d["url"].endswith("/" + name))
    assert not any(s in workspace.written_text() for s in secrets_of(workspace, ["a", "b"]))


def test_the_cap_fails_at_plan_time(workspace: Workspace, amigo_server: AmigoServer) -> None:
    for n in range(8):
        workspace.add(f"d{n}", f"https://h{n}.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    for n in range(2):  # made behind webhookctl's back: unmanaged, still counted
        _create_directly(amigo_server, f"https://stray{n}.example.com/")
    workspace.add("d8", "https://h8.example.com/")
    plan = workspace.run("plan")
    assert plan.exit_code == 1
    assert plan.stdout == ""
    assert plan.stderr.startswith("error: prod (amigo:")
    assert "/acme) would have 11 destinations, more than its cap of 10: creating d8 needs 1 more free slot(s)" \
        in plan.stderr
    workspace.unmanaged = "delete"
    plan = workspace.run("plan")
    assert plan.exit_code == 0
    assert "prod (amigo:" in plan.stdout and "10 -> 9 of 10 destinations" in plan.stdout
    assert plan.stdout.count("unmanaged (declared by no configuration)") == 2
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert sorted(d["url"] for d in live(amigo_server)) == sorted(f"https://h{n}.example.com/" for n in range(9))


def _create_directly(server: AmigoServer, url: str) -> str:
    import httpx

    with httpx.Client(base_url=server.url) as client:
        token = client.post(f"/v1/{server.org}/user/signin_with_api_key", headers={
            "x-api-key": server.api_key, "x-api-key-id": server.api_key_id, "x-user-id": server.user_id,
        }).json()["id_token"]
        response = client.post(f"/v1/{server.org}/webhook_destination/", headers={"authorization": f"Bearer {token}"},
                               json={"url": url, "accepted_types": [TYPE]})
        response.raise_for_status()
        return str(response.json()["webhook_destination_id"])


def test_unmanaged_report_and_ignore(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    _create_directly(amigo_server, "https://stray.example.com/")
    plan = workspace.run("plan")
    assert "Warning: prod: 1 unmanaged destination(s) count against the cap: https://stray.example.com/" in plan.stdout
    assert "0 -> 1" not in plan.stdout and "1 -> 2 of 10 destinations" in plan.stdout
    workspace.unmanaged = "ignore"
    assert "unmanaged" not in workspace.run("plan").stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert len(live(amigo_server)) == 2


def test_protect_skips_replace(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("keep", "https://keep.example.com/", protect=True)
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    workspace.set("keep", url="https://keep-v2.example.com/")
    plan = workspace.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0
    assert "prod/keep: replace skipped: protected: url cannot change in place" in plan.stdout
    assert "Warning: prod/keep is protected; skipped replace" in plan.stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert [d["url"] for d in live(amigo_server)] == ["https://keep.example.com/"]


def test_adopting_an_existing_destination_by_url(workspace: Workspace, amigo_server: AmigoServer) -> None:
    destination_id = _create_directly(amigo_server, "https://exists.example.com/")
    workspace.add("exists", "https://exists.example.com/", retry_attempts=4)
    plan = workspace.run("plan")
    assert "# prod/exists will be adopted" in plan.stdout
    assert f"a live destination has this URL (id {destination_id}) and is not yet bound" in plan.stdout
    assert "# prod/exists will have its secret repaired (rotate)" in plan.stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    [item] = live(amigo_server)
    assert item["id"] == destination_id and item["retry_attempts"] == 4
    record = workspace.record("exists")
    assert record is not None and record["destination_id"] == destination_id
    assert record["current"]["secret"] == item["secret"]  # the rotation's secret reached the backend
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0


def test_saved_plans(workspace: Workspace, amigo_server: AmigoServer, tmp_path: Path) -> None:
    workspace.add("a", "https://a.example.com/")
    saved = tmp_path / "plan.json"
    shown = workspace.run("plan", "--out", str(saved))
    assert shown.exit_code == 0
    data = json.loads(saved.read_text())
    Draft202012Validator(json.loads((ROOT / "schemas" / "plan.schema.json").read_text())).validate(data)
    assert [c["action"] for c in data["changes"]] == ["create"]

    # a saved plan is an approval of one configuration: once it moves on, the plan is refused
    workspace.add("b", "https://b.example.com/")
    moved_on = workspace.run("apply", str(saved))
    assert moved_on.exit_code == 1
    assert "the configuration changed since the plan was made; nothing was applied" in moved_on.stderr
    assert live(amigo_server) == []
    workspace.destinations.pop()
    applied = workspace.run("apply", str(saved))
    assert applied.exit_code == 0, applied.output
    assert [d["url"] for d in live(amigo_server)] == ["https://a.example.com/"]

    stale = tmp_path / "stale.json"
    workspace.run("plan", "--out", str(stale))
    _create_directly(amigo_server, "https://behind-the-back.example.com/")
    refused = workspace.run("apply", str(stale))
    assert refused.exit_code == 1
    assert "the saved plan is stale: live state changed since it was made for prod; nothing was applied" \
        in refused.stderr
    assert len(live(amigo_server)) == 2


def test_apply_asks_and_refuses_without_a_terminal(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    refused = workspace.run("apply")
    assert refused.exit_code == 1
    assert "refusing to ask for approval: standard input is not a terminal" in refused.stderr
    assert live(amigo_server) == []


def test_too_many_deletes_need_a_flag(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.settings = {"max_deletes": 1}
    for n in range(3):
        workspace.add(f"d{n}", f"https://d{n}.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    workspace.destinations = []
    refused = workspace.run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "the plan deletes 3 destinations, more than max_deletes (1); pass --allow-deletes" in refused.stderr
    assert len(live(amigo_server)) == 3
    assert workspace.run("apply", "--auto-approve", "--allow-deletes").exit_code == 0
    assert live(amigo_server) == []


def test_conflicts_and_maintenance_are_retried(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    amigo_server.control("faults", {"conflict_writes": 2})
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert len(live(amigo_server)) == 1


def test_a_failure_is_reported_and_rerunning_converges(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    workspace.add("b", "https://b.example.com/")
    amigo_server.control("faults", {"conflict_writes": 100})
    failed = workspace.run("apply", "--auto-approve")
    assert failed.exit_code == 1
    assert "✗ create prod/a failed: A related operation is in progress." in failed.stdout
    assert "- create prod/b skipped: an earlier operation on this account failed" in failed.stdout
    assert "Apply failed: 0 done, 1 failed, 1 skipped." in failed.stdout
    amigo_server.control("faults", {"conflict_writes": 0})
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert len(live(amigo_server)) == 2


def test_formats(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    markdown = workspace.run("plan", "--format", "markdown").stdout
    assert markdown.startswith("<!-- webhookctl-plan -->\n### webhookctl plan\n\n**Plan: 1 to create.**")
    assert "<details><summary><b>prod</b>: 1 change(s)</summary>" in markdown
    as_json = json.loads(workspace.run("plan", "--format", "json").stdout)
    assert as_json["changes"][0]["secret"] == {"key": "webhooks/prod/a", "note": "issued on apply"}


def test_a_create_whose_answer_was_lost_is_not_created_twice(workspace: Workspace, amigo_server: AmigoServer) -> None:
    """The create lands but its answer arrives after the client gave up: re-list, find it, never re-create."""
    workspace.settings = {"request_timeout": 0.3}
    workspace.add("a", "https://a.example.com/")
    amigo_server.control("faults", {"latency_ms": 800, "latency_endpoints": ["create"]})
    applied = workspace.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    [destination] = live(amigo_server)  # exactly one, though the client saw its create fail
    assert amigo_server.emulator.requests["create"] == 1
    record = workspace.record("a")
    # Its one-view secret was lost with the answer, so apply rotated to get one it can keep.
    assert record is not None and record["current"]["secret"] == destination["secret"]
    assert destination["last_rotated_at"] is not None
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0


def test_protection_survives_the_removal_of_a_declaration(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("keep", "https://keep.example.com/", protect=True)
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert workspace.record("keep")["protected"] is True  # type: ignore[index]

    workspace.remove("keep")  # the block goes, the protection stays
    plan = workspace.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "prod/keep: delete skipped: protected (protect: true when it was last applied)" in plan.stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert [d["url"] for d in live(amigo_server)] == ["https://keep.example.com/"]

    # Released only by an explicit protect: false, applied; then removing the block deletes it.
    workspace.add("keep", "https://keep.example.com/", protect=False)
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    # The metadata is what plans read (and what a metadata-only update writes).
    meta = workspace.root / "secrets" / "webhooks" / "prod" / "keep.meta.json"
    assert json.loads(meta.read_text())["protected"] is False
    workspace.remove("keep")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert live(amigo_server) == []
