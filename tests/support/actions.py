"""Run a GitHub Actions job locally, in order, as the runner would.

`run:` steps run in bash with the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
GITHUB_EVENT_PATH, one output and one summary file per step, as on GitHub). `if:`
conditions and `${{ … }}` are evaluated (tests/support/expressions.py). `uses:` steps:

- composite actions named in `actions` (e.g. `webhookctl/webhookctl` -> this checkout)
  run their own steps, with `inputs`, `github.action_path` and their `outputs`;
- `actions/upload-artifact` and `actions/download-artifact` copy files to and from
  `<artifacts>/<run id>/<name>/` (download honours `run-id`, `pattern`, `merge-multiple`);
- `actions/checkout` and `actions/setup-python` do nothing: the work directory is the
  checkout and this interpreter's environment has webhookctl.

A job with `strategy.matrix` runs once per combination (`run_matrix`, one after the
other, as `max-parallel: 1` would); `needs_result` is what `needs.<job>.result` of a
later job then says (any failed combination makes the whole job "failure").

Steps named in `skip` are reported "skipped" (the action's install step: webhookctl is
already installed here; the slow wheel test covers installing it). `${{ secrets.X }}`
come from `secrets`; `overrides` stand in for the repository's own settings.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml

from tests.support.expressions import evaluate, interpolate, render, truthy

RUN_IDS = itertools.count(1000)
TOKEN = "ghs_test-token"  # what ${{ github.token }} is here; the fake GitHub API expects it


@dataclass
class StepResult:
    name: str
    status: str  # "success", "failure", "skipped"
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    inner: list[StepResult] = field(default_factory=list)


@dataclass
class JobResult:
    run_id: int = 0
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""
    outputs: str = ""                 # every step's GITHUB_OUTPUT, concatenated
    job_outputs: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return all(step.status != "failure" for step in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    def log(self) -> str:
        return "\n".join(s.output + "".join(i.output for i in s.inner) for s in self.steps)


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT's `name=value` lines and `name<<DELIM … DELIM` blocks."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            values[name] = "\n".join(lines[index + 1:end])
            index = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        index += 1
    return values


@dataclass
class _Run:
    """One job's run: where things go and what the expressions can see."""

    workdir: Path
    runner: Path
    env: dict[str, str]
    contexts: dict[str, Any]
    artifacts: Path
    run_id: int
    actions: dict[str, Path]
    skip: set[str]
    counter: itertools.count[int] = field(default_factory=itertools.count)
    summaries: list[str] = field(default_factory=list)
    outputs_text: list[str] = field(default_factory=list)

    def files(self) -> tuple[Path, Path]:
        number = next(self.counter)
        output, summary = self.runner / f"output-{number}.txt", self.runner / f"summary-{number}.md"
        output.write_text("")
        summary.write_text("")
        return output, summary


def _status_functions(steps: list[StepResult]) -> dict[str, Any]:
    failed = lambda: any(s.status == "failure" for s in steps)  # noqa: E731
    return {"always": lambda: True, "success": lambda: not failed(), "failure": failed, "cancelled": lambda: False}


def _should_run(step: dict[str, Any], done: list[StepResult], contexts: dict[str, Any]) -> bool:
    condition = step.get("if")
    status = _status_functions(done)
    if condition is None:
        return status["success"]()
    text = str(condition)
    # As on GitHub: without a status function, success() is implied.
    if not re.search(r"\b(always|success|failure|cancelled)\(", text) and not status["success"]():
        return False
    return truthy(evaluate(text, contexts, status))


