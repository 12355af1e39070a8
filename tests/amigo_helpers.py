"""Reading the Amigo emulator's side directly (as the vendor's own dashboard would)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from tests.conftest import AmigoServer


def live(server: AmigoServer, org: str | None = None) -> list[dict[str, Any]]:
    document = server.emulator.org_document(org or server.org) or {"destinations": {}}
    return list(document["destinations"].values())


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """NOTES.md A6, independently: any of the comma-separated signatures may match."""
    timestamp = headers["x-amigo-request-timestamp"]
    expected = hmac.new(secret.encode(), f"v1:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s.strip()) for s in headers["x-amigo-request-signature"].split(","))
