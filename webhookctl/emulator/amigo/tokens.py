"""HS256 JWTs as the sign-in endpoint issues them, and the two ways to present one."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Claims:
    org: str
    user_id: str
    expires_at: float


def issue(key: bytes, claims: Claims, issued_at: float) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(
        json.dumps(
            {"sub": claims.user_id, "org": claims.org, "iat": int(issued_at), "exp": claims.expires_at}
        ).encode()
    )
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def decode(key: bytes, token: str) -> Claims | None:
    """The claims of a token this emulator signed, or None; expiry is the caller's check."""
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        body: dict[str, Any] = json.loads(_unb64(payload))
        return Claims(org=str(body["org"]), user_id=str(body["sub"]), expires_at=float(body["exp"]))
    except (ValueError, KeyError, binascii.Error, json.JSONDecodeError):
        return None


def token_from_authorization(header: str | None) -> tuple[str, str | None] | None:
    """(jwt, basic username or None) from an Authorization header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value, None
    if scheme.lower() == "basic" and value:
        try:
            username, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (password, username) if sep and password else None
    return None
