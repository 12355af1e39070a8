"""The steps of the webhookctl GitHub Action: `python kit.py STEP` (see action.yml).

    run            run webhookctl (validate, plan, show, apply, drift) or merge shard reports
    comment        keep the pull request's plan comment in place
    issue          upsert (or close) the drift issue
    verdict        fail the step by the exit-code contract
    reviewed-plan  find the reviewed plan's run and artifact for a merge commit
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import publish
import reviewed
import runner
from context import pull_request_number, set_output, stamp
from ghapi import GitHub, GitHubError


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def comment() -> int:
    number = pull_request_number()
    if number is None:
        print("webhookctl action: not a pull request; no comment")
        return 0
    body = Path(_env("INPUT_BODY")).read_text(encoding="utf-8")
    text = publish.comment_body("plan", _env("INPUT_KEY"), body)
    done = publish.upsert_comment(GitHub.from_env(_env("INPUT_GITHUB_TOKEN")), number, text,
                                  runner.marker("plan", _env("INPUT_KEY")))
    print(f"webhookctl action: {done} the plan comment on #{number}")
    return 0


def issue() -> int:
    github = GitHub.from_env(_env("INPUT_GITHUB_TOKEN"))
    key, label = _env("INPUT_KEY"), _env("INPUT_ISSUE_LABEL", "webhookctl-drift")
    tag = runner.marker("drift", key)
    if _env("INPUT_EXITCODE") == "0":
        if _env("INPUT_CLOSE_ISSUE", "true") == "true":
            closed = publish.close_issue(github, label, tag, f"No drift at {stamp()}; closing.")
            print(f"webhookctl action: closed drift issue #{closed}" if closed else "webhookctl action: no drift")
        return 0
    body = Path(_env("INPUT_BODY")).read_text(encoding="utf-8")
    title = _env("INPUT_ISSUE_TITLE", "webhookctl: drift detected")
    done, number = publish.upsert_issue(github, title, label, publish.comment_body("drift", key, body), tag)
    set_output("issue", str(number))
    print(f"webhookctl action: {done} drift issue #{number}")
    return 0


def verdict() -> int:
    command, code = _env("INPUT_COMMAND"), _env("INPUT_EXITCODE", "1")
    if code == "0" or (code == "2" and command in ("plan", "show")):
        return 0
    if code == "2" and command in ("drift", "drift-report") and _env("INPUT_FAIL_ON_FINDINGS", "true") != "true":
        return 0
    what = "found drift" if code == "2" else "failed"
    print(f"::error title=webhookctl {command}::webhookctl {command} {what} (exit {code}); see the log and the job summary")
    return 1


def reviewed_plan() -> int:
    try:
        found = reviewed.find(GitHub.from_env(_env("INPUT_GITHUB_TOKEN")), _env("GITHUB_SHA"),
                              _env("INPUT_WORKFLOW", "webhookctl-plan.yml"),
                              _env("INPUT_ARTIFACT_PREFIX", "webhookctl-plan-"))
    except (reviewed.NoReviewedPlan, GitHubError) as error:
        print(f"::error title=No reviewed plan::{error}")
        return 1
    for name, value in (("pull-request", found.pull_request), ("head-sha", found.head_sha),
                        ("run-id", found.run_id), ("artifact", found.artifact)):
        set_output(name, str(value))
    print(f"webhookctl action: applying the plan reviewed on #{found.pull_request} at {found.head_sha[:12]} "
          f"(run {found.run_id}, artifact {found.artifact})")
    return 0


STEPS = {"run": runner.main, "comment": comment, "issue": issue, "verdict": verdict, "reviewed-plan": reviewed_plan}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in STEPS:
        sys.exit(f"usage: kit.py {{{','.join(STEPS)}}}")
    try:
        sys.exit(STEPS[sys.argv[1]]())
    except GitHubError as error:
        print(f"::error title=webhookctl action::{error}")
        sys.exit(1)
