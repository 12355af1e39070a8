"""What the action knows about the run: inputs, the event, the commit, the time."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).exists():
        return {}
    loaded: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return loaded


def pull_request_number() -> int | None:
    pull = event().get("pull_request") or {}
    number = pull.get("number")
    return int(number) if number else None


def commit() -> str:
    """The commit the run is about: a pull request's head, else GITHUB_SHA."""
    head = ((event().get("pull_request") or {}).get("head") or {}).get("sha")
    return str(head or os.environ.get("GITHUB_SHA", "unknown"))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_url() -> str | None:
    server, repository, run_id = (os.environ.get(name) for name in
                                  ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repository and run_id:
        return f"{server}/{repository}/actions/runs/{run_id}"
    return None


def stamp() -> str:
    """`at abc1234 on 2026-01-02 03:04 UTC (run)`: which commit and when, for comments and issues."""
    url = run_url()
    run = f" ([run]({url}))" if url else ""
    return f"`{commit()[:12]}` on {now()}{run}"


def set_output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            if "\n" in value:
                handle.write(f"{name}<<WEBHOOKCTL_EOF\n{value}\nWEBHOOKCTL_EOF\n")
            else:
                handle.write(f"{name}={value}\n")
