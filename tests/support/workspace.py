"""A user's working directory: a config file, the CLI, and the file backend it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from webhookctl.cli import cli

TYPE = "conversation-post-processing-complete"


@dataclass
class Org:
    url: str
    org: str
    user_id: str
    api_key_id: str
    api_key: str

    def provider(self, env_name: str, unmanaged: str) -> dict[str, Any]:
        return {"type": "amigo", "base_url": self.url, "organization": self.org,
                "auth": {"api_key": "${" + env_name + "}", "api_key_id": self.api_key_id, "user_id": self.user_id},
                "unmanaged": unmanaged}

    @property
    def credential(self) -> str:
        return self.api_key


@dataclass
class Team:
    """An Amiqus team reached with one token, through API v1 or v2."""

    url: str
    token: str
    api_version: str = "v2"

    def provider(self, env_name: str, unmanaged: str) -> dict[str, Any]:
        base = self.url + ("/api/v2" if self.api_version == "v2" else "/api")
        return {"type": "amiqus", "base_url": base, "api_version": self.api_version,
                "auth": {"token": "${" + env_name + "}"}, "unmanaged": unmanaged}

    @property
    def credential(self) -> str:
        return self.token


@dataclass
class Workspace:
    root: Path
    orgs: dict[str, Org | Team]  # provider name -> account
    destinations: list[dict[str, Any]] = field(default_factory=list)
    unmanaged: str = "report"
    settings: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    secrets: dict[str, Any] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.root / "webhookctl.yaml"

    def write(self) -> None:
        providers = {name: account.provider(_env_name(name), self.unmanaged) for name, account in self.orgs.items()}
        document: dict[str, Any] = {"version": 1, "providers": providers, "destinations": self.destinations,
                                    "secrets": self.secrets or {"backend": "file",
                                                                "directory": str(self.root / "secrets")},
                                    "settings": {"state_dir": str(self.root / "state"), **self.settings}}
        if self.defaults:
            document["defaults"] = self.defaults
        self.config_path.write_text(yaml.safe_dump(document, sort_keys=False))

    def env(self) -> dict[str, str]:
        return {**self.extra_env, **{_env_name(name): account.credential for name, account in self.orgs.items()}}

    def add(self, name: str, url: str, provider: str | None = None, **fields: Any) -> None:
        provider = provider or next(iter(self.orgs))
        if isinstance(self.orgs[provider], Team):
            fields.setdefault("events", ["*"])
        else:
            fields.setdefault("accepted_types", [TYPE])
        self.destinations.append({"name": name, "provider": provider, "url": url, **fields})

    def remove(self, name: str) -> None:
        self.destinations = [d for d in self.destinations if d["name"] != name]

    def set(self, name: str, **fields: Any) -> None:
        for destination in self.destinations:
            if destination["name"] == name:
                destination.update(fields)

    def run(self, *args: str, input: str | None = None) -> Result:
        self.write()
        result = CliRunner().invoke(cli, [*args, "-c", str(self.config_path)], env=self.env(), input=input,
                                    catch_exceptions=False)
        self.outputs += [result.stdout, result.stderr]
        return result

    def run_process(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The CLI as a separate process (for crash tests: it may be SIGKILLed)."""
        self.write()
        env = {**os.environ, **self.env(), **(extra_env or {})}
        process = subprocess.run([sys.executable, "-m", "webhookctl", *args, "-c", str(self.config_path)],
                                 capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
        self.outputs += [process.stdout, process.stderr]
        return process

    def record(self, name: str, provider: str | None = None) -> dict[str, Any] | None:
        path = self.root / "secrets" / "webhooks" / (provider or next(iter(self.orgs))) / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def written_text(self) -> str:
        """Everything the runs printed plus every file they wrote, except where secrets belong.

        Excluded: the backends' storage (secrets/, store/, repo/) and the state directory's journal and
        embedded emulator. Included: plan files, lock files, configuration, anything else.
        """
        texts = list(self.outputs)
        for path in self.root.rglob("*"):
            top = path.relative_to(self.root).parts[0]
            if path.is_file() and top not in ("secrets", "store", "repo") \
                    and "emulator" not in path.parts and "journal" not in path.parts:
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)


def _env_name(provider: str) -> str:
    return "KEY_" + provider.upper().replace("-", "_")
