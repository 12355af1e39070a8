"""URL checks for configuration values: a message for what is wrong, never an exception.

`urllib.parse` raises ValueError for some malformed URLs (`https://[::1/x`, a
port out of range); here every such failure is a problem to report.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

# Whitespace and control characters make a string something other than a URI (RFC 3986).
_NOT_URI = re.compile(r"[\x00-\x20\x7f]")


def _split(url: str) -> tuple[SplitResult | None, str | None]:
    if _NOT_URI.search(url):
        return None, "url must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - parsed lazily; raises for a malformed host
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError as error:
        return None, f"url is malformed: {error}"
    return parts, None


def https_problem(url: str) -> str | None:
    """Why `url` is not an https URL with a host, or None."""
    parts, problem = _split(url)
    if parts is None:
        return problem
    if parts.scheme != "https":
        return f"url must use https, not {parts.scheme or 'no scheme'!r}"
    if not parts.hostname:
        return "url has no host"
    return None


def base_url_problem(url: str) -> str | None:
    """Why `url` is not an http(s) API root, or None."""
    parts, problem = _split(url)
    if parts is None:
        return f"base_url {problem.removeprefix('url ') if problem else 'is malformed'}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "base_url must be an http(s) URL or 'emulator'"
    return None
