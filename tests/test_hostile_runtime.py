"""Corrupt files, odd directories and leaky helpers at run time (issue 16, the run-time half).

Each case is the real CLI against the Amigo emulator and a real file (or exec) backend,
and asserts the exit code, the message, that nothing outside the secrets and state
directories was written, and that no secret reached any output.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.workspace import Org, Workspace
from webhookctl.presenter import Presenter

OWN = ("secrets", "state", "webhookctl.yaml")


def outside(workspace: Workspace) -> dict[str, tuple[int, float]]:
    """Every file and directory outside where webhookctl may write, with its size and mtime."""
    found = {}
    for path in workspace.root.rglob("*"):
        relative = path.relative_to(workspace.root)
        if relative.parts[0] not in OWN:
            info = path.lstat()
            found[str(relative)] = (info.st_size, info.st_mtime)
    return found


def secrets_of(server: AmigoServer) -> list[str]:
    return [d["secret"] for d in live(server)]


def assert_no_leak(workspace: Workspace, secrets: list[str]) -> None:
    text = workspace.written_text()
    assert secrets and not any(secret in text for secret in secrets)
    assert "Traceback" not in text


@pytest.fixture
def applied(workspace: Workspace, amigo_server: AmigoServer) -> Workspace:
    workspace.add("a", "https://a.example.com/a")
    workspace.add("b", "https://b.example.com/b")
    result = workspace.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return workspace


def record_paths(workspace: Workspace, name: str) -> tuple[Path, Path]:
    base = workspace.root / "secrets" / "webhooks" / "prod"
    return base / f"{name}.json", base / f"{name}.meta.json"


# -- records and metadata ------------------------------------------------------------------------------------

def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


METADATA_DAMAGE = {
    "a JSON list": (lambda meta: [meta], "is not a webhookctl record (it holds a JSON list)"),
    "missing destination_id": (lambda meta: _without(meta, "destination_id"), "field 'destination_id' is missing"),
    "provider as a number": (lambda meta: {**meta, "provider": 7}, "field 'provider' is not a string (it is a number)"),
    "fingerprint as null": (lambda meta: {**meta, "current": {**meta["current"], "fingerprint": None}},
                            "field 'current.fingerprint' is missing"),
    "bad timestamp": (lambda meta: {**meta, "updated_at": "2023-02-29T00:00:00Z"},
                      "field 'updated_at' is not an ISO 8601 timestamp"),
    "protected as text": (lambda meta: {**meta, "protected": "true"}, "field 'protected' is not a boolean"),
}


@pytest.mark.parametrize("damage", sorted(METADATA_DAMAGE))
def test_damaged_metadata_is_a_clear_error(applied: Workspace, amigo_server: AmigoServer, damage: str) -> None:
    change, message = METADATA_DAMAGE[damage]
    _, meta_path = record_paths(applied, "a")
    meta_path.write_text(json.dumps(change(json.loads(meta_path.read_text()))))
    before = outside(applied)
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = applied.run(*command)
        assert result.exit_code == 1, result.output
        assert f"error: {meta_path}" in result.stderr and message in result.stderr
    assert outside(applied) == before
    assert_no_leak(applied, secrets_of(amigo_server))


def test_a_record_whose_secret_is_a_number_is_repaired_not_coerced(applied: Workspace,
                                                                    amigo_server: AmigoServer) -> None:
    record_path, _ = record_paths(applied, "a")
    data = json.loads(record_path.read_text())
    data["current"]["secret"] = 12345
    record_path.write_text(json.dumps(data))
    before = outside(applied)
    result = applied.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "the record is damaged" in result.stdout
    repaired = json.loads(record_path.read_text())
    destination = next(d for d in live(amigo_server) if d["url"].endswith("/a"))
    assert repaired["current"]["secret"] == destination["secret"] != "12345"
    assert outside(applied) == before
    assert_no_leak(applied, secrets_of(amigo_server))


@pytest.mark.parametrize(("which", "command"), [("metadata", "plan"), ("record", "drift")])
def test_a_named_pipe_at_a_record_path_is_refused_not_waited_on(applied: Workspace, amigo_server: AmigoServer,
                                                                which: str, command: str) -> None:
    """Opening a FIFO for reading waits for a writer: the run would hang (CI would kill it after its timeout)."""
    record_path, meta_path = record_paths(applied, "a")
    path = meta_path if which == "metadata" else record_path
    path.unlink()
    os.mkfifo(path, 0o600)
    result = applied.run_process(command)  # a separate process: a hang fails this test, not the worker
    # drift reports an account it cannot read as a finding (exit 2), and checks the others
    assert result.returncode == (1 if command == "plan" else 2), result.stdout + result.stderr
    assert f"{path} is a named pipe, not a file webhookctl wrote; move it away" in result.stdout + result.stderr
    assert stat.S_ISFIFO(path.lstat().st_mode)
    assert_no_leak(applied, secrets_of(amigo_server))


def test_a_record_over_a_mebibyte_is_damage_not_read_whole(applied: Workspace, amigo_server: AmigoServer) -> None:
    record_path, _ = record_paths(applied, "a")
    record_path.write_text(record_path.read_text() + " " * (1 << 20))  # valid JSON still, but no record is this big
    result = applied.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert f"reason: the record is damaged: it cannot be read: {record_path} is over 1 MiB, more than any file " \
        "webhookctl writes" in result.stdout
    repaired = json.loads(record_path.read_text())
    destination = next(d for d in live(amigo_server) if d["url"].endswith("/a"))
    assert repaired["current"]["secret"] == destination["secret"] and record_path.stat().st_size < 4096
    assert_no_leak(applied, secrets_of(amigo_server))


def test_foreign_json_at_a_record_path_is_never_overwritten(applied: Workspace, amigo_server: AmigoServer) -> None:
    record_path, _ = record_paths(applied, "a")
    foreign = json.dumps({"owner": "billing", "password": "hunter2-not-ours"})
    record_path.write_text(foreign)
    result = applied.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert f"{record_path} was not written by webhookctl (it seems to belong to billing)" in result.output
    assert "move that entry away (webhookctl never overwrites what it did not write)" in result.output
    assert record_path.read_text() == foreign
    # Blocked before any vendor call: no secret was issued that could not be kept.
    assert not list((applied.root / "state" / "journal").glob("*.json"))
    drift = applied.run("drift")  # plans read metadata only; drift and apply read the records
    assert drift.exit_code == 2 and "was not written by webhookctl" in drift.output
    record_path.unlink()
    again = applied.run("apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert not list((applied.root / "state" / "journal").glob("*.json"))
    assert_no_leak(applied, secrets_of(amigo_server))


# -- the journal -----------------------------------------------------------------------------------------------

def _entry(**changes: Any) -> dict[str, Any]:
    entry = {"id": "20260101T000000-abcdefabcdef", "provider": "prod", "account": "amigo:x", "op": "create",
             "name": "c", "url": "https://c.example.com/c", "started_at": "2026-01-01T00:00:00Z", "fields": {},
             "destination_id": "d-1", "retires": None, "retired": False, "stage": "issued", "secret_kind": "create",
             "issued_at": None, "dual_signing_stops_at": None, "secret": "whsec-journaled-secret-0001"}
    return {k: v for k, v in {**entry, **changes}.items() if v != "<drop>"}


JOURNAL_DAMAGE = {
    "a JSON list": ([_entry()], "not a JSON object"),
    "secret as a number": (_entry(secret=12345), "secret is not a string"),
    "issued with a null secret": (_entry(secret=None), "stage 'issued' without its secret"),
    "missing provider": (_entry(provider="<drop>"), "provider is not a string"),
    "missing started_at": (_entry(started_at="<drop>"), "started_at is not a string"),
    "unknown op": (_entry(op="explode"), "op 'explode' is not one of"),
}


@pytest.mark.parametrize("damage", sorted(JOURNAL_DAMAGE))
def test_damaged_journal_entry_blocks_with_the_drop_command(applied: Workspace, amigo_server: AmigoServer,
                                                            damage: str) -> None:
    data, message = JOURNAL_DAMAGE[damage]
    entry_id = "20260101T000000-abcdefabcdef"
    path = applied.root / "state" / "journal" / f"{entry_id}.json"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(json.dumps(data))
    before = outside(applied)
    result = applied.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert f"journal entry {path} is unreadable ({message}" in result.stderr
    assert f"'webhookctl recover --drop {entry_id}'" in result.stderr
    assert "12345" not in result.output  # never coerced into a secret, never shown

    refused = applied.run("recover", "--drop", entry_id)  # CliRunner's stdin is not a terminal
    assert refused.exit_code == 1
    assert "nothing was dropped (pass --yes to drop without asking)" in refused.stderr
    assert path.exists()
    dropped = applied.run("recover", "--drop", entry_id, "--yes")
    assert dropped.exit_code == 0, dropped.output
    assert f"Dropped {entry_id}.json." in dropped.stdout and not path.exists()
    assert applied.run("apply", "--auto-approve").exit_code == 0
    assert outside(applied) == before
    assert_no_leak(applied, [*secrets_of(amigo_server), "whsec-journaled-secret-0001"])


def test_an_entry_of_a_removed_provider_names_the_way_out(applied: Workspace, amigo_server: AmigoServer) -> None:
    entry_id = "20260101T000000-abcdefabcdef"
    path = applied.root / "state" / "journal" / f"{entry_id}.json"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(json.dumps(_entry(provider="gone")))
    applied.add("c", "https://c.example.com/c")
    for command in (["plan"], ["recover"]):
        result = applied.run(*command)
        assert result.exit_code == 0, result.output
        assert (f"warning: journal entry {entry_id} holds the unfinished create of gone/c, whose provider 'gone' is "
                "no longer configured") in result.stderr
        assert f"'webhookctl recover --drop {entry_id}' (its secret is then lost)" in result.stderr
    result = applied.run("apply", "--auto-approve")  # not blocked
    assert result.exit_code == 0, result.output
    assert "create prod/c done" in result.stdout
    warned = applied.run("recover", "--drop", entry_id)
    assert warned.exit_code == 1 and "that secret is lost" in warned.stderr and path.exists()
    assert applied.run("recover", "--drop", entry_id, "--yes").exit_code == 0
    assert not path.exists()
    assert "warning" not in applied.run("plan").stderr
    assert_no_leak(applied, [*secrets_of(amigo_server), "whsec-journaled-secret-0001"])


# -- saved plans -----------------------------------------------------------------------------------------------

SAVED_DAMAGE = {
    "destination_id as a number": (lambda plan: plan["changes"][0].update(destination_id=5),
                                   "changes.0.destination_id: Input should be a valid string"),
    "a JSON list": (lambda plan: [plan], "not a webhookctl plan: the document: Input should be an object"),
    "action unknown": (lambda plan: plan["changes"][0].update(action="explode"), "changes.0.action: Input should be"),
    "after altered": (lambda plan: plan["changes"][0].pop("after"), "the saved plan was altered after it was made"),
    "not JSON": (None, "not a webhookctl plan: the document: Invalid JSON"),
    "a key unknown in a change": (lambda plan: plan["changes"][0].update(run="rm -rf /"),
                                  "changes.0.run: Extra inputs are not permitted (1 problem)"),
    "a key unknown at the top": (lambda plan: plan.update(run="rm -rf /"),
                                 "not a webhookctl plan: run: Extra inputs are not permitted (1 problem)"),
}


@pytest.mark.parametrize("damage", sorted(SAVED_DAMAGE))
def test_damaged_saved_plan_is_refused_before_anything(applied: Workspace, amigo_server: AmigoServer,
                                                       damage: str) -> None:
    applied.add("c", "https://c.example.com/c")
    plan_path = applied.root / "secrets-plan.json"
    assert applied.run("plan", "--out", str(plan_path)).exit_code == 0
    change, message = SAVED_DAMAGE[damage]
    if change is None:
        plan_path.write_text("{not json")
    else:
        data = json.loads(plan_path.read_text())
        replaced = change(data)
        plan_path.write_text(json.dumps(replaced if isinstance(replaced, list) else data))
    count = len(live(amigo_server))
    result = applied.run("apply", str(plan_path))
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    if damage != "after altered":
        assert f"error: {plan_path}: not a webhookctl plan: " in result.stderr
    assert len(live(amigo_server)) == count  # nothing was sent
    assert_no_leak(applied, secrets_of(amigo_server))


# -- one destination failing -----------------------------------------------------------------------------------

def test_a_backend_failure_fails_one_operation_and_the_other_account_finishes(
        workspace: Workspace, amigo_server: AmigoServer) -> None:
    org = workspace.orgs["prod"]
    assert isinstance(org, Org)
    amigo_server.emulator.provision("other", "u-2", "key-2", "key-value-2")
    workspace.orgs["dev"] = Org(org.url, "other", "u-2", "key-2", "key-value-2")
    workspace.add("a", "https://a.example.com/a", provider="prod")
    workspace.add("z", "https://z.example.com/z", provider="dev")
    # A directory where z's metadata goes: the OS refuses to rename a file over it, even for root. The look
    # before the create blocks only another tool's entry, so the create goes ahead and its secret waits in
    # the journal until the directory is moved (a file where the directory goes is refused by the plan, whole).
    blocker = workspace.root / "secrets" / "webhooks" / "dev" / "z.meta.json"
    blocker.mkdir(parents=True, mode=0o700)
    result = workspace.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert f"✗ create dev/z failed: {blocker} is a directory, not a file webhookctl wrote; move it away" \
        in result.stdout
    assert "✓ create prod/a done" in result.stdout
    journal = [json.loads(p.read_text()) for p in (workspace.root / "state" / "journal").glob("*.json")]
    assert [(e["provider"], e["stage"]) for e in journal] == [("dev", "issued")]
    blocker.rmdir()
    again = workspace.run("apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert "Finished the interrupted create of dev/z: stored its secret." in again.stdout
    assert_no_leak(workspace, secrets_of(amigo_server) + [d["secret"] for d in live(amigo_server, "other")])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_read_only_secrets_directory_is_a_failed_operation(applied: Workspace, amigo_server: AmigoServer) -> None:
    prod = applied.root / "secrets" / "webhooks" / "prod"
    applied.add("c", "https://c.example.com/c")
    prod.chmod(0o500)
    try:
        result = applied.run("apply", "--auto-approve")
    finally:
        prod.chmod(0o700)
    assert result.exit_code == 1, result.output
    assert f"create prod/c failed: cannot write {prod}/c.json: Permission denied" in result.stdout
    assert_no_leak(applied, secrets_of(amigo_server))


# -- leaks -----------------------------------------------------------------------------------------------------

LEAKY_HELPER = """
import json, sys
operation = sys.argv[1]
request = json.load(sys.stdin)
if operation == "store":
    secret = request["record"]["current"]["secret"]
    sys.stderr.write("debug: storing\\n")
    sys.stderr.write(f"vault said no to {secret!r} (base64 too: {__import__('base64').b64encode(secret.encode()).decode()})\\n")
    sys.exit(3)
