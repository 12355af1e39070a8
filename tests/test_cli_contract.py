"""The CLI contract: exit codes, JSON on failure, progress on stderr, terminal manners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from tests.amigo_helpers import live
from tests.conftest import AmigoServer
from tests.support.servers import free_port
from tests.support.workspace import Org, Workspace
from webhookctl.cli import cli
from webhookctl.cli.schema import FILES, schema_text

ROOT = Path(__file__).resolve().parent.parent


def schema(kind: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((ROOT / "schemas" / FILES[kind]).read_text()))


def assert_valid(kind: str, document: Any) -> None:
    errors = [e.message for e in schema(kind).iter_errors(document)]
    assert errors == [], errors


@pytest.mark.parametrize("kind", sorted(FILES))
def test_checked_in_output_schemas_are_current(kind: str) -> None:
    checked_in = (ROOT / "schemas" / FILES[kind]).read_text()
    assert checked_in == schema_text(kind=kind), f"run: webhookctl schema {kind} > schemas/{FILES[kind]}"


# -- exit codes ------------------------------------------------------------------

COMMANDS = ["validate", "plan", "apply", "rotate a", "drift", "deliveries a", "import", "dump --provider prod",
            "recover", "force-unlock --yes", "schema", "completion bash", "emulate amigo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_mistyped_flag_exits_1_for_every_command(command: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "--no-such-flag"])
    assert result.exit_code == 1
    assert "Error: No such option '--no-such-flag'." in result.stderr


def test_an_unknown_command_or_root_flag_exits_1() -> None:
    assert CliRunner().invoke(cli, ["plna"]).exit_code == 1
    assert CliRunner().invoke(cli, ["--verbose", "plan"]).exit_code == 1
    assert CliRunner().invoke(cli, ["plan", "--format", "yaml"]).exit_code == 1


def test_the_exit_code_table(workspace: Workspace, amigo_server: AmigoServer) -> None:
    """0 success / no changes; 2 changes or findings; 1 errors, command by command."""
    workspace.add("a", "https://a.example.com/")
    assert workspace.run("validate").exit_code == 0
    assert workspace.run("plan").exit_code == 0  # changes, but no --detailed-exitcode
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 2
    assert workspace.run("drift").exit_code == 2  # a declared destination missing live is drift
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
    assert workspace.run("drift").exit_code == 0
    assert workspace.run("deliveries", "a").exit_code == 0
    assert workspace.run("import").exit_code == 0
    assert workspace.run("dump", "--provider", "prod").exit_code == 0
    assert workspace.run("recover").exit_code == 0
    assert workspace.run("force-unlock", "--yes").exit_code == 0
    assert workspace.run("rotate", "a", "--auto-approve").exit_code == 0

    amigo_server.control("faults", {"maintenance": True})
    for command in (["plan"], ["apply", "--auto-approve"], ["rotate", "a", "--auto-approve"], ["deliveries", "a"],
                    ["import"], ["dump", "--provider", "prod"]):
        result = workspace.run(*command)
        assert result.exit_code == 1, command
        assert "temporary maintenance" in result.stderr
    assert workspace.run("drift").exit_code == 2  # an unreadable account is a plan-error finding
    amigo_server.control("faults", {"maintenance": False})

    workspace.destinations[0]["url"] = "http://a.example.com/"  # a configuration problem
    for command in ("validate", "plan", "apply", "rotate a", "drift", "deliveries a", "import", "dump --provider prod",
                    "recover", "force-unlock --yes"):
        assert workspace.run(*command.split()).exit_code == 1, command


# -- JSON on failure ------------------------------------------------------------


def test_json_output_stays_json_on_failure_and_matches_its_schema(workspace: Workspace,
                                                                   amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    amigo_server.control("faults", {"maintenance": True})
    failed = workspace.run("plan", "--format", "json")
    assert failed.exit_code == 1
    document = json.loads(failed.stdout)
    assert_valid("error", document)
    assert document["error"]["kind"] == "runtime" and "temporary maintenance" in document["error"]["message"]
    amigo_server.control("faults", {"maintenance": False})

    unknown = workspace.run("deliveries", "nope", "--format", "json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout) == {"format_version": 1, "ok": False, "error": {
        "kind": "runtime", "message": "no destination named nope in the configuration", "problems": []}}

    workspace.set("a", url="http://a.example.com/")
    config = workspace.run("drift", "--format", "json")
    assert config.exit_code == 1
    document = json.loads(config.stdout)
    assert_valid("error", document)
    [problem] = document["error"]["problems"]
    assert document["error"]["kind"] == "config"
    assert problem["file"] == str(workspace.config_path) and problem["field"] == "destinations[0].url"
    assert problem["line"] > 0 and problem["column"] > 0 and "https" in problem["message"]

    invalid = workspace.run("validate", "--format", "json")
    assert invalid.exit_code == 1
    assert_valid("validate", json.loads(invalid.stdout))

    usage = workspace.run("drift", "--format", "json", "--since", "soon")
    assert usage.exit_code == 1
    document = json.loads(usage.stdout)
    assert_valid("error", document)
    assert document["error"]["kind"] == "usage"


def test_json_outputs_match_their_schemas(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    assert_valid("validate", json.loads(workspace.run("validate", "--format", "json").stdout))
    assert_valid("plan", json.loads(workspace.run("plan", "--format", "json").stdout))
    assert_valid("drift", json.loads(workspace.run("drift", "--format", "json").stdout))
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    listed = json.loads(workspace.run("deliveries", "a", "--format", "json").stdout)
    assert_valid("deliveries", listed)
    assert listed == {"format_version": 1, "provider": "prod", "destination": "a", "deliveries": []}


# -- progress and diagnosis on stderr ------------------------------------------


def test_rate_limit_waits_and_retries_are_announced_in_ci_mode(workspace: Workspace,
                                                               amigo_server: AmigoServer) -> None:
    """Not a terminal (stderr is a pipe), as in CI: each wait and each retry is still one line."""
    amigo_server.control("settings", {"rate_limits": {"create": 1}, "rate_window_seconds": 1})
    amigo_server.control("faults", {"conflict_writes": 1})
    # Four creates, one per window: a create answered just before a window turns lets the next go unpaced
    # (windows are aligned on the epoch), so with two a wait was missed now and then; three in a row is not.
    for name in "abcd":
        workspace.add(name, f"https://{name}.example.com/")
    done = workspace.run_process("apply", "--auto-approve")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    waits = [line for line in lines if line.startswith("waiting ")]
    assert waits and all(line.endswith(" s for prod's create limit") for line in waits), lines
    [retry] = [line for line in lines if " retry " in line]
    assert retry.startswith("prod: create: 409 ") and ", retry 1/5 in " in retry and retry.endswith(" s"), lines


def test_a_transport_error_keeps_its_cause_and_names_the_field(workspace: Workspace) -> None:
    workspace.orgs["prod"].url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = workspace.run("plan")
    assert result.exit_code == 1
    assert "connection refused" in result.stderr.lower() or "all connection attempts failed" in result.stderr
    assert result.stderr.rstrip().endswith("; check providers.prod.base_url"), result.stderr
    assert "ConnectError" not in result.stderr


def test_refused_credentials_name_the_variable_they_came_from(workspace: Workspace) -> None:
    account = workspace.orgs["prod"]
    assert isinstance(account, Org)
    account.api_key = "not-the-key"
    refused = workspace.run("plan")
    assert refused.exit_code == 1
    assert refused.stderr.rstrip().endswith("; check the credentials in ${KEY_PROD}"), refused.stderr
    assert "not-the-key" not in refused.stderr


def test_debug_logs_requests_without_credentials(workspace: Workspace, amigo_server: AmigoServer) -> None:
    workspace.add("a", "https://a.example.com/")
    logged = workspace.run_process("plan", extra_env={"WEBHOOKCTL_DEBUG": "1"})
    assert logged.returncode == 0
    debug = [line for line in logged.stderr.splitlines() if line.startswith("debug: ")]
    assert any(line.startswith("debug: POST ") and " -> 200 (" in line for line in debug), logged.stderr
    assert any(line.startswith("debug: GET ") for line in debug)
    assert amigo_server.api_key not in logged.stderr and "authorization" not in logged.stderr.lower()
    assert "debug: " in workspace.run("--debug", "plan").stderr
    assert "debug: " not in workspace.run("plan").stderr


# -- no silent no-ops ------------------------------------------------------------


def test_no_providers_is_an_error_that_suggests_the_directory(tmp_path: Path) -> None:
    (tmp_path / "webhookctl.yaml").write_text("version: 1\n")
    result = CliRunner().invoke(cli, ["plan", "-c", str(tmp_path / "webhookctl.yaml")])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {tmp_path}/webhookctl.yaml declares no providers, so there is nothing to do; "
                             "point -c at the file or directory that declares them (webhookctl <command> -c DIR)\n")


def test_a_missing_extra_is_one_line_and_validate_flags_it(tmp_path: Path) -> None:
    (tmp_path / "webhookctl.yaml").write_text(
        "version: 1\nsecrets:\n  backend: vault\nproviders:\n  p: {type: amiqus, base_url: emulator, auth: {token: t}}\n")
    # hvac is installed here; blocking its import is how Python says a module is absent.
    launcher = "import sys; sys.modules['hvac'] = None; from webhookctl.cli import main; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", launcher, command, "-c", str(tmp_path / "webhookctl.yaml")],
                              capture_output=True, text=True, env=env, timeout=60)

    validated = run("validate")
    assert validated.returncode == 1 and "Traceback" not in validated.stderr
    assert f"{tmp_path}/webhookctl.yaml:3:12: error: the vault secrets backend needs hvac, which is not " \
           "installed: pip install 'webhookctl[vault]' (secrets.backend)" in validated.stdout.splitlines()
    planned = run("plan")
    assert planned.returncode == 1 and "Traceback" not in planned.stderr
    assert planned.stderr.splitlines() == ["error: the vault secrets backend needs hvac, which is not installed: "
                                           "pip install 'webhookctl[vault]'"]


def test_dump_writes_only_undeclared_destinations_keeping_bound_names(workspace: Workspace,
                                                                       amigo_server: AmigoServer) -> None:
    from tests.test_drift import amigo_api

    workspace.add("declared", "https://declared.example.com/")
    workspace.add("dropped", "https://dropped.example.com/")
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    workspace.remove("dropped")  # no longer declared, still bound in the backend (unmanaged: report)
    amigo_api(amigo_server).post("/webhook_destination/", json={
        "url": "https://stray.example.com/hook", "accepted_types": ["conversation-post-processing-complete"]})
    import yaml

    dumped = yaml.safe_load(workspace.run("dump", "--provider", "prod").stdout)
    assert [(d["name"], d["url"]) for d in dumped["destinations"]] == [
        ("dropped", "https://dropped.example.com/"), ("stray-example-com-hook", "https://stray.example.com/hook")]


# -- terminal manners -----------------------------------------------------------


def test_closing_the_pipe_early_exits_quietly_with_0(workspace: Workspace) -> None:
    workspace.write()
    env = {**os.environ, **workspace.env(), "PYTHONPATH": str(ROOT)}
    for _ in range(3):  # the race the issue saw lost a third of the time
        done = subprocess.run(["bash", "-c", f"set -o pipefail; '{sys.executable}' -m webhookctl schema config "
                                             "| head -1"], capture_output=True, text=True, env=env, timeout=60)
        assert (done.returncode, done.stdout, done.stderr) == (0, "{\n", "")


def run_with_reader_gone(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with its stdout's reader gone before it writes a byte (`| head -0`): every write fails."""
    workspace.write()
    env = {**os.environ, **workspace.env(), "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "webhookctl", *args, "-c", str(workspace.config_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
                             text=True)
    assert child.stdout is not None
    child.stdout.close()
    _, stderr = child.communicate(timeout=120)
    return subprocess.CompletedProcess(child.args, child.returncode, "", stderr)


