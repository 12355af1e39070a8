"""The CLI starts without importing its commands: `--help`, `--version` and completion stay light.

Each check runs the CLI in a fresh interpreter and reports, as it exits, which modules it imported:
a count that does not depend on the machine's load, unlike a time. Where a start must stay close to
a bare program (a bare click program; for validate, click + PyYAML + one pydantic model), the
modules it imports beyond that program's are checked.
"""

from __future__ import annotations

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

# Prints the imported module names last, on stderr. It imports nothing itself (atexit is built in), so
# that what the program imports (json included) is what is reported.
REPORT = """
import atexit, sys
atexit.register(lambda: print("MODULES", *sorted(sys.modules), file=sys.stderr))
"""
# Runs the CLI like the console script does.
PROBE = REPORT + """
sys.argv = ["webhookctl", *sys.argv[1:]]
from webhookctl.cli import main
main()
"""
BARE_CLICK = REPORT + """
import click
@click.group()
def cli():
    'A bare click program.'
cli()
"""
BARE_COMPLETION = REPORT + """
import click
from click.shell_completion import get_completion_class
@click.group()
def cli():
    'A bare click program.'
print(get_completion_class("bash")(cli, {}, "bare", "_BARE_COMPLETE").source())
"""
# What checking YAML with pydantic costs any program: click, PyYAML, a pydantic model and a TypeAdapter
# used once (pydantic then reads its plugins' entry points, through importlib.metadata).
BARE_VALIDATION = REPORT + """
import click, yaml
from pydantic import BaseModel, TypeAdapter
class Floor(BaseModel):
    x: int
Floor.model_validate(yaml.safe_load("x: 1"))
TypeAdapter(int).validate_python(1)
"""


def run_python(code: str, *args: str, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    line = [text for text in done.stderr.splitlines() if text.startswith("MODULES ")][-1]
    return done, set(line.split()[1:])


def run_cli(*args: str, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    return run_python(PROBE, *args, env=env, cwd=cwd)


def beyond(modules: set[str], bare: set[str]) -> list[str]:
    """The modules, other than webhookctl's own, that the program imported and the bare one did not."""
    return sorted(name for name in modules - bare if name.split(".")[0] != "webhookctl")


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


@pytest.mark.parametrize(("args", "bare_program"), [
    (("--help",), BARE_CLICK), (("--version",), BARE_CLICK), (("completion", "bash"), BARE_COMPLETION)])
def test_start_up_imports_nothing_a_bare_click_program_does_not(args: tuple[str, ...], bare_program: str) -> None:
    # Within 2x a bare click start (issue 17) holds while these import what click does and
    # webhookctl's few modules of the root command: no logging, asyncio, json, dataclasses, ...
    done, modules = run_cli(*args)
    bare_done, bare = run_python(bare_program, "--help")
    assert done.returncode == 0 and bare_done.returncode == 0, done.stderr + bare_done.stderr
    assert beyond(modules, bare) == []
    assert sorted(name for name in modules if name.split(".")[0] == "webhookctl") == sorted(
        {"webhookctl", "webhookctl.cli", "webhookctl.cli.group", "webhookctl.cli.lazy", "webhookctl.errors",
         "webhookctl.terminal"} | ({"webhookctl.cli.completion"} if args[0] == "completion" else set()))


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


# What validate has no use for: the engine and HTTP, an event loop, the JSON output models (text
# output), the provider contract (the registry needs the vendors' configuration models only), logging
# (--debug), click's completion machinery, json and difflib (a valid configuration in text), and the wire
# model's dataclasses (~1 ms each to define; `Secret` and `Capabilities` have modules of their own).
NOT_FOR_VALIDATE = ("httpx", "httpcore", "anyio", "deepdiff", "asyncio", "ssl", "logging", "json", "difflib",
                    "click.shell_completion", "webhookctl.engine", "webhookctl.providers", "webhookctl.secrets",
                    "webhookctl.session", "webhookctl.outputs", "webhookctl.vendors.contract",
                    "webhookctl.vendors.http", "webhookctl.model")


def test_validate_imports_neither_the_engine_nor_http(tmp_path: Path) -> None:
    (tmp_path / "webhookctl.yaml").write_text(
        (ROOT / "examples" / "quickstart" / "webhookctl.yaml").read_text())
    done, modules = run_cli("validate", cwd=tmp_path, env={"AMIGO_API_KEY": "x"})
    assert done.returncode == 0, done.stderr
    assert "Configuration valid" in done.stdout
    assert "pydantic" in modules  # it does validate
    assert sorted(name for name in modules if name in NOT_FOR_VALIDATE
                  or name.startswith(tuple(prefix + "." for prefix in NOT_FOR_VALIDATE))) == []
    # Beyond what checking YAML with pydantic imports in any program, next to nothing: a new
    # top-level import of a library (or of the standard library's heavier corners) shows here.
    bare_done, bare = run_python(BARE_VALIDATION)
    assert bare_done.returncode == 0, bare_done.stderr
    assert len(beyond(modules, bare)) <= 3, beyond(modules, bare)
