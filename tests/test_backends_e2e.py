"""plan, apply and rotate on the Amigo emulator with each backend, read back as an application would."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.backends import EXEC_HELPER, Bao, Moto, age_identity, binary
from tests.support.servers import receiver
from tests.support.workspace import TYPE, Workspace
from webhookctl.verify import verify_amigo

AppRead = Callable[[str], list[dict[str, Any]]]  # key -> the records an application sees (current first)


def vault_setup(workspace: Workspace, bao: Bao) -> AppRead:
    prefix = f"e2e-{workspace.root.name[-10:]}"
    workspace.secrets = {"backend": "vault", "key_template": prefix + "/{provider}/{name}", "timeout": 2}
    workspace.extra_env = bao.env()

    def read(name: str) -> list[dict[str, Any]]:
        import hvac  # what the receiving application runs

        client = hvac.Client(url=bao.address, token=bao.token)
        data = client.secrets.kv.v2.read_secret_version(path=f"{prefix}/prod/{name}", mount_point="secret",
                                                        raise_on_deleted_version=True)["data"]["data"]
        return [data]

    return read


def aws_setup(workspace: Workspace, moto_server: Moto) -> AppRead:
    prefix = f"e2e-{workspace.root.name[-10:]}"
    workspace.secrets = {"backend": "aws-secretsmanager", "key_template": prefix + "/{provider}/{name}"}
    workspace.extra_env = moto_server.env()

    def read(name: str) -> list[dict[str, Any]]:
        import boto3

        client = boto3.client("secretsmanager", endpoint_url=moto_server.endpoint, region_name="eu-west-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        records = [json.loads(client.get_secret_value(SecretId=f"{prefix}/prod/{name}",
                                                      VersionStage="AWSCURRENT")["SecretString"])]
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            records.append(json.loads(client.get_secret_value(SecretId=f"{prefix}/prod/{name}",
                                                              VersionStage="AWSPREVIOUS")["SecretString"]))
        return records

    return read


def sops_setup(workspace: Workspace) -> AppRead:
    age = age_identity(workspace.root)
    path = workspace.root / "repo" / "webhooks.sops.yaml"
    workspace.secrets = {"backend": "sops", "file": str(path), "age_recipients": [age.recipient],
                         "sops_binary": binary("sops")}
    workspace.extra_env = age.env()

    def read(name: str) -> list[dict[str, Any]]:
        done = subprocess.run([binary("sops"), "decrypt", "--output-type", "json", str(path)], check=True,
                              capture_output=True, env={"SOPS_AGE_KEY_FILE": str(age.key_file),
                                                        "SOPS_DISABLE_VERSION_CHECK": "1", "PATH": "/usr/bin:/bin"})
        return [json.loads(done.stdout)["records"][f"webhooks/prod/{name}"]]

    return read


def exec_setup(workspace: Workspace) -> AppRead:
    store = workspace.root / "store"
    workspace.secrets = {"backend": "exec", "command": [sys.executable, str(EXEC_HELPER)]}
    workspace.extra_env = {"JSON_STORE_DIR": str(store)}

    def read(name: str) -> list[dict[str, Any]]:
        done = subprocess.run([sys.executable, str(EXEC_HELPER), "get"], check=True, capture_output=True,
                              input=json.dumps({"key": f"webhooks/prod/{name}"}).encode(),
                              env={"JSON_STORE_DIR": str(store)})
        return [json.loads(done.stdout)["record"]]

    return read


@pytest.fixture(params=["vault", "aws-secretsmanager", "sops", "exec"])
def app_read(request: pytest.FixtureRequest, workspace: Workspace) -> AppRead:
    if request.param == "vault":
        return vault_setup(workspace, request.getfixturevalue("bao"))
    if request.param == "aws-secretsmanager":
        return aws_setup(workspace, request.getfixturevalue("moto_server"))
    return {"sops": sops_setup, "exec": exec_setup}[request.param](workspace)


def deliver(server: AmigoServer) -> None:
    server.control("events", {"org": server.org, "type": TYPE})
    server.control("idle", {})


def test_plan_apply_rotate_and_an_application_reads_the_secret(
    workspace: Workspace, amigo_server: AmigoServer, app_read: AppRead
) -> None:
    with receiver() as hook:
        workspace.add("orders", hook.url)
        assert workspace.run("plan", "--detailed-exitcode").exit_code == 2
        applied = workspace.run("apply", "--auto-approve")
        assert applied.exit_code == 0, applied.output
        assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
        deliver(amigo_server)
        [first] = hook.wait_for(1)
        [record] = app_read("orders")
        now = amigo_server.emulator.clock.now()
        assert verify_amigo(first.body, first.headers, record, now=now) == "current"
        assert record["current"]["secret"] == live(amigo_server)[0]["secret"]

        rotated = workspace.run("rotate", "orders", "--auto-approve")
        assert rotated.exit_code == 0, rotated.output
        deliver(amigo_server)
        second = hook.wait_for(2)[1]
        records = app_read("orders")
        assert records[0]["current"]["secret"] == live(amigo_server)[0]["secret"] != record["current"]["secret"]
        assert records[0]["previous"]["secret"] == record["current"]["secret"]
        for each in records:  # AWSPREVIOUS (where the store keeps versions) verifies too
            assert verify_amigo(second.body, second.headers, each, now=amigo_server.emulator.clock.now()) == "current"
        assert record["current"]["secret"] not in workspace.written_text()
        assert records[0]["current"]["secret"] not in workspace.written_text()


def test_a_backend_that_hangs_mid_apply_keeps_the_secret_in_escrow(
    workspace: Workspace, amigo_server: AmigoServer, bao: Bao, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webhookctl import failpoints

    read = vault_setup(workspace, bao)
    assert workspace.secrets is not None
    workspace.secrets["lock"] = False  # locks have their own tests; this one is about escrow
    workspace.add("a", "https://a.example.com/a")
    workspace.add("b", "https://b.example.com/b")
    # Pause the real OpenBao process the moment the vendor has answered the first create.
    monkeypatch.setattr(failpoints, "hit", lambda name: bao.pause() if name == "after-create-response" else None)
    try:
        failed = workspace.run("apply", "--auto-approve")
    finally:
        bao.resume()
    assert failed.exit_code == 1
    assert "✗ create prod/a failed: vault: " in failed.stdout and "(is Vault at http://127.0.0.1:" in failed.stdout
    assert "- create prod/b skipped" in failed.stdout
    escrowed = list((workspace.root / "state" / "journal").glob("*.json"))
    assert len(escrowed) == 1

    monkeypatch.undo()
    again = workspace.run("apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert "Finished the interrupted create of prod/a: stored its secret." in again.stdout
    assert not list((workspace.root / "state" / "journal").glob("*.json"))
    secrets = {d["url"]: d["secret"] for d in live(amigo_server)}
    assert read("a")[0]["current"]["secret"] == secrets["https://a.example.com/a"]
    assert read("b")[0]["current"]["secret"] == secrets["https://b.example.com/b"]


def test_on_delete_delete_removes_the_record(workspace: Workspace, amigo_server: AmigoServer, tmp_path: Path) -> None:
    workspace.secrets = {"backend": "file", "directory": str(workspace.root / "secrets"), "on_delete": "delete"}
    workspace.add("a", "https://a.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert workspace.record("a") is not None
    workspace.destinations = []
    applied = workspace.run("apply", "--auto-approve")
    assert "its secret was deleted from the backend (on_delete: delete)" in applied.stdout
    assert workspace.record("a") is None


def test_vault_approle_login(tmp_path: Path, bao: Bao, monkeypatch: pytest.MonkeyPatch) -> None:
    import hvac

    from webhookctl.config import models
    from webhookctl.secrets.factory import open_backend
    from webhookctl.secrets.record import SecretRecord

    root = hvac.Client(url=bao.address, token=bao.token)
    if "approle/" not in root.sys.list_auth_methods():
        root.sys.enable_auth_method("approle")
    root.sys.create_or_update_policy(name="webhookctl-apply", policy='path "secret/*" { capabilities = '
                                     '["create", "read", "update", "delete", "list"] }')
    root.auth.approle.create_or_update_approle("webhookctl", token_policies=["webhookctl-apply"])
    role_id = root.auth.approle.read_role_id("webhookctl")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("webhookctl")["data"]["secret_id"]
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    environ = {"VAULT_ADDR": bao.address, "VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id}
    backend = open_backend(models.VaultSecrets(backend="vault", key_template="approle-{provider}/{name}"), environ)
    record = SecretRecord(provider="prod", name="a", vendor="amigo", scope="s", destination_id="d", url="https://a",
                          current=None)
    backend.write(record)
    assert backend.read("prod", "a") == record


def test_force_unlock_releases_a_lock_left_by_a_dead_run(
    workspace: Workspace, amigo_server: AmigoServer, bao: Bao
) -> None:
    from webhookctl.config import models
    from webhookctl.secrets.factory import open_backend
    from webhookctl.secrets.vault import VaultBackend

    vault_setup(workspace, bao)
    workspace.add("a", "https://a.example.com/a")
    assert workspace.secrets is not None
    backend = open_backend(models.VaultSecrets(**workspace.secrets), bao.env())
    assert isinstance(backend, VaultBackend)
    scope = f"amigo:{amigo_server.url}/{amigo_server.org}"
    backend.acquire_lock(scope, "ci-runner-7 pid 4242")
    refused = workspace.run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert f"error: {scope} is locked in Vault by ci-runner-7 pid 4242 until " in refused.stderr
    assert "use 'webhookctl force-unlock'" in refused.stderr
    released = workspace.run("force-unlock", "--yes")
    assert released.exit_code == 0 and f"Released the lock of {scope}." in released.stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert not backend.held_locks()
    nothing = workspace.run("force-unlock")  # no --yes, no terminal: it looks before it asks
    assert nothing.exit_code == 0 and f"No lock is held for {scope}" in nothing.stdout


def test_a_backend_that_fails_is_no_damage_to_repair(workspace: Workspace, amigo_server: AmigoServer) -> None:
    """A CI job without the age key cannot decrypt the sops file: that is the backend failing, not every
    record damaged, and nothing is rotated at the vendor on its word (each was, before)."""
    sops_setup(workspace)
    workspace.add("a", "https://a.example.com/hook")
    workspace.add("b", "https://b.example.com/hook")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    before = sorted((d["id"], d["secret"], d["last_rotated_at"]) for d in live(amigo_server))
    keys = workspace.extra_env
    workspace.extra_env = {}  # no SOPS_AGE_KEY_FILE
    failed = workspace.run("apply", "--auto-approve")
    assert failed.exit_code == 1
    assert "sops decrypt failed" in failed.output and "damaged" not in failed.output
    assert sorted((d["id"], d["secret"], d["last_rotated_at"]) for d in live(amigo_server)) == before
    workspace.extra_env = keys
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