def _run_script(run: _Run, script: str, env: dict[str, str]) -> tuple[str, str, dict[str, str], str]:
    output, summary = run.files()
    path = run.runner / f"step-{next(run.counter)}.sh"
    path.write_text(script)
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=run.workdir,
                          env={**env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    run.summaries.append(summary.read_text())
    run.outputs_text.append(output.read_text())
    status = "success" if done.returncode == 0 else "failure"
    return status, done.stdout + done.stderr, parse_outputs(output.read_text()), summary.read_text()


def _resolve_env(values: dict[str, Any] | None, contexts: dict[str, Any]) -> dict[str, str]:
    return {key: interpolate(value, contexts) for key, value in (values or {}).items()}


def _artifact_upload(run: _Run, inputs: dict[str, str]) -> StepResult:
    target = run.artifacts / str(run.run_id) / inputs["name"]
    if target.exists() and inputs.get("overwrite") != "true":
        return StepResult("upload-artifact", "failure", f"artifact {inputs['name']} exists")
    target.mkdir(parents=True, exist_ok=True)
    found = [p for line in inputs["path"].splitlines() if line.strip()
             for p in sorted(run.workdir.glob(line.strip()))]
    if not found and inputs.get("if-no-files-found", "warn") == "error":
        return StepResult("upload-artifact", "failure", f"no files match {inputs['path']!r}")
    for path in found:
        shutil.copy2(path, target / path.name)
    return StepResult("upload-artifact", "success", f"uploaded {[p.name for p in found]} as {inputs['name']}")


def _artifact_download(run: _Run, inputs: dict[str, str]) -> StepResult:
    run_id = inputs.get("run-id") or str(run.run_id)
    if inputs.get("run-id") and inputs.get("github-token") != TOKEN:
        return StepResult("download-artifact", "failure", "a run-id needs a github-token that may read actions")
    stored = run.artifacts / run_id
    names = [inputs["name"]] if inputs.get("name") else \
        sorted(p.name for p in stored.glob("*") if fnmatch(p.name, inputs.get("pattern", "*")))
    destination = run.workdir / inputs.get("path", ".")
    fetched = []
    for name in names:
        if not (stored / name).is_dir():
            return StepResult("download-artifact", "failure", f"Artifact not found: {name} in run {run_id}")
        into = destination if inputs.get("name") or inputs.get("merge-multiple") == "true" else destination / name
        into.mkdir(parents=True, exist_ok=True)
        for path in sorted((stored / name).iterdir()):
            shutil.copy2(path, into / path.name)
            fetched.append(path.name)
    return StepResult("download-artifact", "success", f"downloaded {fetched} from run {run_id}")


def _composite(run: _Run, directory: Path, inputs: dict[str, str], env: dict[str, str],
               name: str) -> StepResult:
    spec = yaml.safe_load((directory / "action.yml").read_text())
    given = {key: value for key, value in inputs.items()}
    github = {**run.contexts["github"], "action_path": str(directory)}
    defaults = {key: interpolate(value.get("default", ""), {**run.contexts, "github": github})
                for key, value in spec.get("inputs", {}).items()}
    unknown = set(given) - set(defaults)
    assert not unknown, f"{name}: inputs not declared by {directory / 'action.yml'}: {unknown}"
    steps: list[StepResult] = []
    contexts = {**run.contexts, "github": github, "inputs": {**defaults, **given}, "steps": {}}
    for index, step in enumerate(spec["runs"]["steps"]):
        step_name = step.get("name") or f"step {index}"
        if step_name in run.skip or not _should_run(step, steps, contexts):
            steps.append(StepResult(step_name, "skipped"))
            continue
        step_env = {**env, **_resolve_env(step.get("env"), contexts), "GITHUB_ACTION_PATH": str(directory)}
        status, output, outputs, _ = _run_script(run, interpolate(step["run"], contexts), step_env)
        steps.append(StepResult(step_name, status, output, outputs))
        if "id" in step:
            contexts["steps"][step["id"]] = {"outputs": outputs, "outcome": status, "conclusion": status}
    outputs = {key: interpolate(value["value"], contexts) for key, value in spec.get("outputs", {}).items()}
    failed = any(s.status == "failure" for s in steps)
    return StepResult(name, "failure" if failed else "success", "", outputs, steps)


def _uses(run: _Run, uses: str, inputs: dict[str, str], env: dict[str, str], name: str) -> StepResult:
    action = uses.split("@", 1)[0]
    if action in ("actions/checkout", "actions/setup-python"):
        return StepResult(name, "success", "(nothing to do here)")
    if action == "actions/upload-artifact":
        result = _artifact_upload(run, inputs)
        return StepResult(name, result.status, result.output)
    if action == "actions/download-artifact":
        result = _artifact_download(run, inputs)
        return StepResult(name, result.status, result.output)
    if action.startswith("./"):
        return _composite(run, run.workdir / action, inputs, env, name)
    owner_repo = "/".join(action.split("/")[:2])
    if owner_repo in run.actions:
        subpath = action[len(owner_repo):].lstrip("/")
        return _composite(run, run.actions[owner_repo] / subpath, inputs, env, name)
    raise AssertionError(f"the local runner cannot run uses: {uses}")


def run_job(workflow: Path, job: str, workdir: Path, secrets: dict[str, str], overrides: dict[str, str],
            event: dict[str, Any], event_name: str, *, sha: str = "0" * 40, ref: str = "refs/heads/main",
            needs: dict[str, dict[str, Any]] | None = None, matrix: dict[str, Any] | None = None,
            artifacts: Path | None = None, actions: dict[str, Path] | None = None,
            skip: set[str] | frozenset[str] = frozenset({"Install webhookctl"}),
            extra_env: dict[str, str] | None = None, run_id: int | None = None) -> JobResult:
    """Run one job; `run_id` joins it to an earlier job's workflow run (its artifacts, its id)."""
    document = yaml.safe_load(workflow.read_text())
    spec = document["jobs"][job]
    runner = workdir.parent / f".runner-{workdir.name}"
    runner.mkdir(exist_ok=True)
    event_path = runner / "event.json"
    event_path.write_text(json.dumps(event))
    run_id = next(RUN_IDS) if run_id is None else run_id
    base = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workdir),
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path), "RUNNER_TEMP": str(runner),
        "GITHUB_SHA": sha, "GITHUB_REF": ref, "GITHUB_RUN_ID": str(run_id), "GITHUB_REPOSITORY": "acme/webhooks",
        "GITHUB_SERVER_URL": "https://github.example", **(extra_env or {}),
    }
    if "PYTHONPATH" in os.environ:  # the webhookctl under test, where the test run names it
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    github = {"event_name": event_name, "event": event, "sha": sha, "ref": ref, "run_id": str(run_id),
              "token": TOKEN, "repository": "acme/webhooks", "workspace": str(workdir)}
    contexts: dict[str, Any] = {"github": github, "secrets": {**secrets, "GITHUB_TOKEN": TOKEN},
                                "matrix": matrix or {}, "needs": needs or {}, "runner": {"temp": str(runner)},
                                "steps": {}, "env": {}}
    if "if" in spec and not truthy(evaluate(str(spec["if"]), contexts, _status_functions([]))):
        return JobResult(run_id, [StepResult("(job)", "skipped")])
    env = {**base, **_resolve_env(document.get("env"), contexts)}
    contexts["env"] = env
    env.update(_resolve_env(spec.get("env"), contexts))
    env.update(overrides)
    contexts["env"] = env
    run = _Run(workdir, runner, env, contexts, artifacts or workdir.parent / "artifacts", run_id,
               actions or {}, set(skip))
    result = JobResult(run_id)
    for index, step in enumerate(spec["steps"]):
        name = step.get("name") or step.get("uses") or f"step {index}"
        if not _should_run(step, result.steps, contexts):
            result.steps.append(StepResult(name, "skipped"))
            continue
        step_env = {**env, **_resolve_env(step.get("env"), contexts)}
        if "uses" in step:
            inputs = {key: interpolate(value, contexts) for key, value in (step.get("with") or {}).items()}
            done = _uses(run, step["uses"], inputs, step_env, name)
        else:
            status, output, outputs, _ = _run_script(run, interpolate(step["run"], contexts), step_env)
            done = StepResult(name, status, output, outputs)
        result.steps.append(done)
        if "id" in step:
            contexts["steps"][step["id"]] = {"outputs": done.outputs, "outcome": done.status,
                                             "conclusion": done.status}
    result.summary = "".join(run.summaries)
    result.outputs = "".join(run.outputs_text)
    result.job_outputs = {key: render(interpolate(value, contexts)) for key, value in (spec.get("outputs") or {}).items()}
    return result


