"""Keep one pull-request comment and one drift issue up to date.

Both are found again by a hidden marker (and the issue by its label), then
updated in place, so a pull request carries one plan comment however often it
is pushed, and the nightly drift job one open issue however often it fails.
"""

from __future__ import annotations

from context import stamp
from ghapi import GitHub
from runner import marker


def comment_body(kind: str, key: str, markdown: str) -> str:
    return f"{marker(kind, key)}\n{markdown.strip()}\n\n<sub>webhookctl {kind} at {stamp()}</sub>\n"


def upsert_comment(github: GitHub, number: int, body: str, tag: str) -> str:
    """Update the comment holding `tag`, or create one. Returns "updated" or "created"."""
    comments = github.paginate(f"/issues/{number}/comments")
    previous = next((c for c in comments if tag in (c.get("body") or "")), None)
    if previous is not None:
        github.request("PATCH", f"/issues/comments/{previous['id']}", {"body": body})
        return "updated"
    github.request("POST", f"/issues/{number}/comments", {"body": body})
    return "created"


def upsert_issue(github: GitHub, title: str, label: str, body: str, tag: str) -> tuple[str, int]:
    """Update the open issue with `label` and `tag`, or open one. Returns ("updated"|"created", number)."""
    issues = github.paginate("/issues", {"state": "open", "labels": label})
    previous = next((i for i in issues if tag in (i.get("body") or "") and "pull_request" not in i), None)
    if previous is not None:
        github.request("PATCH", f"/issues/{previous['number']}", {"body": body, "title": title})
        return "updated", int(previous["number"])
    created = github.request("POST", "/issues", {"title": title, "body": body, "labels": [label]})
    return "created", int(created["number"])


def close_issue(github: GitHub, label: str, tag: str, note: str) -> int | None:
    """Close the open drift issue (with a note) once drift is gone; None when there is none."""
    issues = github.paginate("/issues", {"state": "open", "labels": label})
    previous = next((i for i in issues if tag in (i.get("body") or "") and "pull_request" not in i), None)
    if previous is None:
        return None
    github.request("POST", f"/issues/{previous['number']}/comments", {"body": note})
    github.request("PATCH", f"/issues/{previous['number']}", {"state": "closed", "state_reason": "completed"})
    return int(previous["number"])
