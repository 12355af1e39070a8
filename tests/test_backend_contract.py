"""One contract, every backend, each against the real thing (OpenBao, moto's server, sops, a helper)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.backends import EXEC_HELPER, Bao, Moto, age_identity, binary
from webhookctl.config import models
from webhookctl.errors import DamagedRecordError, ForeignEntryError, SecretsError
from webhookctl.model import Secret
from webhookctl.secrets.base import SecretsBackend
from webhookctl.secrets.factory import open_backend
from webhookctl.secrets.record import SecretRecord, SecretVersion

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class Subject:
    backend: SecretsBackend
    # Writes an entry at `key` the way another tool would (no webhookctl metadata), owned by `owner`.
    write_foreign: Callable[[str, str], None]


def record(name: str = "orders", provider: str = "prod", secret: str = "s3cr3t-current", **changes: Any) -> SecretRecord:
    base = SecretRecord(
        provider=provider, name=name, vendor="amigo", scope="amigo:https://api.amigo.ai/acme",
        destination_id="65f0c0ffee0000000000abcd", url="https://orders.example.com/hook?x=1&y=2",
        current=SecretVersion.of(Secret(secret), generated_at=NOW, issued_at=NOW), updated_at=NOW,
    )
    return replace(base, **changes)


def _file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Subject:
    backend = open_backend(models.FileSecrets(directory=str(tmp_path / "secrets")))

    def foreign(key: str, owner: str) -> None:
        path = tmp_path / "secrets" / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"owner": owner, "password": "not ours"}))

    return Subject(backend, foreign)


def _vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bao: Bao) -> Subject:
    for key, value in bao.env().items():
        monkeypatch.setenv(key, value)
    prefix = f"t{tmp_path.name[-12:].replace('_', '')}"
    backend = open_backend(models.VaultSecrets(backend="vault", key_template=prefix + "/{provider}/{name}"))

    def foreign(key: str, owner: str) -> None:
        import hvac

        client = hvac.Client(url=bao.address, token=bao.token)
        client.secrets.kv.v2.create_or_update_secret(path=key, secret={"password": "not ours"}, mount_point="secret")
        client.secrets.kv.v2.update_metadata(path=key, custom_metadata={"owner": owner}, mount_point="secret")

    return Subject(backend, foreign)


def _aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_server: Moto) -> Subject:
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    prefix = f"t-{tmp_path.name[-12:]}"
    backend = open_backend(models.AwsSecrets(backend="aws-secretsmanager", key_template=prefix + "/{provider}/{name}"))

    def foreign(key: str, owner: str) -> None:
        import boto3

        boto3.client("secretsmanager").create_secret(Name=key, SecretString="not ours",
                                                     Tags=[{"Key": "owner", "Value": owner}])

    return Subject(backend, foreign)


def _sops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Subject:
    age = age_identity(tmp_path)
    for key, value in age.env().items():
        monkeypatch.setenv(key, value)
    config = models.SopsSecrets(backend="sops", file=str(tmp_path / "repo" / "{provider}.sops.yaml"),
                                age_recipients=[age.recipient], sops_binary=binary("sops"))
    backend = open_backend(config)

    def foreign(key: str, owner: str) -> None:
        from webhookctl.secrets.sops import SopsBackend

        assert isinstance(backend, SopsBackend)
        records = backend._decrypted("prod")
        records[key] = {"owner": owner, "password": "not ours"}
        backend._encrypt_into("prod", records)

    return Subject(backend, foreign)


def _exec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Subject:
    monkeypatch.setenv("JSON_STORE_DIR", str(tmp_path / "store"))
    backend = open_backend(models.ExecSecrets(backend="exec", command=[sys.executable, str(EXEC_HELPER)]))

    def foreign(key: str, owner: str) -> None:
        subprocess.run([sys.executable, str(EXEC_HELPER), "store"], check=True,
                       input=json.dumps({"key": key, "record": {"owner": owner}}).encode())

    return Subject(backend, foreign)


@pytest.fixture(params=["file", "vault", "aws-secretsmanager", "sops", "exec"])
def subject(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Subject]:
    kind = request.param
    if kind == "vault":
        yield _vault(tmp_path, monkeypatch, request.getfixturevalue("bao"))
    elif kind == "aws-secretsmanager":
        yield _aws(tmp_path, monkeypatch, request.getfixturevalue("moto_server"))
    else:
        yield {"file": _file, "sops": _sops, "exec": _exec}[kind](tmp_path, monkeypatch)


def test_round_trip_and_metadata_without_secrets(subject: Subject) -> None:
    backend = subject.backend
    assert backend.read("prod", "orders") is None and backend.read_metadata("prod", "orders") is None
    written = record()
    backend.write(written)
    assert backend.read("prod", "orders") == written
    meta = backend.read_metadata("prod", "orders")
    assert meta == written.metadata()
    assert meta is not None and meta.current is not None and meta.current.secret is None
    assert meta.current.fingerprint == Secret("s3cr3t-current").fingerprint
    assert "s3cr3t-current" not in repr(meta.to_dict(with_secrets=False))


def test_list_by_provider(subject: Subject) -> None:
    backend = subject.backend
    for name, provider in (("a", "prod"), ("b", "prod"), ("c", "staging")):
        backend.write(record(name, provider))
    assert sorted(r.name for r in backend.list_metadata("prod")) == ["a", "b"]
    assert [r.name for r in backend.list_metadata("staging")] == ["c"]
    assert all(r.current is not None and r.current.secret is None for r in backend.list_metadata("prod"))


def test_rotation_keeps_the_previous_secret(subject: Subject) -> None:
    backend = subject.backend
    first = record()
    backend.write(first)
    assert first.current is not None
    rotated = record(secret="s3cr3t-new", previous=replace(first.current, valid_until=NOW + timedelta(minutes=30)),
                     last_rotated_at=NOW)
    backend.write(rotated)
    stored = backend.read("prod", "orders")
    assert stored == rotated
    assert stored is not None and stored.previous is not None and stored.previous.secret == Secret("s3cr3t-current")
    meta = backend.read_metadata("prod", "orders")
    assert meta is not None and meta.previous is not None and meta.previous.valid_until == NOW + timedelta(minutes=30)


def test_writes_are_idempotent(subject: Subject) -> None:
    backend = subject.backend
    backend.write(record())
    backend.write(record())
    assert backend.read("prod", "orders") == record()


def test_foreign_entries_are_never_overwritten_or_deleted(subject: Subject) -> None:
    backend = subject.backend
    key = backend.key_for("prod", "orders")
    subject.write_foreign(key, "team-payments")
    with pytest.raises(ForeignEntryError, match="team-payments"):
        backend.write(record())
    with pytest.raises(ForeignEntryError, match="not written by webhookctl"):
        backend.delete("prod", "orders")
    assert backend.read_metadata("prod", "orders") is None
    assert backend.list_metadata("prod") == []


def test_a_foreign_entry_is_found_before_a_record_is_needed(subject: Subject) -> None:
    """`ensure_writable` answers before the vendor is asked for a secret: another tool's entry at the key is
    refused; a free key and webhookctl's own record are writable."""
    backend = subject.backend
    subject.write_foreign(backend.key_for("prod", "orders"), "team-payments")
    with pytest.raises(ForeignEntryError, match="team-payments"):
        backend.ensure_writable("prod", "orders")
    backend.ensure_writable("prod", "free")
    backend.write(record(name="mine"))
    backend.ensure_writable("prod", "mine")


