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
    if not url.isascii():  # an IRI, not a URI: the vendors' specs take URIs (format: uri)
        return None, "url must be ASCII: percent-encode other characters, and write a host in punycode (xn--)"
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


# scheme "://" authority, then the rest (path, query, fragment) kept exactly as written.
_PARTS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)", re.DOTALL)
_DEFAULT_PORTS = {"https": 443, "http": 80}


def canonical_url(url: str) -> str:
    """`url` as webhook URLs are compared: scheme and host lower-cased, the scheme's default port
    dropped, an empty path written `/`; userinfo, path, query and fragment exactly as written.

    These are equivalent spellings of one URL (RFC 3986 6.2.2-6.2.3, RFC 9110 4.2.3), and a vendor
    that stores URLs through a URL parser lists the canonical one: Amigo's create schema (`format:
    uri, minLength: 1`) is pydantic's AnyUrl, which turns `https://Hooks.example.com` into
    `https://hooks.example.com/`. Compared as written, such a destination would be replaced on every
    run. A URL this cannot read is returned as it is (validation reports it).
    """
    matched = _PARTS.fullmatch(url)
    if matched is None:
        return url
    scheme, authority, rest = matched.group(1).lower(), matched.group(2), matched.group(3)
    try:
        parts = urlsplit(f"{scheme}://{authority}")
        host, port = parts.hostname, parts.port
    except ValueError:
        return url
    if not host:
        return url
    userinfo = authority.rpartition("@")[0]
    netloc = (userinfo + "@" if "@" in authority else "") + (f"[{host}]" if ":" in host else host)
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    canonical = f"{scheme}://{netloc}{rest if rest.startswith('/') else '/' + rest}"
    return url if canonical == url else canonical  # the same object when unchanged: 100,000 URLs are held
