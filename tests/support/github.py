"""A stand-in for the parts of GitHub's REST API the action uses, over real HTTP on 127.0.0.1.

Issues and their comments, a merge commit's pull requests, git commits (their trees) and
workflow runs, kept in memory. Requests must carry the runner's token
(tests/support/actions.py TOKEN), as GitHub would require.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.actions import TOKEN

PREFIX = "/repos/acme/webhooks"


@dataclass
class FakeGitHub:
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    trees: dict[str, str] = field(default_factory=dict)          # commit sha -> tree sha
    runs: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def merge(self, number: int, head: str, merge_commit: str, tree: str, merge_tree: str | None = None) -> None:
        self.pulls.append({"number": number, "head": {"sha": head}, "merge_commit_sha": merge_commit,
                           "merged_at": "2026-01-01T00:00:00Z"})
        self.trees[head], self.trees[merge_commit] = tree, merge_tree or tree

    def plan_run(self, run_id: int, head: str, workflow: str = "webhookctl-plan.yml") -> None:
        self.runs.append({"id": run_id, "head_sha": head, "workflow": workflow, "status": "success",
                          "event": "pull_request", "created_at": f"2026-01-01T00:00:{len(self.runs):02d}Z"})

    def comments_on(self, number: int) -> list[str]:
        return [c["body"] for c in self.comments.values() if c["issue"] == number]

    # -- the API --------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        self.requests.append(f"{method} {path}")
        page = int(query.get("page", "1"))
        if method == "GET" and page > 1:
            return 200, []
        if m := re.fullmatch(r"/issues/(\d+)/comments", path):
            number = int(m.group(1))
            if method == "GET":
                return 200, [{"id": cid, "body": c["body"]} for cid, c in self.comments.items() if c["issue"] == number]
            cid = len(self.comments) + 1
            self.comments[cid] = {"issue": number, "body": body["body"]}
            return 201, {"id": cid}
        if m := re.fullmatch(r"/issues/comments/(\d+)", path):
            self.comments[int(m.group(1))]["body"] = body["body"]
            return 200, {}
        if path == "/issues" and method == "GET":
            label = query.get("labels", "")
            return 200, [{"number": n, **i} for n, i in self.issues.items()
                         if i["state"] == query.get("state", "open") and label in i["labels"]]
        if path == "/issues":
            number = 100 + len(self.issues)
            self.issues[number] = {"title": body["title"], "body": body["body"], "labels": body["labels"],
                                   "state": "open"}
            return 201, {"number": number}
        if m := re.fullmatch(r"/issues/(\d+)", path):
            self.issues[int(m.group(1))].update({k: v for k, v in body.items() if k != "state_reason"})
            return 200, {}
        if m := re.fullmatch(r"/commits/(\w+)/pulls", path):
            return 200, [p for p in self.pulls if p["merge_commit_sha"] == m.group(1)]
        if m := re.fullmatch(r"/git/commits/(\w+)", path):
            tree = self.trees.get(m.group(1))
            return (200, {"sha": m.group(1), "tree": {"sha": tree}}) if tree else (404, {"message": "Not Found"})
        if m := re.fullmatch(r"/actions/workflows/([\w.-]+)/runs", path):
            return 200, {"workflow_runs": [r for r in self.runs if r["workflow"] == m.group(1)
                                           and r["head_sha"] == query.get("head_sha")
                                           and r["status"] == query.get("status", r["status"])]}
        return 404, {"message": "Not Found"}


@contextmanager
def serve_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            split = urlsplit(self.path)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, answer = 401, {"message": "Bad credentials"}
            elif not split.path.startswith(PREFIX):
                status, answer = 404, {"message": "Not Found"}
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                query = {k: v[0] for k, v in parse_qs(split.query).items()}
                status, answer = fake.handle(self.command, split.path[len(PREFIX):], query, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
