"""Run one webhookctl command for the action and record what it did.

Exit codes are webhookctl's contract: 0 success / no changes, 1 error (usage errors
included), 2 changes (plan) or findings (drift). This step always succeeds itself
and leaves the verdict to `verdict`, so that the comment and issue steps run after
a failed plan too.

webhookctl writes its own markdown to $GITHUB_STEP_SUMMARY; here it writes to a
scratch file instead, and the action writes the job summary once, with a heading
naming the command, the commit and the time.
"""

from __future__ import annotations

import glob
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from context import set_output, stamp

COMMANDS = ("validate", "plan", "show", "apply", "drift", "drift-report")
MARKER = "<!-- webhookctl-action:{kind}{key} -->"


@dataclass
class Inputs:
    command: str
    config: str = ""
    plan_file: str = "plan.json"
    plan_markdown: str = "plan.md"
    report: str = "drift.md"
    args: list[str] = field(default_factory=list)
    key: str = ""
    shards: int = 0  # drift-report: how many shards there are (0: whichever reports exist)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Inputs:
        env = dict(os.environ if environ is None else environ)
        command = env.get("INPUT_COMMAND", "").strip()
        if command not in COMMANDS:
            raise SystemExit(f"webhookctl action: command must be one of {', '.join(COMMANDS)}, not {command!r}")
        return cls(command=command, config=env.get("INPUT_CONFIG", "").strip(),
                   plan_file=env.get("INPUT_PLAN_FILE", "").strip() or "plan.json",
                   plan_markdown=env.get("INPUT_PLAN_MARKDOWN", "").strip() or "plan.md",
                   report=env.get("INPUT_REPORT", "").strip() or "drift.md",
                   args=shlex.split(env.get("INPUT_ARGS", "")), key=env.get("INPUT_KEY", "").strip(),
                   shards=_count(env.get("INPUT_SHARDS", "")))


def _count(text: str) -> int:
    text = text.strip()
    if text and not (text.isascii() and text.isdigit()):
        raise SystemExit(f"webhookctl action: shards must be a number, not {text!r}")
    return int(text or 0)


@dataclass
class Outcome:
    exitcode: int
    markdown: str        # what goes into the comment, the issue and the job summary
    changes: bool = False
    findings: bool = False


def marker(kind: str, key: str = "") -> str:
    return MARKER.format(kind=kind, key=f" {key}" if key else "")


def _config_args(inputs: Inputs) -> list[str]:
    return ["-c", inputs.config] if inputs.config else []


def command_line(inputs: Inputs) -> list[str]:
    """The webhookctl arguments for the inputs (the interpreter running this runs webhookctl too)."""
    if inputs.command == "validate":
        return ["validate", "--format", "github", *_config_args(inputs), *inputs.args]
    if inputs.command == "plan":
        return ["plan", "--format", "markdown", "--detailed-exitcode", "--out", inputs.plan_file,
                *_config_args(inputs), *inputs.args]
    if inputs.command == "show":
        return ["show", *saved_plans(inputs), "--format", "markdown", *inputs.args]
    if inputs.command == "apply":
        # Extra flags with a saved plan are webhookctl's to refuse: the plan is applied as reviewed.
        return ["apply", inputs.plan_file, *_config_args(inputs), *inputs.args]
    return ["drift", "--format", "markdown", *_config_args(inputs), *inputs.args]


def saved_plans(inputs: Inputs) -> list[str]:
    """`plan-file` may be a glob (`plan-*.json`, one per shard), sorted for a stable comment."""
    return sorted(glob.glob(inputs.plan_file)) or [inputs.plan_file]


def _any_changes(paths: list[str]) -> bool:
    for path in paths:
        try:
            if json.loads(Path(path).read_text(encoding="utf-8")).get("changes"):
                return True
        except (OSError, ValueError):
            continue
    return False


def _fenced(text: str, limit: int = 6000) -> str:
    text = text.strip()[-limit:]
    return "```text\n" + text.replace("```", "'''") + "\n```\n"


def merge_reports(inputs: Inputs) -> Outcome:
    """`drift-report`: one report from the shards' `drift-K.md`, each beside its `drift-K.exitcode`.

    Any shard that failed (or left no exit code) makes the whole 1; else any with findings, 2. With
    `shards` N, a shard K whose report is missing (its job failed or timed out before uploading one)
    failed too: the reports that exist cannot say there is no drift.
    """
    paths = sorted(glob.glob(inputs.report))
    if not paths:
        return Outcome(1, f"**webhookctl drift failed**: no shard reports match `{inputs.report}`.")
    codes, parts = [], []
    for shard in range(1, inputs.shards + 1):
        if not Path(inputs.report.replace("*", str(shard), 1)).is_file():
            codes.append(1)
            parts.append(f"**shard {shard} of {inputs.shards} left no report: its drift check did not finish** "
                         "(see that job's log).")
    for path in paths:
        code_file = Path(path).with_suffix(".exitcode")
        text = code_file.read_text().strip() if code_file.exists() else ""
        codes.append(int(text) if text in ("0", "1", "2") else 1)
        parts.append(Path(path).read_text(encoding="utf-8").strip()
                     or f"**{Path(path).stem}: the drift check failed** (see that job's log).")
    code = 1 if 1 in codes else 2 if 2 in codes else 0
    return Outcome(code, "\n\n".join(parts), findings=2 in codes)