def test_a_foreign_entry_is_never_taken_for_a_record(subject: Subject) -> None:
    """Reading another tool's entry (plain text in AWS, JSON of another shape elsewhere) is refused or
    finds nothing; it never crashes the run (moto's plain-text secret was a JSONDecodeError traceback)."""
    subject.write_foreign(subject.backend.key_for("prod", "orders"), "team-payments")
    try:
        found = subject.backend.read("prod", "orders")
    except ForeignEntryError:
        return
    assert found is None


def test_delete(subject: Subject) -> None:
    backend = subject.backend
    backend.write(record())
    backend.delete("prod", "orders")
    assert backend.read("prod", "orders") is None and backend.read_metadata("prod", "orders") is None
    backend.delete("prod", "orders")  # deleting what is gone is fine


def test_vault_refuses_to_overwrite_a_concurrent_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        bao: Bao) -> None:
    subject = _vault(tmp_path, monkeypatch, bao)
    backend = subject.backend
    backend.write(record())
    from webhookctl.secrets.vault import VaultBackend

    assert isinstance(backend, VaultBackend)
    seen = backend._metadata(backend.key_for("prod", "orders"))
    backend.write(record(secret="written-by-another-run"))  # the other writer lands first
    # This run read the version before the other writer; its write must fail, not overwrite (cas).
    monkeypatch.setattr(backend, "_owned", lambda path: seen)
    with pytest.raises(SecretsError, match="another writer"):
        backend.write(record(secret="stale-run"))
    stored = backend.read("prod", "orders")
    assert stored is not None and stored.current is not None
    assert stored.current.secret == Secret("written-by-another-run")


