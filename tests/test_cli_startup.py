"""The CLI starts without importing its commands: `--help`, `--version` and completion stay light.

Each check runs the CLI in a fresh interpreter and reports, as it exits, which modules it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from webhookctl.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pydantic", "httpx", "httpcore", "anyio", "yaml", "deepdiff", "webhookctl.engine",
         "webhookctl.providers", "webhookctl.secrets", "webhookctl.config.models", "webhookctl.session")

# Runs the CLI like the console script does and prints the imported module names last, on stderr.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["webhookctl", *sys.argv[1:]]
from webhookctl.cli import main
main()
"""


def run_cli(*args: str, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    line = [text for text in done.stderr.splitlines() if text.startswith("MODULES ")][-1]
    return done, set(json.loads(line.removeprefix("MODULES ")))


def heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.split(".")[0] in HEAVY or name in HEAVY
                  or any(name.startswith(prefix + ".") for prefix in HEAVY))


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("completion", "bash")])
def test_start_up_imports_no_command_dependencies(args: tuple[str, ...]) -> None:
    done, modules = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert heavy(modules) == []
    assert not any(name.startswith("webhookctl.cli.") and name != "webhookctl.cli.lazy"
                   and name not in ("webhookctl.cli.completion", "webhookctl.cli.group") for name in modules)


def test_help_lists_every_command_with_its_own_short_help() -> None:
    done, _ = run_cli("--help")
    listing = done.stdout.split("Commands:")[1]
    names = [line.split()[0] for line in listing.strip().splitlines()]
    assert names == sorted(COMMANDS)
    assert "Validate the configuration." in listing and "--version" in done.stdout


def test_the_table_agrees_with_the_commands() -> None:
    # The short help kept in the table is each command's docstring summary, and each target is
    # the command of that name: a renamed command or an edited docstring fails here.
    context = click.Context(cli)
    for name, entry in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
        assert entry.short_help == command.get_short_help_str(limit=1000), name


def test_completing_a_command_name_imports_no_command() -> None:
    done, modules = run_cli(env={"_WEBHOOKCTL_COMPLETE": "bash_complete", "COMP_WORDS": "webhookctl d",
                                 "COMP_CWORD": "1"})
    assert done.stdout.split() == ["plain,deliveries", "plain,drift", "plain,dump"]
    assert heavy(modules) == []


def test_completing_a_command_option_loads_that_command() -> None:
    done, _ = run_cli(env={"_WEBHOOKCTL_COMPLETE": "bash_complete", "COMP_WORDS": "webhookctl plan --for",
                           "COMP_CWORD": "2"})
    assert done.stdout.split() == ["plain,--format"]


def test_validate_imports_neither_the_engine_nor_http(tmp_path: Path) -> None:
    (tmp_path / "webhookctl.yaml").write_text(
        (ROOT / "examples" / "quickstart" / "webhookctl.yaml").read_text())
    done, modules = run_cli("validate", cwd=tmp_path, env={"AMIGO_API_KEY": "x"})
    assert done.returncode == 0, done.stderr
    assert "Configuration valid" in done.stdout
    assert "pydantic" in modules  # it does validate
    assert [name for name in heavy(modules) if name.split(".")[0] in ("httpx", "httpcore", "anyio", "deepdiff")
            or name.startswith(("webhookctl.engine", "webhookctl.providers", "webhookctl.secrets",
                                "webhookctl.session"))] == []
