"""Response helpers shared by the emulators' Starlette apps."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


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
