"""A vendor installed as a separate package works through the seam alone (examples/vendor-plugin/).

The package is installed from a copy of its directory into a temporary target, and
webhookctl runs in subprocesses that find it only through PYTHONPATH and its entry point.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.support.servers import serve_app

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "examples" / "vendor-plugin"
TOKEN = "hooky-token"

pytestmark = pytest.mark.slow


@dataclass
class Installed:
    source: Path  # the copy it was built from (the build writes next to the sources)
    site: Path

    def env(self, **extra: str) -> dict[str, str]:
        path = os.pathsep.join([str(self.site), str(REPO)])
        return {**os.environ, "PYTHONPATH": path, **extra}

    def run(self, *args: str, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=self.env(**extra),
                              cwd=cwd, timeout=180, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("plugin")
    source = root / "src"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    site = root / "site"
    # No index and no build isolation: nothing is downloaded (setuptools comes with the venv).
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--no-build-isolation", "--target", str(site), str(source)],
                   check=True, capture_output=True, timeout=180)
    return Installed(source, site)


def emulator_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hooky_emulator", PLUGIN / "tests" / "emulator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def hooky() -> Iterator[tuple[str, Any]]:
    module = emulator_module()
    emulator = module.HookyEmulator(token=TOKEN)
    with serve_app(module.create_app(emulator)) as url:
        yield url, emulator


def write_config(directory: Path, base_url: str, topics: list[str]) -> Path:
    document = {
        "version": 1,
        "providers": {"shop": {"type": "hooky", "base_url": base_url, "auth": {"token": "${HOOKY_TOKEN}"}}},
        "destinations": [{"name": "orders", "provider": "shop", "url": "https://orders.example.com/hook",
                          "topics": topics}],
        "secrets": {"backend": "file", "directory": str(directory / "secrets")},
        "settings": {"state_dir": str(directory / "state")},
    }
    path = directory / "webhookctl.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_the_registry_finds_the_installed_vendor(installed: Installed) -> None:
    found = installed.run("-c", "from webhookctl.vendors import registry; print(sorted(registry()))")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "['amigo', 'amiqus', 'hooky']"
    # Without the package on the path, the core knows only its own vendors.
    alone = subprocess.run([sys.executable, "-c", "from webhookctl.vendors import registry; print(sorted(registry()))"],
                           capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
    assert alone.stdout.strip() == "['amigo', 'amiqus']"


def test_validate_accepts_it_and_locates_its_field_errors(installed: Installed, tmp_path: Path) -> None:
    good = write_config(tmp_path, "https://api.hooky.example", ["order.created"])
    result = installed.run("-m", "webhookctl", "validate", "-c", str(good), HOOKY_TOKEN=TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr

    bad = write_config(tmp_path, "https://api.hooky.example", ["order.created", "order.shipped"])
    result = installed.run("-m", "webhookctl", "validate", "-c", str(bad), HOOKY_TOKEN=TOKEN)
    assert result.returncode != 0
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "order.shipped" in text)
    assert f"webhookctl.yaml:{line}:" in result.stdout + result.stderr
    assert "destinations[0].topics[1]" in result.stdout + result.stderr

    missing = write_config(tmp_path, "https://api.hooky.example", [])
    document = yaml.safe_load(missing.read_text())
    del document["destinations"][0]["topics"]
    missing.write_text(yaml.safe_dump(document, sort_keys=False))
    result = installed.run("-m", "webhookctl", "validate", "-c", str(missing), HOOKY_TOKEN=TOKEN)
    assert result.returncode != 0
    assert "missing required key 'topics'" in result.stdout + result.stderr


def test_plan_and_apply_against_its_emulator(installed: Installed, hooky: tuple[str, Any], tmp_path: Path) -> None:
    url, emulator = hooky
    config = str(write_config(tmp_path, url, ["order.created", "order.paid"]))
    plan = installed.run("-m", "webhookctl", "plan", "--detailed-exitcode", "-c", config, HOOKY_TOKEN=TOKEN)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "shop/orders" in plan.stdout

    applied = installed.run("-m", "webhookctl", "apply", "--auto-approve", "-c", config, HOOKY_TOKEN=TOKEN)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    [hook] = emulator.hooks.values()
    assert (hook["url"], sorted(hook["topics"])) == ("https://orders.example.com/hook", ["order.created", "order.paid"])
    record = (tmp_path / "secrets" / "webhooks" / "shop" / "orders.json").read_text()
    assert hook["secret"] in record
    assert hook["secret"] not in applied.stdout + applied.stderr

    again = installed.run("-m", "webhookctl", "plan", "--detailed-exitcode", "-c", config, HOOKY_TOKEN=TOKEN)
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_plugins_own_conformance_tests_pass(installed: Installed) -> None:
    # From its tests directory, so the package comes from the installed copy, not the sources.
    result = installed.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", ".",
                           cwd=installed.source / "tests")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "10 passed" in result.stdout


def test_adding_the_plugin_touched_no_core_file() -> None:
    mentions = [str(path.relative_to(REPO)) for path in (REPO / "webhookctl").rglob("*")
                if path.is_file() and path.suffix != ".pyc" and "hooky" in path.read_text(errors="replace").lower()]
    assert mentions == []
