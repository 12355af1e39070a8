"""Response helpers shared by the emulators' Starlette apps."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # Compact separators, as FastAPI/Starlette and Laravel both send.
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status_code=status, headers=headers, media_type="application/json")


def empty_response(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, headers=headers)


class HTTPError(Exception):
    """Raised inside a handler; the app turns it into the vendor's error body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class ServerDate:
    """Every response carries `Date` (RFC 9110 6.6.1) from the emulator's clock, those the router writes
    itself (404, 405, OPTIONS, a redirect) as well as the endpoints'. uvicorn's own is turned off: a
    server's Date is its clock, and clients can tell from it how far a test moved the clock."""

    def __init__(self, app: ASGIApp, now: Callable[[], float]) -> None:
        self._app = app
        self._now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"date" for name, _ in headers):
                    headers.append((b"date", formatdate(self._now(), usegmt=True).encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, dated)
