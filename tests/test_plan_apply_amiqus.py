"""plan and apply against the Amiqus emulator over real HTTP, through API v1 and v2."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.servers import receiver
from tests.support.workspace import Org, Team, Workspace
from webhookctl.verify import verify_amiqus


@pytest.fixture(params=["v2", "v1"])
def team(request: pytest.FixtureRequest, tmp_path: Path, amiqus_server: AmiqusServer) -> Workspace:
    return Workspace(tmp_path, {"kyc": Team(amiqus_server.url, amiqus_server.token, request.param)})


def live(server: AmiqusServer) -> list[dict[str, Any]]:
    document = server.emulator.team_document(server.team) or {"webhooks": {}}
    return sorted(document["webhooks"].values(), key=lambda w: w["id"])


def test_create_update_in_place_delete(team: Workspace, amiqus_server: AmiqusServer) -> None:
    team.add("records", "https://records.example.com/", events=["record.*", "client.created"])
    team.add("forms", "https://forms.example.com/", events=["form.submitted"], enabled=False)
    assert team.run("apply", "--auto-approve").exit_code == 0
    hooks = live(amiqus_server)
    assert [(h["url"], sorted(h["events"]), h["is_enabled"]) for h in hooks] == [
        ("https://records.example.com/", ["client.created", "record.*"], True),
        ("https://forms.example.com/", ["form.submitted"], False),
    ]
    for name, hook in zip(("records", "forms"), hooks, strict=True):
        record = team.record(name, "kyc")
        assert record is not None and record["current"]["secret"] == hook["secret"]
    assert team.run("plan", "--detailed-exitcode").exit_code == 0

    # events compare as sets: another order is no change
    team.set("records", events=["client.created", "record.*"])
    assert team.run("plan", "--detailed-exitcode").exit_code == 0

    # a new URL is updated in place on Amiqus, with the same id and secret
    records_id = hooks[0]["id"]
    team.set("records", url="https://records-v2.example.com/", events=["*"])
    plan = team.run("plan")
    assert "# kyc/records will be updated in place" in plan.stdout
    assert '~ url    = "https://records.example.com/" -> "https://records-v2.example.com/"' in plan.stdout
    assert team.run("apply", "--auto-approve").exit_code == 0
    [records, _] = live(amiqus_server)
    assert records["id"] == records_id and records["url"] == "https://records-v2.example.com/"
    assert records["events"] == ["*"]

    team.remove("forms")
    assert "# kyc/forms will be deleted" in team.run("plan").stdout
    assert team.run("apply", "--auto-approve").exit_code == 0
    assert [h["id"] for h in live(amiqus_server)] == [records_id]
    assert team.run("plan", "--detailed-exitcode").exit_code == 0
    assert records["secret"] not in team.written_text()


def test_deliveries_verify_with_the_backend_secret(team: Workspace, amiqus_server: AmiqusServer) -> None:
    with receiver() as hook:
        team.add("all", hook.url, events=["*"])
        assert team.run("apply", "--auto-approve").exit_code == 0
        amiqus_server.control("events", {"team": amiqus_server.team, "event": "case.approved"})
        amiqus_server.control("idle", {})
        [request] = hook.wait_for(1)
    record = team.record("all", "kyc")
    assert record is not None
    assert verify_amiqus(request.body, request.headers, record) == "current"


def test_secret_drift_is_repaired_from_the_vendor(team: Workspace, amiqus_server: AmiqusServer) -> None:
    team.add("a", "https://a.example.com/")
    assert team.run("apply", "--auto-approve").exit_code == 0
    path = team.root / "secrets" / "webhooks" / "kyc" / "a.json"
    tampered = json.loads(path.read_text())
    tampered["current"]["secret"] = "not-the-live-secret"
    tampered["current"]["fingerprint"] = "sha256:0000000000000000"
    path.write_text(json.dumps(tampered))
    (path.parent / "a.meta.json").write_text(json.dumps({**tampered, "current": {
        "fingerprint": "sha256:0000000000000000"}}))
    plan = team.run("plan")
    assert "# kyc/a will have its secret repaired (write-live)" in plan.stdout
    assert "the backend's secret differs from the live one" in plan.stdout
    assert team.run("apply", "--auto-approve").exit_code == 0
    record = team.record("a", "kyc")
    assert record is not None and record["current"]["secret"] == live(amiqus_server)[0]["secret"]
    assert live(amiqus_server)[0]["secret"] not in team.written_text()


def test_an_auto_disabled_subscription_is_drift(team: Workspace, amiqus_server: AmiqusServer) -> None:
    with receiver(status=500) as hook:
        team.add("flaky", hook.url, events=["*"])
        assert team.run("apply", "--auto-approve").exit_code == 0
        for _ in range(10):
            amiqus_server.control("events", {"team": amiqus_server.team, "event": "client.updated"})
        amiqus_server.control("idle", {})
    assert live(amiqus_server)[0]["is_enabled"] is False
    plan = team.run("plan", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert "the vendor disabled this subscription" in plan.stdout
    assert team.run("apply", "--auto-approve").exit_code == 0
    assert live(amiqus_server)[0]["is_enabled"] is True


def test_unmanaged_delete_and_stale_plans(team: Workspace, amiqus_server: AmiqusServer, tmp_path: Path) -> None:
    import httpx

    api = amiqus_server.url + "/api/v2/webhooks"
    headers = {"authorization": f"Bearer {amiqus_server.token}"}
    httpx.post(api, json={"url": "https://stray.example.com/", "events": ["*"]}, headers=headers).raise_for_status()
    team.add("a", "https://a.example.com/")
    saved = tmp_path / "plan.json"
    assert team.run("plan", "--out", str(saved)).exit_code == 0
    httpx.post(api, json={"url": "https://stray2.example.com/", "events": ["*"]}, headers=headers).raise_for_status()
    refused = team.run("apply", str(saved))
    assert refused.exit_code == 1 and "the saved plan is stale" in refused.stderr
    team.unmanaged = "delete"
    assert team.run("apply", "--auto-approve").exit_code == 0
    assert [h["url"] for h in live(amiqus_server)] == ["https://a.example.com/"]


def test_rotation_is_by_replacement_only(team: Workspace, amiqus_server: AmiqusServer) -> None:
    team.add("a", "https://a.example.com/")
    team.add("kept", "https://kept.example.com/", protect=True)
    assert team.run("apply", "--auto-approve").exit_code == 0
    old = {h["url"]: h for h in live(amiqus_server)}
    refused = team.run("rotate", "a", "--auto-approve")
    assert refused.exit_code == 1
    assert "kyc/a: amiqus has no rotate API; use --rotate-by-replace" in refused.stderr
    plan = team.run("plan", "--rotate", "a", "--rotate", "kept", "--rotate-by-replace")
    assert '-/+ destination "a"' in plan.stdout and "rotation requested; amiqus rotates only by replacement" \
        in plan.stdout
    assert "kyc/kept: replace skipped: protected" in plan.stdout
    assert team.run("rotate", "a", "--auto-approve", "--rotate-by-replace").exit_code == 0
    new = {h["url"]: h for h in live(amiqus_server)}
    assert new["https://a.example.com/"]["id"] != old["https://a.example.com/"]["id"]
    assert new["https://a.example.com/"]["secret"] != old["https://a.example.com/"]["secret"]
    assert new["https://kept.example.com/"] == old["https://kept.example.com/"]
    record = team.record("a", "kyc")
    assert record is not None and record["current"]["secret"] == new["https://a.example.com/"]["secret"]


def test_killed_after_the_create_response(team: Workspace, amiqus_server: AmiqusServer) -> None:
    for name in ("a", "b"):
        team.add(name, f"https://{name}.example.com/")
    killed = team.run_process("apply", "--auto-approve", extra_env={"WEBHOOKCTL_FAILPOINTS": "after-create-response"})
    assert killed.returncode == -signal.SIGKILL
    again = team.run_process("apply", "--auto-approve")
    assert again.returncode == 0, again.stderr
    hooks = live(amiqus_server)
    assert sorted(h["url"] for h in hooks) == ["https://a.example.com/", "https://b.example.com/"]
    for hook in hooks:
        record = team.record(hook["url"].split("//")[1].split(".")[0], "kyc")
        assert record is not None and record["current"]["secret"] == hook["secret"]


def test_lowered_rate_limits_never_reach_the_user(team: Workspace, amiqus_server: AmiqusServer) -> None:
    amiqus_server.control("settings", {"rate_limit": 3, "rate_window_seconds": 1})
    for n in range(8):
        team.add(f"d{n}", f"https://d{n}.example.com/")
    applied = team.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert len(live(amiqus_server)) == 8
    team.destinations = []
    team.settings = {"max_deletes": 10}
    assert team.run("apply", "--auto-approve").exit_code == 0
    assert live(amiqus_server) == []


def test_one_plan_across_both_vendors(tmp_path: Path, amigo_server: AmigoServer, amiqus_server: AmiqusServer) -> None:
    amigo_server.control("settings", {"rate_limits": {"signin": 1000}})
    workspace = Workspace(tmp_path, {
        "amigo-prod": Org(amigo_server.url, amigo_server.org, amigo_server.user_id, amigo_server.api_key_id,
                          amigo_server.api_key),
        "kyc-v2": Team(amiqus_server.url, amiqus_server.token, "v2"),
    })
    workspace.add("conversations", "https://c.example.com/", provider="amigo-prod")
    workspace.add("records", "https://r.example.com/", provider="kyc-v2", events=["record.*"])
    plan = workspace.run("plan", "--format", "json")
    data = json.loads(plan.stdout)
    assert sorted((c["provider"], c["action"]) for c in data["changes"]) == [
        ("amigo-prod", "create"), ("kyc-v2", "create")]
    assert {p["type"] for p in data["providers"]} == {"amigo", "amiqus"}
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
    assert workspace.record("conversations", "amigo-prod") and workspace.record("records", "kyc-v2")


def test_two_providers_on_one_team_do_not_delete_each_other(tmp_path: Path, amiqus_server: AmiqusServer) -> None:
    """v1 and v2 with one token reach the same team: neither's destinations are the other's strays."""
    workspace = Workspace(tmp_path, {"kyc": Team(amiqus_server.url, amiqus_server.token, "v2"),
                                     "kyc-v1": Team(amiqus_server.url, amiqus_server.token, "v1")})
    workspace.unmanaged = "delete"
    workspace.add("records", "https://records.example.com/", provider="kyc")
    workspace.add("forms", "https://forms.example.com/", provider="kyc-v1")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
    assert sorted(h["url"] for h in live(amiqus_server)) == ["https://forms.example.com/", "https://records.example.com/"]
    plan = json.loads(workspace.run("plan", "--format", "json").stdout)
    assert {p["scope"] for p in plan["providers"]} == {plan["providers"][0]["scope"]}  # one account


@pytest.mark.parametrize("tokens", ["one token", "two tokens"])
def test_a_sibling_never_deletes_what_another_provider_binds(tmp_path: Path, amiqus_server: AmiqusServer,
                                                            tokens: str) -> None:
    """One team through two providers, the second deleting the unmanaged: a destination the first binds
    stays the first's when someone moves its URL in the dashboard (it is not at a declared URL any more),
    protected or not, and whether the two share a token (one account to webhookctl) or not (two)."""
    second = amiqus_server.token
    if tokens == "two tokens":  # a second token of the same team: webhookctl cannot tell it is one team
        second = "token-team-1-again"
        amiqus_server.control("tokens", {"token": second, "team": amiqus_server.team})
    workspace = Workspace(tmp_path, {"kyc": Team(amiqus_server.url, amiqus_server.token, "v2"),
                                     "kyc-v1": Team(amiqus_server.url, second, "v1")})
    workspace.unmanaged = "delete"
    workspace.add("records", "https://records.example.com/hook", provider="kyc")
    workspace.add("dormant", "https://dormant.example.com/hook", provider="kyc", protect=True)
    workspace.add("forms", "https://forms.example.com/hook", provider="kyc-v1")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    ids = {h["url"]: h["id"] for h in live(amiqus_server)}
    with amiqus_server.emulator.store.transaction("team:" + amiqus_server.team) as document:
        moved = document["webhooks"][str(ids["https://dormant.example.com/hook"])]
        moved["url"] = "https://dormant.example.com/moved"  # someone edits it in the dashboard

    plan = json.loads(workspace.run("plan", "--format", "json").stdout)
    assert [(c["action"], c["provider"], c["name"]) for c in plan["changes"]] == [("update", "kyc", "dormant")]
    applied = workspace.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert {h["url"]: h["id"] for h in live(amiqus_server)} == ids  # nothing deleted, nothing made anew
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0


def test_an_overdue_rotation_without_a_rotate_api_is_drift(team: Workspace, amiqus_server: AmiqusServer) -> None:
    """Amiqus cannot rotate a secret in place: an overdue rotation is a rotation skipped (shown by plan,
    `rotation-due` for drift), never only a warning the nightly drift job would not see."""
    team.defaults = {"rotation": {"max_age": "1h"}}
    team.add("a", "https://a.example.com/")
    assert team.run("apply", "--auto-approve").exit_code == 0
    assert team.run("drift", "--format", "json").exit_code == 0
    folder = team.root / "secrets" / "webhooks" / "kyc"
    for path in (folder / "a.json", folder / "a.meta.json"):  # the secret was issued long ago
        stored = json.loads(path.read_text())
        stored["current"]["issued_at"] = "2020-01-01T00:00:00Z"
        path.write_text(json.dumps(stored))
    plan = team.run("plan")
    assert "kyc/a: rotate skipped: secret is" in plan.stdout and "no rotate API" in plan.stdout
    drift = team.run("drift", "--format", "json", "--fail-on", "rotation-due")
    assert drift.exit_code == 2, drift.output
    assert [(f["kind"], f["destination"]) for f in json.loads(drift.stdout)["findings"]] == [("rotation-due", "a")]


def test_dump_of_one_of_two_providers_on_a_team_merges(tmp_path: Path, amiqus_server: AmiqusServer) -> None:
    """What a sibling provider (the same team) declares is declared: dump leaves it out, so its output
    merges with the configuration as dump's help promises."""
    workspace = Workspace(tmp_path, {"kyc": Team(amiqus_server.url, amiqus_server.token, "v2"),
                                     "kyc-v1": Team(amiqus_server.url, amiqus_server.token, "v1")})
    workspace.add("records", "https://records.example.com/hook", provider="kyc")
    workspace.add("forms", "https://forms.example.com/hook", provider="kyc-v1")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    with amiqus_server.emulator.store.transaction("team:" + amiqus_server.team) as document:
        # One made in the dashboard, declared by nobody.
        webhook = dict(next(iter(document["webhooks"].values())), id=9999, url="https://stray.example.com/hook")
        document["webhooks"]["9999"] = webhook
    dumped = tmp_path / "dumped.yaml"
    assert workspace.run("dump", "--provider", "kyc-v1", "-o", str(dumped)).exit_code == 0
    assert [d["url"] for d in yaml.safe_load(dumped.read_text())["destinations"]] == [
        "https://stray.example.com/hook"]
    merged = workspace.run("validate", "-c", str(dumped))
    assert merged.exit_code == 0, merged.output
