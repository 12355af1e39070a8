"""The GitOps kit's sharded workflows (examples/gitops/sharded/), run locally end to end.

As a user would: the three files copied over .github/workflows/, every shard of each
matrix run against the Amigo and Amiqus emulators, a real OpenBao and a stand-in for
GitHub's API; then what the user sees is checked: one pull-request comment with every
shard's changes, live destinations as an unsharded apply leaves them, one drift issue.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.actions import JobResult, matrix_of, needs_result, run_job, run_matrix
from tests.support.backends import Bao
from tests.support.github import FakeGitHub
from tests.support.servers import serve_app
from tests.test_gitops import KIT, ROOT, behind_our_back, github, repo  # noqa: F401  (the kit's fixtures)
from webhookctl.emulator.amigo import AmigoEmulator, AmigoSettings, create_app
from webhookctl.emulator.amiqus import AmiqusEmulator, AmiqusSettings
from webhookctl.emulator.amiqus import create_app as amiqus_app

pytestmark = pytest.mark.slow

WEBHOOKCTL = Path(sys.executable).parent / "webhookctl"
# What a runner leaves behind that a new machine would not have.
LEFTOVERS = ("plan*.json", "plan*.md", "drift*.md", "drift*.exitcode")


@pytest.fixture
def sharded(repo: dict[str, object], bao: Bao) -> dict[str, object]:  # noqa: F811
    """The kit with the sharded workflows copied over the unsharded ones, as its README says."""
    import hvac

    checkout = repo["checkout"]
    assert isinstance(checkout, Path)
    for path in (KIT / "sharded").glob("*.yml"):
        shutil.copy2(path, checkout / ".github" / "workflows" / path.name)
    # OpenBao lives for the whole session: secrets another kit test wrote are not these accounts'.
    root = hvac.Client(url=bao.address, token=bao.token)
    for path in [*_secret_paths(root, "webhooks/"), *_secret_paths(root, "webhooks-reference/")]:
        root.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point="secret")
    return repo


def _secret_paths(client: Any, folder: str) -> list[str]:
    import hvac.exceptions

    try:
        keys = client.secrets.kv.v2.list_secrets(path=folder, mount_point="secret")["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        return []
    return [found for key in keys
            for found in (_secret_paths(client, folder + key) if key.endswith("/") else [folder + key])]


def workflow(kit: dict[str, object], name: str) -> Path:
    checkout = kit["checkout"]
    assert isinstance(checkout, Path)
    return checkout / ".github" / "workflows" / name


def fresh(kit: dict[str, object]) -> None:
    """Each job (each matrix combination) runs on a new machine: no file of another job is left."""
    checkout = kit["checkout"]
    assert isinstance(checkout, Path)
    for pattern in LEFTOVERS:
        for path in checkout.glob(pattern):
            path.unlink()


def options(kit: dict[str, object], **more: Any) -> dict[str, Any]:
    return {"artifacts": kit["artifacts"], "actions": {"webhookctl/webhookctl": ROOT}, **more}


def job(kit: dict[str, object], name: str, job_name: str, event_name: str, event: dict[str, object],
        **more: Any) -> JobResult:
    fresh(kit)
    return run_job(workflow(kit, name), job_name, kit["checkout"], kit["secrets"],  # type: ignore[arg-type]
                   kit["overrides"], event, event_name, **options(kit, **more))  # type: ignore[arg-type]


def matrix(kit: dict[str, object], name: str, job_name: str, event_name: str, event: dict[str, object],
           **more: Any) -> list[JobResult]:
    done = run_matrix(workflow(kit, name), job_name, kit["checkout"], kit["secrets"],  # type: ignore[arg-type]
                      kit["overrides"], event, event_name, fresh=lambda: fresh(kit),  # type: ignore[arg-type]
                      **options(kit, **more))
    assert [c["shard"] for c, _ in done] == [1, 2, 3]
    return [result for _, result in done]


def pull_request(kit: dict[str, object], number: int, head: str) -> tuple[list[JobResult], JobResult]:
    """The sharded plan workflow for a push to a pull request: every shard, then the comment job."""
    event = {"pull_request": {"number": number, "head": {"sha": head}}}
    shards = matrix(kit, "webhookctl-plan.yml", "plan", "pull_request", event, sha=f"refs-pull-{number}-merge")
    comment = job(kit, "webhookctl-plan.yml", "comment", "pull_request", event, sha=f"refs-pull-{number}-merge",
                  run_id=shards[0].run_id, needs={"plan": {"result": needs_result(shards), "outputs": {}}})
    return shards, comment


def merge(kit: dict[str, object], github: FakeGitHub, planned: list[JobResult], number: int,  # noqa: F811
          head: str, merge_commit: str) -> tuple[JobResult, list[JobResult]]:
    """Merge on GitHub, then the sharded apply workflow for the push: its plan job, each apply shard."""
    github.merge(number, head, merge_commit, tree=f"tree-{head}")
    github.plan_run(planned[0].run_id, head)
    push = {"ref": "refs/heads/main"}
    found = job(kit, "webhookctl-apply.yml", "plan", "push", push, sha=merge_commit)
    assert found.succeeded, found.log()
    replan = job(kit, "webhookctl-apply.yml", "replan", "push", push, sha=merge_commit, run_id=found.run_id,
                 needs={"plan": {"result": "success", "outputs": found.job_outputs}})
    assert [s.status for s in replan.steps] == ["skipped"]  # a push applies what was reviewed
    applied = matrix(kit, "webhookctl-apply.yml", "apply", "push", push, sha=merge_commit, run_id=found.run_id,
                     needs={"plan": {"result": "success", "outputs": found.job_outputs},
                            "replan": {"result": "skipped", "outputs": {}}})
    return found, applied


def drift(kit: dict[str, object]) -> tuple[list[JobResult], JobResult]:
    shards = matrix(kit, "webhookctl-drift.yml", "drift", "schedule", {"schedule": "17 3 * * *"})
    report = job(kit, "webhookctl-drift.yml", "report", "schedule", {"schedule": "17 3 * * *"},
                 run_id=shards[0].run_id, needs={"drift": {"result": needs_result(shards), "outputs": {}}})
    return shards, report


def shards_of(kit: dict[str, object], run_id: int, number: int) -> dict[str, int]:
    """Which shard planned each provider, from the plan run's artifacts (the account decides)."""
    artifacts = kit["artifacts"]
    assert isinstance(artifacts, Path)
    held = {}
    for k in (1, 2, 3):
        saved = json.loads((artifacts / str(run_id) / f"webhookctl-plan-{number}-shard-{k}" / f"plan-{k}.json")
                           .read_text())
        assert saved["request"]["shard"] == f"{k}/3"
        held.update({state["name"]: k for state in saved["providers"]})
    return held