def matrix_of(workflow: Path, job: str) -> list[dict[str, Any]]:
    """Every combination of the job's `strategy.matrix` (lists of values, `include`, `exclude`)."""
    spec = yaml.safe_load(workflow.read_text())["jobs"][job]
    matrix = dict((spec.get("strategy") or {}).get("matrix") or {})
    include, exclude = matrix.pop("include", []), matrix.pop("exclude", [])
    keys = list(matrix)
    combinations = [dict(zip(keys, values, strict=True)) for values in itertools.product(*matrix.values())] \
        if keys else []
    combinations = [c for c in combinations
                    if not any(all(c.get(k) == v for k, v in out.items()) for out in exclude)]
    return combinations + list(include)


def run_matrix(workflow: Path, job: str, workdir: Path, secrets: dict[str, str], overrides: dict[str, str],
               event: dict[str, Any], event_name: str, *, fresh: Callable[[], None] | None = None,
               **options: Any) -> list[tuple[dict[str, Any], JobResult]]:
    """Run every combination of the job's matrix, in order, each with its own `matrix` context.

    `fresh` is called before each combination: each runs on a machine of its own.
    """
    combinations = matrix_of(workflow, job)
    assert combinations, f"{job} in {workflow.name} has no strategy.matrix"
    # One workflow run: every combination shares its run id (and so its artifacts).
    options.setdefault("run_id", next(RUN_IDS))
    results = []
    for combination in combinations:
        if fresh is not None:
            fresh()
        results.append((combination, run_job(workflow, job, workdir, secrets, overrides, event, event_name,
                                             matrix=combination, **options)))
    return results


def needs_result(results: list[JobResult]) -> str:
    """`needs.<job>.result` for a job (or every job of a matrix): success, failure or skipped."""
    if any(not r.succeeded for r in results):
        return "failure"
    if results and all(all(s.status == "skipped" for s in r.steps) for r in results):
        return "skipped"
    return "success"
