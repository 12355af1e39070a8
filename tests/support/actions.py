"""Run a GitHub Actions job's shell steps locally, in order, as the runner would.

`uses:` steps (checkout, setup-python, upload-artifact, github-script) and steps with
an `if:` are skipped and reported; so is the install step (webhookctl is already
installed here). `${{ secrets.X }}` in `env:` maps come from `secrets`; `overrides`
stand in for the repository's own settings (the addresses of the test's servers).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}")


@dataclass
class StepResult:
    name: str
    status: str  # "success", "failure", "skipped"
    output: str = ""


@dataclass
class JobResult:
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""
    outputs: str = ""

    @property
    def succeeded(self) -> bool:
        return all(step.status != "failure" for step in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)


def _resolve(values: dict[str, Any], secrets: dict[str, str]) -> dict[str, str]:
    resolved = {}
    for key, value in (values or {}).items():
        text = str(value)
        if "${{" in text:
            text = EXPRESSION.sub(lambda m: secrets.get(m.group(1), ""), text)
            assert "${{" not in text, f"unsupported expression in env {key}: {value}"
        resolved[key] = text
    return resolved


def run_job(workflow: Path, job: str, workdir: Path, secrets: dict[str, str], overrides: dict[str, str],
            event: dict[str, Any], event_name: str) -> JobResult:
    document = yaml.safe_load(workflow.read_text())
    spec = document["jobs"][job]
    runner = workdir / ".runner"
    runner.mkdir(exist_ok=True)
    summary, outputs, event_path = runner / "step_summary.md", runner / "output.txt", runner / "event.json"
    for path in (summary, outputs):
        path.write_text("")
    event_path.write_text(json.dumps(event))
    base = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workdir),
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs), "RUNNER_TEMP": str(runner),
    }
    env = {**base, **_resolve(document.get("env", {}), secrets), **_resolve(spec.get("env", {}), secrets)}
    env.update(overrides)
    result = JobResult()
    for index, step in enumerate(spec["steps"]):
        name = step.get("name") or step.get("uses") or f"step {index}"
        if "uses" in step or "if" in step or step.get("id") == "install" or not result.succeeded:
            result.steps.append(StepResult(name, "skipped"))
            continue
        script = runner / f"step-{index}.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workdir,
                              env={**env, **_resolve(step.get("env", {}), secrets)}, capture_output=True,
                              text=True, timeout=300, stdin=subprocess.DEVNULL)
        result.steps.append(StepResult(name, "success" if done.returncode == 0 else "failure",
                                       done.stdout + done.stderr))
    result.summary = summary.read_text()
    result.outputs = outputs.read_text()
    return result