def live(amigo: AmigoEmulator, amiqus: AmiqusEmulator) -> dict[str, list[tuple[Any, ...]]]:
    """The live destinations as a user compares them: what they are, not their ids or secrets."""
    seen: dict[str, list[tuple[Any, ...]]] = {}
    for org in ("acme", "globex"):
        seen[org] = sorted((d["url"], tuple(sorted(d["accepted_types"])), d["retry_attempts"])
                           for d in (amigo.org_document(org) or {})["destinations"].values())
    for team in ("initech", "umbrella"):
        seen[team] = sorted((h["url"], tuple(sorted(h["events"])), h["is_enabled"])
                            for h in (amiqus.team_document(team) or {})["webhooks"].values())
    return seen


@contextmanager
def emulators() -> Iterator[tuple[str, AmigoEmulator, str, AmiqusEmulator]]:
    """A second pair of vendor accounts, for the unsharded apply the sharded one is compared with."""
    amigo = AmigoEmulator(AmigoSettings(control=True, time_scale=0.01, deliver_plain_http=True))
    amiqus = AmiqusEmulator(AmiqusSettings(control=True, time_scale=0.001, deliver_plain_http=True))
    for org in ("acme", "globex"):
        amigo.provision(org, f"{org}-deployer", f"{org}-deployer-key", f"{org}-api-key")
    amiqus.add_token("initech-token", team="initech")
    amiqus.add_token("umbrella-token", team="umbrella")
    with serve_app(create_app(amigo)) as amigo_url, serve_app(amiqus_app(amiqus)) as amiqus_url:
        yield amigo_url, amigo, amiqus_url, amiqus


