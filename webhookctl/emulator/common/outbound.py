"""Outbound delivery plumbing: who may be called, and how retries are timed."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def delivery_target(url: str, *, plain_http: bool) -> str:
    """The URL actually called; `plain_http` lets tests receive on http://."""
    parts = urlsplit(url)
    if plain_http and parts.scheme == "https":
        return urlunsplit(("http", *parts[1:]))
    return url
