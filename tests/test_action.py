"""The action's steps on their own: the verdict by exit code, merged shard reports, expressions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.actions import parse_outputs
from tests.support.expressions import evaluate, interpolate

KIT = Path(__file__).resolve().parents[1] / "action" / "kit.py"


def step(name: str, cwd: Path, **inputs: str) -> tuple[int, dict[str, str], str]:
    output = cwd / "output.txt"
    output.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), "RUNNER_TEMP": str(cwd),
           "GITHUB_STEP_SUMMARY": str(cwd / "summary.md"), "GITHUB_SHA": "ab" * 20,
           **{f"INPUT_{key.upper()}": value for key, value in inputs.items()}}
    done = subprocess.run([sys.executable, str(KIT), name], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    return done.returncode, parse_outputs(output.read_text()), done.stdout + done.stderr


@pytest.mark.parametrize(("command", "code", "fail_on_findings", "fails"), [
    ("plan", "0", "true", False), ("plan", "2", "true", False), ("plan", "1", "true", True),
    ("apply", "0", "true", False), ("apply", "1", "true", True), ("apply", "2", "true", True),
    ("drift", "0", "true", False), ("drift", "2", "true", True), ("drift", "2", "false", False),
    ("drift", "1", "false", True), ("validate", "1", "true", True), ("show", "2", "true", False),
])
def test_verdict_follows_the_exit_code_contract(tmp_path: Path, command: str, code: str, fail_on_findings: str,
                                                fails: bool) -> None:
    rc, _, log = step("verdict", tmp_path, command=command, exitcode=code, fail_on_findings=fail_on_findings)
    assert (rc == 1) is fails, log
    if fails:
        assert log.startswith(f"::error title=webhookctl {command}::")


def test_drift_report_merges_the_shards(tmp_path: Path) -> None:
    for shard, (code, text) in enumerate([("0", "No drift."), ("2", "`config-drift` | acme/x")], start=1):
        (tmp_path / f"drift-{shard}.md").write_text(text)
        (tmp_path / f"drift-{shard}.exitcode").write_text(code)
    rc, outputs, log = step("run", tmp_path, command="drift-report", report="drift-*.md")
    assert rc == 0, log
    assert outputs["exitcode"] == "2" and outputs["findings"] == "true"
    body = Path(outputs["body"]).read_text()
    assert body.index("No drift.") < body.index("`config-drift` | acme/x")
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("### webhookctl drift-report: findings") and f"`{'ab' * 6}`" in summary
    # A shard that left no exit code failed: the whole report is an error.
    (tmp_path / "drift-3.md").write_text("")
    _, outputs, _ = step("run", tmp_path, command="drift-report", report="drift-*.md")
    assert outputs["exitcode"] == "1"


def test_drift_report_counts_a_shard_without_a_report_as_failed(tmp_path: Path) -> None:
    """Shard 2 timed out before uploading anything: the others' "no drift" must not close the issue."""
    for shard in (1, 3):
        (tmp_path / f"drift-{shard}.md").write_text("No drift.")
        (tmp_path / f"drift-{shard}.exitcode").write_text("0")
    _, outputs, _ = step("run", tmp_path, command="drift-report", report="drift-*.md")
    assert outputs["exitcode"] == "0"  # without the count, what exists is all there is
    _, outputs, _ = step("run", tmp_path, command="drift-report", report="drift-*.md", shards="3")
    assert outputs["exitcode"] == "1"
    assert "shard 2 of 3 left no report" in Path(outputs["body"]).read_text()


def test_apply_without_a_saved_plan_applies_nothing(tmp_path: Path) -> None:
    rc, outputs, log = step("run", tmp_path, command="apply", plan_file="plan.json")
    assert rc == 0 and outputs["exitcode"] == "1"
    assert "no saved plan at plan.json" in log and "webhookctl apply" not in log.split("error:")[0]


def test_an_unknown_command_is_refused(tmp_path: Path) -> None:
    rc, _, log = step("run", tmp_path, command="destroy")
    assert rc == 1 and "command must be one of" in log


def test_expressions() -> None:
    contexts = {"steps": {"run": {"outputs": {"exitcode": "2", "plan-json": "/p.json"}}},
                "github": {"event_name": "push", "run_id": "7"}, "inputs": {"comment": "true"}}
    assert evaluate("steps.run.outputs.exitcode != '1' && inputs.comment == 'TRUE'", contexts) is True
    assert evaluate("steps.nope.outputs.run-id || github.run_id", contexts) == "7"
    assert evaluate("format('plan-run-{0}', github.run_id)", contexts) == "plan-run-7"
    assert evaluate("!(github.event_name == 'push')", contexts) is False
    assert interpolate("x ${{ steps.run.outputs.plan-json }} y", contexts) == "x /p.json y"
    assert evaluate("failure()", contexts, {"failure": lambda: True}) is True
