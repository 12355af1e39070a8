"""Verify a received webhook against a webhookctl secret record.

For receiving applications: pass the raw body, the request headers and the
record read from the secrets backend (the JSON document, or a `SecretRecord`).
The current secret is tried first; during a dual-signing window the previous
secret is accepted until its `valid_until`.

    from webhookctl.verify import verify_amigo
    record = json.load(open("/secrets/webhooks/prod/orders.json"))
    verify_amigo(request.body, request.headers, record)   # raises VerificationError

Schemes (NOTES.md A6, B7):
- Amigo: `x-amigo-request-signature` = hex HMAC-SHA256 of `v1:{timestamp}:{body}`
  with `x-amigo-request-timestamp` in milliseconds; several signatures may be
  sent comma-separated while two secrets sign; events older than 5 minutes are
  refused.
- Amiqus: `X-AQID-Signature` = base64 HMAC-SHA256 of the raw body; no timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from webhookctl.secrets.record import SecretRecord

DEFAULT_MAX_AGE = timedelta(minutes=5)


class VerificationError(Exception):
    """The webhook is not authentic or too old; answer it with 4xx and do not act on it."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise VerificationError(f"missing header {name}")


def _secrets(record: Mapping[str, Any] | SecretRecord, now: datetime) -> list[tuple[str, str]]:
    data = record.to_dict(with_secrets=True) if isinstance(record, SecretRecord) else record
    found: list[tuple[str, str]] = []
    current = data.get("current") or {}
    if isinstance(current.get("secret"), str):
        found.append(("current", current["secret"]))
    previous = data.get("previous") or {}
    if isinstance(previous.get("secret"), str):
        until = previous.get("valid_until")
        ends = datetime.fromisoformat(until.replace("Z", "+00:00")) if until else None
        if ends is None or now <= ends:
            found.append(("previous", previous["secret"]))
    if not found:
        raise VerificationError("the record holds no secret")
    return found


def verify_amigo(
    body: bytes,
    headers: Mapping[str, str],
    record: Mapping[str, Any] | SecretRecord,
    *,
    now: datetime | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> str:
    """Return which secret matched ("current" or "previous"), or raise VerificationError."""
    now = now or datetime.now(UTC)
    timestamp = _header(headers, "x-amigo-request-timestamp")
    if not timestamp.isdigit():
        raise VerificationError("the timestamp is not a number of milliseconds")
    sent = datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC)
    if abs(now - sent) > max_age:
        raise VerificationError(f"the timestamp is {abs(now - sent).total_seconds():.0f}s away from now")
    offered = [s for s in re.split(r"[,\s]+", _header(headers, "x-amigo-request-signature")) if s]
    message = b"v1:" + timestamp.encode() + b":" + body
    for which, secret in _secrets(record, now):
        expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return which
    raise VerificationError("no signature matches the record's secrets")


def verify_amiqus(
    body: bytes,
    headers: Mapping[str, str],
    record: Mapping[str, Any] | SecretRecord,
    *,
    now: datetime | None = None,
) -> str:
    """Return which secret matched ("current" or "previous"), or raise VerificationError."""
    now = now or datetime.now(UTC)
    offered = _header(headers, "x-aqid-signature").strip()
    for which, secret in _secrets(record, now):
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        if hmac.compare_digest(expected, offered):
            return which
    raise VerificationError("the signature does not match the record's secrets")