def test_vault_finishes_a_write_cut_before_its_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       bao: Bao) -> None:
    """A write is the data, then the custom_metadata that marks it webhookctl's: a run cut between the two
    (or a failed second call) left its own record looking foreign, and every later run refused it."""
    import hvac

    subject = _vault(tmp_path, monkeypatch, bao)
    backend = subject.backend
    key = backend.key_for("prod", "orders")
    client = hvac.Client(url=bao.address, token=bao.token)
    client.secrets.kv.v2.create_or_update_secret(path=key, secret=record().to_dict(with_secrets=True),
                                                 mount_point="secret")  # the first call only
    backend.write(record(secret="s3cr3t-finished"))
    assert backend.read_metadata("prod", "orders") == record(secret="s3cr3t-finished").metadata()
    subject.write_foreign(backend.key_for("prod", "other"), "team-payments")  # another tool's stays refused
    with pytest.raises(ForeignEntryError, match="team-payments"):
        backend.write(record(name="other"))


def test_sops_never_writes_the_plain_text_beside_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The decrypted copy used to sit in a directory next to the encrypted file (meant for Git) while sops
    ran, and a SIGKILL left it there. A wrapper around sops lists that directory at every call."""
    subject = _sops(tmp_path, monkeypatch)
    from webhookctl.secrets.sops import SopsBackend

    backend = subject.backend
    assert isinstance(backend, SopsBackend)
    seen = tmp_path / "seen"
    wrapper = tmp_path / "sops-wrapper"
    wrapper.write_text(f'#!/bin/sh\nls -A "{tmp_path / "repo"}" >> "{seen}"\nexec "{binary("sops")}" "$@"\n')
    wrapper.chmod(0o755)
    backend.config = backend.config.model_copy(update={"sops_binary": str(wrapper)})
    backend.write(record())
    backend.write(record(secret="s3cr3t-next"))
    assert set(seen.read_text().split()) <= {"prod.sops.yaml", "prod.sops.yaml.lock"}
    stored = backend.read("prod", "orders")
    assert stored is not None and stored.current is not None and stored.current.secret == Secret("s3cr3t-next")


@pytest.mark.parametrize(("content", "problem"), [
    ("records: [unclosed", "cannot be read"), ("- a list\n", "not a webhookctl secrets file"),
    ("records: [1, 2]\n", "not a webhookctl secrets file"),
])
def test_sops_refuses_a_file_of_another_shape_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         content: str, problem: str) -> None:
    subject = _sops(tmp_path, monkeypatch)
    path = tmp_path / "repo" / "prod.sops.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    with pytest.raises(SecretsError, match=problem) as raised:
        subject.backend.list_metadata("prod")
    assert not isinstance(raised.value, DamagedRecordError)  # the whole file: no record's repair mends it


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, "
    f"*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n" for n in range(9))
BOMB += "records: *j\n"  # 9^10 leaves: billions of nodes if expanded


@pytest.mark.parametrize(("damage", "problem"), [
    ("an alias bomb", "holds a YAML alias (line 2), which sops never writes; restore it from Git"),
    ("too many nodes", "holds more than 1,000 YAML nodes, more than any sops file webhookctl writes"),
    ("nesting past the parser's depth", "cannot be read (RecursionError); restore it from Git"),
    ("a named pipe", "is a named pipe, not a file webhookctl wrote; move it away"),
    ("33 MiB", "is over 32 MiB, more than any file webhookctl writes"),
])
def test_sops_reads_no_file_that_could_hang_or_exhaust_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               damage: str, problem: str) -> None:
    """The file sits in Git, where a pull request may change it: a plan reads its metadata (no key needed)."""
    import threading

    from webhookctl.secrets import sops

    monkeypatch.setattr(sops, "MAX_NODES", 1000)  # the mechanism, not the figure: a million takes seconds to parse
    subject = _sops(tmp_path, monkeypatch)
    path = tmp_path / "repo" / "prod.sops.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if damage == "a named pipe":
        os.mkfifo(path)
    else:
        path.write_text({"an alias bomb": BOMB, "too many nodes": "records: [" + "1, " * 1001 + "]\n",
                         "nesting past the parser's depth": "records: " + "[" * 5000 + "]" * 5000 + "\n",
                         }.get(damage) or "records: {}\n" + "#" * (33 << 20) + "\n")
    failed: list[BaseException] = []

    def read() -> None:
        try:
            subject.backend.list_metadata("prod")
        except SecretsError as error:
            failed.append(error)

    # On a thread: were a named pipe opened for reading again, the test would fail, not hang its worker.
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)
    assert not reader.is_alive(), "list_metadata did not return"
    [error] = failed
    assert problem in str(error) and str(error).startswith(f"sops: {path} "), error


def test_sops_follows_a_link_the_configuration_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file's path is the user's: a link there is theirs to make (only links inside webhookctl's own
    directories are refused)."""
    subject = _sops(tmp_path, monkeypatch)
    subject.backend.write(record())
    path = tmp_path / "repo" / "prod.sops.yaml"
    moved = tmp_path / "elsewhere.sops.yaml"
    path.rename(moved)
    path.symlink_to(moved)
    assert [r.name for r in subject.backend.list_metadata("prod")] == ["orders"]
    assert subject.backend.read("prod", "orders") == record()


