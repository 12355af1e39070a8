"""A minimal GitHub REST client over urllib (the action installs nothing for itself).

`GITHUB_API_URL`, `GITHUB_REPOSITORY` and a token come from the runner; the token is
sent in a header only and never printed.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class GitHubError(Exception):
    pass


class GitHub:
    def __init__(self, api_url: str, repository: str, token: str) -> None:
        if not token:
            raise GitHubError("no GitHub token: set the action's github-token input")
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self._token = token

    @classmethod
    def from_env(cls, token: str | None = None) -> GitHub:
        return cls(os.environ.get("GITHUB_API_URL", "https://api.github.com"),
                   os.environ["GITHUB_REPOSITORY"], token if token is not None else os.environ.get("GITHUB_TOKEN", ""))

    def request(self, method: str, path: str, body: dict[str, Any] | None = None,
                query: dict[str, str] | None = None) -> Any:
        url = f"{self.api_url}/repos/{self.repository}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self._token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json",
            "User-Agent": "webhookctl-action"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            # The status and GitHub's message only: the request (and its token) stay out of it.
            detail = error.read().decode(errors="replace")[:300]
            raise GitHubError(f"GitHub API {method} {path}: {error.code} {detail}") from None
        except urllib.error.URLError as error:
            raise GitHubError(f"GitHub API {method} {path}: {error.reason}") from None
        return json.loads(text) if text else None

    def paginate(self, path: str, query: dict[str, str] | None = None, key: str | None = None) -> list[Any]:
        """Every item of a listing, 100 per page, until a short page."""
        items: list[Any] = []
        page = 1
        while True:
            answer = self.request("GET", path, query={**(query or {}), "per_page": "100", "page": str(page)})
            batch = answer[key] if key else answer
            items.extend(batch)
            if len(batch) < 100:
                return items
            page += 1