def test_a_closed_pipe_stops_the_output_never_the_run(workspace: Workspace, amigo_server: AmigoServer) -> None:
    for name in ("a", "b", "c"):
        workspace.add(name, f"https://{name}.example.com/hook")
    planned = run_with_reader_gone(workspace, "plan", "--detailed-exitcode")
    assert (planned.returncode, planned.stderr) == (2, "")  # changes: still said by the exit code
    applied = run_with_reader_gone(workspace, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr  # the apply ran to its end
    assert sorted(d["url"] for d in live(amigo_server)) == [f"https://{n}.example.com/hook" for n in "abc"]
    assert all(workspace.record(name) is not None for name in "abc")
    assert workspace.run("plan", "--detailed-exitcode").exit_code == 0
    assert run_with_reader_gone(workspace, "validate").returncode == 0


def test_colour_follows_flags_then_no_color_then_force_color(workspace: Workspace) -> None:
    workspace.add("a", "https://a.example.com/")

    def coloured(*args: str, **env: str) -> bool:
        workspace.extra_env = env
        result = workspace.run(*args, "plan")
        assert result.exit_code == 0
        return "\x1b[" in result.stdout

    assert not coloured()  # not a terminal
    assert coloured(FORCE_COLOR="1")
    assert coloured(FORCE_COLOR="1", NO_COLOR="")  # an empty NO_COLOR does not count
    assert not coloured(FORCE_COLOR="1", NO_COLOR="1")
    assert coloured("--color", NO_COLOR="1")
    assert not coloured("--no-color", FORCE_COLOR="1")


def test_destination_and_provider_names_complete_from_the_configuration(workspace: Workspace) -> None:
    workspace.add("orders", "https://orders.example.com/")
    workspace.add("billing", "https://billing.example.com/")
    workspace.write()

    def complete(line: str) -> list[str]:
        words = f"webhookctl {line}".replace("CONFIG", str(workspace.config_path))
        result = CliRunner().invoke(cli, [], prog_name="webhookctl", env={
            "_WEBHOOKCTL_COMPLETE": "bash_complete", "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))})
        assert result.exit_code == 0, (line, result.output)
        return [item.split(",", 1)[1] for item in result.stdout.splitlines() if item]

    assert complete("plan -c CONFIG --target ") == ["orders", "billing"]
    assert complete("apply -c CONFIG --rotate o") == ["orders"]
    assert complete("deliveries -c CONFIG b") == ["billing"]
    assert complete("rotate -c CONFIG ") == ["orders", "billing"]
    assert complete("dump -c CONFIG --provider ") == ["prod"]
    assert complete("plan -c /nowhere.yaml --target ") == []


def test_ctrl_c_at_the_apply_prompt_aborts_at_once(workspace: Workspace, amigo_server: AmigoServer) -> None:
    import pty
    import select
    import signal
    import time

    workspace.add("a", "https://a.example.com/")
    workspace.write()

    def at_prompt() -> tuple[subprocess.Popen[bytes], int]:
        leader, follower = pty.openpty()
        process = subprocess.Popen([sys.executable, "-m", "webhookctl", "apply", "-c", str(workspace.config_path)],
                                   stdin=follower, stdout=follower, stderr=follower,
                                   env={**os.environ, **workspace.env(), "PYTHONPATH": str(ROOT)})
        os.close(follower)
        seen = b""
        deadline = time.monotonic() + 180  # a bound for a hung run, not a timing assertion
        while b"Enter a value: " not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 1)[0]:
                seen += os.read(leader, 65536)
        if b"Only 'yes' will be accepted to approve." not in seen:
            process.kill()  # never leave a run waiting at a prompt nobody answers
            os.close(leader)
            raise AssertionError(f"no prompt: {seen.decode(errors='replace')}")
        return process, leader

    def finish(process: subprocess.Popen[bytes], leader: int) -> tuple[int, str]:
        """Read the terminal until the run closes it (so it never blocks on a full pty), then its exit code.

        Bounded: a run that ignores the Ctrl-C is killed and the test fails, instead of hanging.
        """
        text = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not select.select([leader], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            text += chunk
        else:
            process.kill()
        os.close(leader)
        return process.wait(timeout=60), text.decode()

    process, leader = at_prompt()
    process.send_signal(signal.SIGINT)  # one Ctrl-C
    code, text = finish(process, leader)
    assert code == 1 and "error: apply cancelled (interrupted at the prompt); nothing was changed" in text

    process, leader = at_prompt()
    os.write(leader, b"y\n")  # anything but yes cancels
    code, text = finish(process, leader)
    assert code == 1 and "error: apply cancelled; nothing was changed" in text
    assert not amigo_server.emulator.org_document(amigo_server.org)["destinations"]

    process, leader = at_prompt()
    os.write(leader, b"yes\n")
    code, text = finish(process, leader)
    assert code == 0 and "Apply complete: 1 done, 0 failed, 0 skipped." in text


def test_plural_wording(workspace: Workspace) -> None:
    workspace.add("a", "https://a.example.com/")
    created = workspace.run("plan")
    assert "prod (amigo:" in created.stdout and "): 0 -> 1 of 10 destinations" in created.stdout
    assert workspace.run("apply", "--auto-approve").exit_code == 0
    rotation = workspace.run("plan", "--rotate", "a")
    assert rotation.stdout.endswith("Plan: 1 secret to rotate.\n")
    assert workspace.run("deliveries", "a").stderr == "0 deliveries\n"
