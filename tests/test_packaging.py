"""Packaging: the wheel in a fresh environment, the extras, the Dockerfile, the project metadata."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from webhookctl.cli import cli
from webhookctl.extras import EXTRAS, missing

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VAULT_CONFIG = """version: 1
providers:
  demo: {type: amigo, base_url: emulator, organization: demo-org,
         auth: {api_key: demo-api-key, api_key_id: demo-key, user_id: demo-user}}
secrets: {backend: vault}
destinations: []
"""


def test_the_runtime_does_not_carry_the_emulator_server_stack() -> None:
    runtime = " ".join(PYPROJECT["project"]["dependencies"])
    assert "starlette" not in runtime and "uvicorn" not in runtime
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"vault", "aws", "emulator"} <= set(extras)
    assert any(name.startswith("starlette") for name in extras["emulator"])
    # Every module an extra provides is declared by that extra.
    for extra, (modules, _) in EXTRAS.items():
        for module in modules:
            assert any(dep.startswith(module) for dep in extras[extra]), (extra, module)


def test_metadata_license_and_typing() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    assert "Operating System :: POSIX" in project["classifiers"]
    assert not any("Windows" in c or "OS Independent" in c for c in project["classifiers"])
    assert {"Homepage", "Issues", "Changelog"} <= set(project["urls"])
    assert (ROOT / "webhookctl" / "py.typed").exists() and (ROOT / "CHANGELOG.md").exists()
    assert PYPROJECT["tool"]["mypy"]["plugins"] == ["pydantic.mypy"]
    assert "plugins" not in PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]


def test_the_dockerfile_builds_a_slim_image_running_webhookctl() -> None:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())  # one instruction per line
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert bases and all(re.fullmatch(r"python:3\.1[1-9]-slim", base) for base in bases), bases
    final = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")):]
    assert 'ENTRYPOINT ["webhookctl"]' in final
    assert any(line.startswith("USER ") and "root" not in line for line in final)
    assert any("--no-cache-dir" in line for line in final if line.startswith("RUN"))
    # What the build copies exists, and the context leaves the environments and state out.
    for line in lines:
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".webhookctl"} <= set(ignored)


def test_missing_extra_messages_name_the_pip_install() -> None:
    for extra in EXTRAS:
        # Installed here (the dev extra has them all); the message is only built when missing.
        assert missing(extra) is None, extra


def test_a_missing_extra_is_one_line(tmp_path: Path) -> None:
    """hvac and starlette made unimportable in a child process (None in sys.modules, as Python
    documents for blocking an import): one line naming the pip install, no traceback."""
    (tmp_path / "webhookctl.yaml").write_text(VAULT_CONFIG)
    block = ("import sys\nsys.modules['hvac'] = sys.modules['starlette'] = None\n"
             "from webhookctl.cli import main\nmain()\n")
    for argv, extra in ((["plan"], "vault"), (["emulate", "amigo"], "emulator")):
        done = subprocess.run([sys.executable, "-c", block, *argv], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
        [line] = done.stderr.strip().splitlines()
        assert f"pip install 'webhookctl[{extra}]'" in line, line


def test_help_still_works() -> None:
    assert CliRunner().invoke(cli, ["--help"]).exit_code == 0


@pytest.mark.slow
def test_the_wheel_in_a_fresh_environment(tmp_path: Path) -> None:
    """Build the wheel, install it alone (no extras) in a new venv, then with the emulator extra."""
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("webhookctl-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    webhookctl = str(venv / "bin" / "webhookctl")
    quickstart = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", quickstart, ignore=shutil.ignore_patterns(".webhookctl"))
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "AMIGO_API_KEY": "demo-api-key"}

    def run(*argv: str, cwd: Path = quickstart) -> subprocess.CompletedProcess[str]:
        return subprocess.run([webhookctl, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)

    assert "Usage: webhookctl" in run("--help").stdout
    frozen = subprocess.run([*pip[:4], "freeze"], capture_output=True, text=True, env=env).stdout.lower()
    assert "starlette" not in frozen and "uvicorn" not in frozen and "hvac" not in frozen
    validated = run("validate")
    assert validated.returncode == 0 and validated.stdout.startswith("Configuration valid:"), validated.stderr

    elsewhere = tmp_path / "vault"
    elsewhere.mkdir()
    (elsewhere / "webhookctl.yaml").write_text(VAULT_CONFIG)
    for argv, cwd, extra in ((["plan"], elsewhere, "vault"), (["plan"], quickstart, "emulator"),
                             (["emulate", "amigo"], quickstart, "emulator")):
        failed = run(*argv, cwd=cwd)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed.stderr
        [line] = failed.stderr.strip().splitlines()
        assert f"pip install 'webhookctl[{extra}]'" in line

    # The emulator extra from the local wheel; its dependencies from the package index.
    done = subprocess.run([*pip, "--find-links", str(dist), "webhookctl[emulator]"], capture_output=True, text=True,
                          timeout=600, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    planned = run("plan")
    assert planned.returncode == 0, planned.stderr
    assert "3 to create" in planned.stdout, planned.stdout