print(json.dumps({"records": []} if operation == "list" else {"record": None}))
"""


def test_an_exec_helper_echoing_the_secret_never_prints_it(workspace: Workspace, amigo_server: AmigoServer) -> None:
    helper = workspace.root / "leaky.py"
    helper.write_text(LEAKY_HELPER)
    workspace.secrets = {"backend": "exec", "command": [sys.executable, str(helper)]}
    workspace.add("a", "https://a.example.com/a")
    result = workspace.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "✗ create prod/a failed: exec backend: store failed: vault said no to '***' (base64 too: ***)" \
        in result.stdout
    secret = secrets_of(amigo_server)[0]
    journal = [json.loads(p.read_text()) for p in (workspace.root / "state" / "journal").glob("*.json")]
    assert [e["secret"] for e in journal] == [secret]  # kept where it belongs, for the next run
    assert_no_leak(workspace, [secret])


@pytest.mark.parametrize("credential", ["key-value\nleaked-part", "key-value-leaked-clé", "key\tleaked-part\r"])
def test_a_credential_http_cannot_carry_is_one_line_without_its_value(workspace: Workspace, credential: str) -> None:
    # An API key from the environment with a line break (a file read with its newline) or a character
    # outside ASCII: HTTP cannot send it. One line naming the header; never the value, no traceback.
    account = workspace.orgs["prod"]
    assert isinstance(account, Org)
    account.api_key = credential
    workspace.add("a", "https://a.example.com/a")
    result = workspace.run("plan")
    assert result.exit_code == 1, result.output
    assert "the x-api-key header would hold a line break, a control or a non-ASCII character" in result.stderr
    assert "leaked" not in result.output and "Traceback" not in result.output


def test_credentials_in_urls_are_masked_everywhere_but_sent_whole(workspace: Workspace,
                                                                   amigo_server: AmigoServer) -> None:
    url = "https://user:pass@hooks.example.com/h?token=abc123&keep=1"
    workspace.add("a", url)
    shown = {fmt: workspace.run("plan", "--format", fmt) for fmt in ("text", "markdown", "json")}
    for fmt, result in shown.items():
        assert result.exit_code == 0, result.output
        assert "pass" not in result.output and "abc123" not in result.output, fmt
        assert "https://***@hooks.example.com/h?token=***&keep=1" in result.stdout, fmt
    plan_path = workspace.root / "plan.json"
    assert workspace.run("plan", "--out", str(plan_path)).exit_code == 0
    assert "abc123" not in plan_path.read_text() and "pass@" not in plan_path.read_text()
    applied = workspace.run("apply", str(plan_path))  # the masked approval still matches the fresh plan
    assert applied.exit_code == 0, applied.output
    assert [d["url"] for d in live(amigo_server)] == [url]  # the vendor received the configured URL
    assert "abc123" not in workspace.written_text().replace(workspace.config_path.read_text(), "")
    assert_no_leak(workspace, secrets_of(amigo_server))


def test_errors_and_warnings_are_masked() -> None:
    out, err = io.StringIO(), io.StringIO()
    presenter = Presenter(out, err, color=False)
    from webhookctl.model import Secret

    Secret("whsec-known-to-this-run-42")
    presenter.error("POST https://u:p@h.example.com/x?signature=s3cr3t failed: whsec-known-to-this-run-42")
    presenter.warning("see https://h.example.com/?api_key=k3y")
    assert err.getvalue() == ("error: POST https://***@h.example.com/x?signature=*** failed: ***\n"
                              "warning: see https://h.example.com/?api_key=***\n")


# -- files and directories --------------------------------------------------------------------------------------

def test_stale_temporaries_are_removed_at_the_next_run(applied: Workspace, amigo_server: AmigoServer) -> None:
    prod = applied.root / "secrets" / "webhooks" / "prod"
    secret = secrets_of(amigo_server)[0]
    stale, fresh = prod / ".a.json.k1ll3d.tmp", prod / ".b.json.wr1t1ng.tmp"
    for leftover in (stale, fresh):
        leftover.write_text(json.dumps({"secret": secret}))
    old = time.time() - 3600
    os.utime(stale, (old, old))
    result = applied.run("plan")
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert fresh.exists()  # it may belong to a write in progress


def test_a_symlinked_subdirectory_is_refused(applied: Workspace, amigo_server: AmigoServer,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    elsewhere.chmod(0o777)
    webhooks = applied.root / "secrets" / "webhooks"
    (webhooks / "prod").rename(applied.root / "secrets" / "moved")
    (webhooks / "prod").symlink_to(elsewhere, target_is_directory=True)
    applied.add("c", "https://c.example.com/c")
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = applied.run(*command)
        assert result.exit_code == 1, result.output
        assert f"{webhooks / 'prod'} is a symbolic link; webhookctl does not follow links" in result.output
    assert list(elsewhere.iterdir()) == []
    assert_no_leak(applied, secrets_of(amigo_server))


def test_a_symlinked_journal_directory_is_refused(applied: Workspace, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("journal-elsewhere")
    journal = applied.root / "state" / "journal"
    journal.parent.mkdir(exist_ok=True)
    if journal.exists():
        journal.rmdir()
    journal.symlink_to(elsewhere, target_is_directory=True)
    result = applied.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert f"{journal} is a symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_an_existing_directory_keeps_its_mode(workspace: Workspace, amigo_server: AmigoServer) -> None:
    directory = workspace.root / "mine"
    directory.mkdir()
    directory.chmod(0o755)
    workspace.secrets = {"backend": "file", "directory": str(directory)}
    workspace.add("a", "https://a.example.com/a")
    result = workspace.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(directory.stat().st_mode) == 0o755  # not webhookctl's to chmod
    assert stat.S_IMODE((directory / "webhooks").stat().st_mode) == 0o700  # created by it
    assert stat.S_IMODE((directory / "webhooks" / "prod" / "a.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770])
def test_an_existing_directory_others_can_write_is_refused(workspace: Workspace, amigo_server: AmigoServer,
                                                           mode: int) -> None:
    directory = workspace.root / "shared"
    directory.mkdir()
    directory.chmod(mode)
    workspace.secrets = {"backend": "file", "directory": str(directory)}
    workspace.add("a", "https://a.example.com/a")
    result = workspace.run("apply", "--auto-approve")
    if mode == 0o1777:
        # Sticky and ours: nobody else can replace what webhookctl writes there.
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1, result.output
        assert f"{directory} is writable by other users (mode {mode:04o})" in result.output
        assert list(directory.iterdir()) == []
    assert stat.S_IMODE(directory.stat().st_mode) == mode
    printed = "".join(workspace.outputs)
    assert not any(secret in printed for secret in secrets_of(amigo_server)) and "Traceback" not in printed


@pytest.mark.parametrize("below", ["webhooks", "webhooks/prod"])
def test_a_directory_below_the_top_others_can_write_is_refused_at_plan(applied: Workspace, amigo_server: AmigoServer,
                                                                       below: str) -> None:
    """The records of a directory others can write may be theirs: the plan refuses, before any vendor call,
    as it does for the top directory (it was found only when a secret was written, after the create)."""
    shared = applied.root / "secrets" / below
    shared.chmod(0o777)
    before = {d["id"] for d in live(amigo_server)}
    planned = applied.run("plan")
    assert planned.exit_code == 1, planned.output
    assert f"{shared} is writable by other users (mode 0777)" in planned.output
    applied.add("c", "https://c.example.com/c")
    refused = applied.run("apply", "--auto-approve")
    assert refused.exit_code == 1 and f"{shared} is writable by other users" in refused.output, refused.output
    assert {d["id"] for d in live(amigo_server)} == before  # nothing created whose secret had nowhere to go
    assert stat.S_IMODE(shared.stat().st_mode) == 0o777  # not webhookctl's to chmod
    shared.chmod(0o700)
    assert applied.run("apply", "--auto-approve").exit_code == 0
    assert_no_leak(applied, secrets_of(amigo_server))