def run(inputs: Inputs, scratch: Path) -> Outcome:
    if inputs.command == "drift-report":
        return merge_reports(inputs)
    scratch.mkdir(parents=True, exist_ok=True)
    own_summary = scratch / f"webhookctl-{inputs.command}-summary.md"
    own_summary.write_text("")
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(own_summary)}
    if inputs.command == "apply" and not Path(inputs.plan_file).is_file():
        message = (f"error: no saved plan at {inputs.plan_file}: the apply step applies the plan that was "
                   "reviewed; download it first (see the kit's README), or run the workflow by hand to re-plan")
        print(message, file=sys.stderr)
        return Outcome(1, f"**webhookctl apply failed.**\n\n{_fenced(message)}")
    argv = [sys.executable, "-m", "webhookctl", *command_line(inputs)]
    print("$ webhookctl " + shlex.join(argv[3:]), flush=True)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    # The log shows what webhookctl printed: validate's annotations and every diagnostic.
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    code = done.returncode
    written = own_summary.read_text(encoding="utf-8").strip()
    if inputs.command in ("plan", "show"):
        body = done.stdout if code in (0, 2) else ""
        Path(inputs.plan_markdown).write_text(body, encoding="utf-8")
        changes = code == 2 if inputs.command == "plan" else (code == 0 and _any_changes(saved_plans(inputs)))
        markdown = body.strip() if code in (0, 2) else f"**webhookctl {inputs.command} failed** (exit {code}).\n\n" \
            + _fenced(done.stderr or done.stdout)
        return Outcome(code, markdown, changes=changes)
    if inputs.command == "drift":
        body = done.stdout if code in (0, 2) else ""
        Path(inputs.report).write_text(body, encoding="utf-8")
        markdown = body.strip() if code in (0, 2) else "**webhookctl drift failed** (exit 1).\n\n" \
            + _fenced(done.stderr or done.stdout)
        return Outcome(code, markdown, findings=code == 2)
    if inputs.command == "apply":
        markdown = written or ("**webhookctl apply " + ("succeeded" if code == 0 else f"failed** (exit {code})"))
        if code != 0:
            markdown += "\n\n" + _fenced(done.stderr or done.stdout)
        return Outcome(code, markdown)
    ok = code == 0
    markdown = "The configuration is valid." if ok else "**The configuration is not valid.**\n\n" \
        + _fenced(done.stdout + done.stderr)
    return Outcome(code, markdown)


def write_summary(inputs: Inputs, outcome: Outcome) -> None:
    """The job summary for this step, written once (the runner gives each step its own file)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    status = {0: "ok", 1: "error", 2: "changes" if inputs.command in ("plan", "show") else "findings"}
    verdict = status.get(outcome.exitcode, "error")
    if outcome.exitcode == 0 and outcome.changes:
        verdict = "changes"  # show exits 0 either way; its plans say whether they change anything
    title = f"### webhookctl {inputs.command}{f' ({inputs.key})' if inputs.key else ''}: " \
            f"{verdict}\n\n{stamp()}\n\n"
    Path(path).write_text(title + outcome.markdown.strip() + "\n", encoding="utf-8")


def main(environ: dict[str, str] | None = None) -> int:
    inputs = Inputs.from_env(environ)
    scratch = Path(os.environ.get("RUNNER_TEMP") or ".") / "webhookctl-action"
    scratch.mkdir(parents=True, exist_ok=True)
    outcome = run(inputs, scratch)
    write_summary(inputs, outcome)
    body = scratch / f"{inputs.command}-body.md"
    body.write_text(outcome.markdown.strip() + "\n", encoding="utf-8")
    set_output("exitcode", str(outcome.exitcode))
    set_output("changes", str(outcome.changes).lower())
    set_output("findings", str(outcome.findings).lower())
    set_output("plan-json", str(Path(inputs.plan_file).resolve()) if inputs.command == "plan" else "")
    set_output("plan-markdown", str(Path(inputs.plan_markdown).resolve())
               if inputs.command in ("plan", "show") else "")
    set_output("report", str(Path(inputs.report).resolve()) if inputs.command == "drift" else "")
    if inputs.command == "drift":
        # Beside the report, for a later `drift-report` over the shards' artifacts.
        Path(inputs.report).with_suffix(".exitcode").write_text(f"{outcome.exitcode}\n")
    set_output("body", str(body))
    return 0