def test_sops_entry_that_is_no_mapping_is_a_damaged_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subject = _sops(tmp_path, monkeypatch)
    path = tmp_path / "repo" / "prod.sops.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("records:\n  webhooks/prod/orders: hello\n")
    assert subject.backend.list_metadata("prod") == []
    with pytest.raises(DamagedRecordError):
        subject.backend.read_metadata("prod", "orders")


def test_vault_metadata_needs_no_permission_to_read_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            bao: Bao) -> None:
    import hvac

    subject = _vault(tmp_path, monkeypatch, bao)
    subject.backend.write(record())
    root = hvac.Client(url=bao.address, token=bao.token)
    root.sys.create_or_update_policy(name="plan-job", policy='path "secret/metadata/*" { capabilities = ["read", "list"] }')
    token = root.auth.token.create(policies=["plan-job"])["auth"]["client_token"]
    monkeypatch.setenv("VAULT_TOKEN", token)
    key_template = subject.backend.key_for("{provider}", "{name}")
    plan_job = open_backend(models.VaultSecrets(backend="vault", key_template=key_template))
    assert plan_job.read_metadata("prod", "orders") == record().metadata()
    assert [r.name for r in plan_job.list_metadata("prod")] == ["orders"]
    with pytest.raises(SecretsError, match="permission denied"):
        plan_job.read("prod", "orders")


def test_vault_lock_for_runs_on_other_machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bao: Bao) -> None:
    from webhookctl.errors import LockHeldError
    from webhookctl.secrets.vault import VaultBackend

    backend = _vault(tmp_path, monkeypatch, bao).backend
    assert isinstance(backend, VaultBackend)
    scope = f"amigo:https://api.amigo.ai/{tmp_path.name}"
    backend.acquire_lock(scope, "ci-runner-1")
    with pytest.raises(LockHeldError, match="ci-runner-1"):
        backend.acquire_lock(scope, "ci-runner-2")
    backend.release_lock(scope)
    backend.acquire_lock(scope, "ci-runner-2", ttl=0.01)
    time.sleep(0.05)
    backend.acquire_lock(scope, "ci-runner-3")  # an expired lock is taken over
    backend.release_lock(scope)


def test_update_metadata_keeps_the_secrets(subject: Subject) -> None:
    backend = subject.backend
    written = record()
    assert written.current is not None
    unstamped = replace(written, current=replace(written.current, generated_at=None))
    backend.write(unstamped)
    meta = backend.read_metadata("prod", "orders")
    assert meta is not None and meta.current is not None and meta.current.generated_at is None
    stamped = replace(meta, current=replace(meta.current, generated_at=NOW))
    backend.update_metadata(stamped)
    after = backend.read_metadata("prod", "orders")
    assert after is not None and after.current is not None and after.current.generated_at == NOW
    full = backend.read("prod", "orders")
    assert full is not None and full.current is not None and full.current.secret == Secret("s3cr3t-current")
    if backend.kind == "vault":
        from webhookctl.secrets.vault import VaultBackend

        assert isinstance(backend, VaultBackend)
        assert backend._metadata(backend.key_for("prod", "orders"))["current_version"] == 1  # type: ignore[index]
    if backend.kind == "aws-secretsmanager":
        from webhookctl.secrets.aws import AwsBackend

        assert isinstance(backend, AwsBackend)
        versions = backend.client.describe_secret(SecretId=backend.key_for("prod", "orders"))["VersionIdsToStages"]
        assert list(versions.values()) == [["AWSCURRENT"]]  # no new version, nothing pushed to AWSPREVIOUS


def test_aws_finishing_a_cut_rotation_keeps_the_previous_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               moto_server: Moto) -> None:
    """A write cut after PutSecretValue (its tags still name the old secret): finishing it must not put the
    value again, which would push the old secret out of AWSPREVIOUS, where applications read it."""
    import boto3

    subject = _aws(tmp_path, monkeypatch, moto_server)
    backend = subject.backend
    first = record()
    backend.write(first)
    rotated = record(secret="s3cr3t-rotated", previous=first.current)
    key = backend.key_for("prod", "orders")
    client = boto3.client("secretsmanager")
    client.put_secret_value(SecretId=key, SecretString=json.dumps(rotated.to_dict(with_secrets=True)))  # then cut
    backend.write(replace(rotated, updated_at=NOW + timedelta(minutes=1)))  # the next run finishes it
    previous = json.loads(client.get_secret_value(SecretId=key, VersionStage="AWSPREVIOUS")["SecretString"])
    assert previous["current"]["secret"] == "s3cr3t-current"
    assert backend.read_metadata("prod", "orders") == replace(rotated, updated_at=NOW + timedelta(minutes=1)).metadata()