def unsharded_apply(kit: dict[str, object], tmp_path: Path, bao: Bao) -> dict[str, list[tuple[Any, ...]]]:
    """`webhookctl apply` of the same configuration, unsharded, on fresh accounts: what it leaves live."""
    checkout = kit["checkout"]
    assert isinstance(checkout, Path)
    reference = tmp_path / "reference"
    shutil.copytree(checkout / "webhooks", reference / "webhooks")
    settings = reference / "webhooks" / "webhookctl.yaml"
    # Its own secret paths, so that the sharded accounts' secrets stay theirs.
    settings.write_text(settings.read_text().replace("webhooks/{provider}/{name}",
                                                     "webhooks-reference/{provider}/{name}"))
    secrets = kit["secrets"]
    assert isinstance(secrets, dict)
    with emulators() as (amigo_url, amigo, amiqus_url, amiqus):
        env = {**os.environ, **{k: v for k, v in secrets.items() if not k.startswith("VAULT")},
               "AMIGO_BASE_URL": amigo_url, "AMIQUS_BASE_URL": f"{amiqus_url}/api/v2",
               "AMIQUS_V1_BASE_URL": f"{amiqus_url}/api", "VAULT_ADDR": bao.address, "VAULT_TOKEN": bao.token,
               "WEBHOOKCTL_CONFIG": "webhooks"}
        env.pop("GITHUB_STEP_SUMMARY", None)
        done = subprocess.run([str(WEBHOOKCTL), "apply", "--auto-approve"], cwd=reference, env=env,
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout + done.stderr
        return live(amigo, amiqus)


def unsharded_plan(kit: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """`webhookctl plan` of every account at once, against the accounts the shards applied to."""
    checkout, secrets, overrides = kit["checkout"], kit["secrets"], kit["overrides"]
    assert isinstance(checkout, Path) and isinstance(secrets, dict) and isinstance(overrides, dict)
    env = {**os.environ, **secrets, **overrides, "VAULT_TOKEN": secrets["VAULT_PLAN_TOKEN"],
           "WEBHOOKCTL_CONFIG": "webhooks"}
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run([str(WEBHOOKCTL), "plan", "--detailed-exitcode"], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


# One more destination per provider, for a change in any shard (which shard holds which account
# depends on the accounts' addresses, here the emulators' ports).
ADDED = {
    "acme": ("acme.yaml", "  - name: acme-billing\n    provider: acme\n"
             "    url: https://hooks.acme.example/amigo/billing\n    accepted_types: [api-key-expiration-soon]\n"),
    "globex": ("globex.yaml", "  - name: globex-keys\n    provider: globex\n"
               "    url: https://insights.globex.example/webhooks/keys\n    accepted_types: [api-key-expiration-soon]\n"),
    "initech-kyc": ("initech-kyc.yaml", "  - name: initech-forms\n    provider: initech-kyc\n"
                    "    url: https://kyc.initech.example/amiqus/forms\n    events: [form.submitted]\n"),
    "umbrella-kyc": ("umbrella-kyc.yaml", "  - name: umbrella-clients\n    provider: umbrella-kyc\n"
                     "    url: https://forms.umbrella.example/amiqus/clients\n    events: [client.created]\n"),
}


def test_sharded_plan_apply_and_drift(sharded: dict[str, object], github: FakeGitHub,  # noqa: F811
                                      amigo_server: AmigoServer, amiqus_server: AmiqusServer, bao: Bao,
                                      tmp_path: Path) -> None:
    checkout = sharded["checkout"]
    assert isinstance(checkout, Path)
    assert [m["shard"] for m in matrix_of(workflow(sharded, "webhookctl-plan.yml"), "plan")] == [1, 2, 3]

    # A pull request: every shard plans its accounts; one comment holds them all.
    shards, comment = pull_request(sharded, 21, "a1" * 20)
    for planned in shards:
        assert planned.succeeded, planned.log()
    assert comment.succeeded, comment.log()
    assert comment.step("A shard failed to plan").status == "skipped"
    held = shards_of(sharded, shards[0].run_id, 21)
    assert sorted(held) == sorted(ADDED)  # every account is in exactly one shard
    [body] = github.comments_on(21)
    assert body.startswith("<!-- webhookctl-action:plan -->")
    assert "Shard 1/3,2/3,3/3 of the accounts. Plan: 6 to create." in body
    for name in ("acme/acme-conversations", "acme/acme-platform", "globex/globex-insights",
                 "initech-kyc/initech-records", "initech-kyc/initech-clients", "umbrella-kyc/umbrella-forms"):
        assert f"{name} will be created" in body, name
    assert f"`{'a1' * 6}`" in body
    assert "### webhookctl show: changes" in comment.summary

    # Pushed again: the same comment, updated in place.
    shards, comment = pull_request(sharded, 21, "b1" * 20)
    assert comment.succeeded, comment.log()
    [body] = github.comments_on(21)
    assert f"`{'b1' * 6}`" in body and "Plan: 6 to create." in body

    # Merged: each apply shard applies its own reviewed plan, nothing else.
    found, applied = merge(sharded, github, shards, 21, "b1" * 20, "m1" * 20)
    assert found.job_outputs == {"run-id": str(shards[0].run_id), "artifact": "webhookctl-plan-21"}
    for k, done in enumerate(applied, start=1):
        assert done.succeeded, done.log()
        assert f"$ webhookctl apply plan-{k}.json" in done.log() and "webhookctl plan" not in done.log()
        count = sum(1 for name in held.values() if name == k)
        assert f"### webhookctl apply (shard {k}): ok" in done.summary
        if count:
            assert f"Shard {k}/3 of the accounts." in done.log()
    assert unsharded_plan(sharded).returncode == 0  # nothing left for an unsharded apply to do

    # The nightly check: every shard clean, no issue.
    checks, report = drift(sharded)
    assert all(c.succeeded for c in checks) and report.succeeded, report.log()
    assert not github.issues

    # A change in acme and in an account of another shard (when there is one), then a change to
    # acme behind webhookctl's back before the merge: acme's shard refuses its stale plan and
    # applies nothing; the other shards apply theirs.
    other = next((name for name in ("globex", "initech-kyc", "umbrella-kyc") if held[name] != held["acme"]), None)
    for name in ("acme", other) if other else ("acme",):
        file, text = ADDED[name]
        path = checkout / "webhooks" / "orgs" / file
        path.write_text(path.read_text() + text)
    shards, comment = pull_request(sharded, 22, "c2" * 20)
    assert comment.succeeded, comment.log()
    [body] = github.comments_on(22)
    assert "acme/acme-billing will be created" in body
    if other:
        assert f"{other}/{ADDED[other][1].split()[2]} will be created" in body
        assert "Plan: 2 to create." in body
    behind_our_back(amigo_server)
    before = live(amigo_server.emulator, amiqus_server.emulator)
    _, applied = merge(sharded, github, shards, 22, "c2" * 20, "m2" * 20)
    for k, done in enumerate(applied, start=1):
        if k == held["acme"]:
            assert not done.succeeded and "stale" in done.log() and "stale" in done.summary
        else:
            assert done.succeeded, done.log()
    after = live(amigo_server.emulator, amiqus_server.emulator)
    assert after["acme"] == before["acme"]  # nothing of the stale shard was applied
    if other:
        team = {"initech-kyc": "initech", "umbrella-kyc": "umbrella"}.get(other, other)
        assert len(after[team]) == len(before[team]) + 1

    # The nightly check: one issue for all shards, updated (not duplicated) the next night.
    for _night in range(2):
        checks, report = drift(sharded)
        assert all(c.step("Drift").status == "success" for c in checks)  # the report job decides
        assert not report.succeeded and report.step("One issue for all shards").status == "failure"
    [(number, issue)] = github.issues.items()
    assert issue["state"] == "open" and issue["labels"] == ["webhookctl-drift"]
    assert "acme/acme-conversations" in issue["body"] and f"Shard {held['acme']}/3" in issue["body"]
    for k in (1, 2, 3):
        assert f"Shard {k}/3" in issue["body"]

    # Run by hand on main: every shard re-plans, then applies that plan.
    fresh(sharded)
    dispatched = job(sharded, "webhookctl-apply.yml", "plan", "workflow_dispatch", {})
    assert dispatched.succeeded, dispatched.log()
    needs = {"plan": {"result": "success", "outputs": dispatched.job_outputs}}
    replanned = matrix(sharded, "webhookctl-apply.yml", "replan", "workflow_dispatch", {},
                       run_id=dispatched.run_id, needs=needs)
    assert all(r.succeeded for r in replanned), [r.log() for r in replanned]
    applied = matrix(sharded, "webhookctl-apply.yml", "apply", "workflow_dispatch", {}, run_id=dispatched.run_id,
                     needs={**needs, "replan": {"result": needs_result(replanned), "outputs": {}}})
    assert all(a.succeeded for a in applied), [a.log() for a in applied]
    checks, report = drift(sharded)
    assert report.succeeded, report.log()
    assert github.issues[number]["state"] == "closed" and len(github.issues) == 1

    # Converged exactly as one unsharded apply of the same configuration converges fresh accounts.
    assert unsharded_plan(sharded).returncode == 0
    assert live(amigo_server.emulator, amiqus_server.emulator) == unsharded_apply(sharded, tmp_path, bao)


def test_a_failed_shard_is_missing_from_the_comment_and_fails_the_run(sharded: dict[str, object],
                                                                      github: FakeGitHub) -> None:  # noqa: F811
    secrets = sharded["secrets"]
    assert isinstance(secrets, dict)
    secrets["UMBRELLA_AMIQUS_TOKEN"] = "wrong-token"
    shards, comment = pull_request(sharded, 23, "d3" * 20)
    failed = [k for k, planned in enumerate(shards, start=1) if not planned.succeeded]
    assert len(failed) == 1, [s.log() for s in shards]
    [k] = failed
    assert shards[k - 1].step("Keep the saved plan for the apply job").status == "skipped"
    # The other shards' plans are still shown, in one comment that names the missing shard;
    # the run fails, so it is no reviewed plan for an apply.
    [body] = github.comments_on(23)
    assert f"shard(s) {k}/3 are not shown" in body
    assert not comment.succeeded and comment.step("A shard failed to plan").status == "failure"
    assert comment.step("One comment for all shards").status == "success"
