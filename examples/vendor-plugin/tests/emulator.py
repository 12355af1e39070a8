"""A tiny Hooky emulator: the API in the package README, in memory, as a Starlette app.

`HookyEmulator.deliver(topic)` records one delivery per hook subscribed to it (it sends
nothing: Hooky's deliveries are only read here), and `advance(seconds)` moves its clock.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOPICS = ("order.created", "order.paid", "order.refunded")
MAX_HOOKS = 5
PAGE = 1  # so that listing two hooks takes two pages


@dataclass
class HookyEmulator:
    token: str = "hooky-token"
    rate_limit: int = 1000
    window_seconds: float = 60.0
    offset: float = 0.0
    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def now(self) -> float:
        return time.time() + self.offset

    def stamp(self) -> str:
        return datetime.fromtimestamp(self.now(), tz=UTC).isoformat().replace("+00:00", "Z")

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def deliver(self, topic: str) -> None:
        for hook_id, hook in self.hooks.items():
            if topic in hook["topics"]:
                self.deliveries[hook_id].append({"id": f"dl_{next(self.ids)}", "topic": topic, "outcome": "ok",
                                                 "at": self.stamp(), "tries": 1, "last_code": 200})

    def public(self, hook: dict[str, Any]) -> dict[str, Any]:
        return {key: hook[key] for key in ("id", "url", "topics", "secret_created_at")}


def error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status)


def create_app(emulator: HookyEmulator) -> Starlette:
    def checked_body(body: Any, partial: bool) -> str | None:
        if not isinstance(body, dict):
            return "body must be an object"
        if not partial and not str(body.get("url", "")).startswith("https://"):
            return "url must be https"
        topics = body.get("topics")
        if not isinstance(topics, list) or not topics or any(t not in TOPICS for t in topics):
            return "topics must list known topics"
        return None

    async def hooks(request: Request) -> Response:
        if request.method == "GET":
            page = int(request.query_params.get("page", "1"))
            every = list(emulator.hooks.values())
            chunk = every[(page - 1) * PAGE: page * PAGE]
            more = page * PAGE < len(every)
            return JSONResponse({"hooks": [emulator.public(h) for h in chunk], "next_page": page + 1 if more else None})
        body = await request.json()
        problem = checked_body(body, partial=False)
        if problem:
            return error(problem, 422)
        if len(emulator.hooks) >= MAX_HOOKS:
            return error(f"an account has at most {MAX_HOOKS} hooks", 400)
        hook = {"id": f"hk_{next(emulator.ids)}", "url": body["url"], "topics": list(body["topics"]),
                "secret": "whsec_" + secrets.token_hex(16), "secret_created_at": emulator.stamp()}
        emulator.hooks[hook["id"]] = hook
        emulator.deliveries[hook["id"]] = []
        return JSONResponse({**emulator.public(hook), "secret": hook["secret"]}, 201)

    async def one(request: Request) -> Response:
        hook = emulator.hooks.get(request.path_params["id"])
        if hook is None:
            return error("no such hook", 404)
        if request.method == "DELETE":
            del emulator.hooks[hook["id"]]
            return Response(status_code=204)
        body = await request.json()
        problem = checked_body(body, partial=True)
        if problem:
            return error(problem, 422)
        hook["topics"] = list(body["topics"])
        return JSONResponse(emulator.public(hook))

    async def secret(request: Request) -> Response:
        hook = emulator.hooks.get(request.path_params["id"])
        if hook is None:
            return error("no such hook", 404)
        hook["secret"], hook["secret_created_at"] = "whsec_" + secrets.token_hex(16), emulator.stamp()
        return JSONResponse({"secret": hook["secret"], "secret_created_at": hook["secret_created_at"]})

    async def deliveries(request: Request) -> Response:
        if request.path_params["id"] not in emulator.hooks:
            return error("no such hook", 404)
        return JSONResponse({"deliveries": emulator.deliveries[request.path_params["id"]]})

    routes = [
        Route("/v1/hooks", hooks, methods=["GET", "POST"]),
        Route("/v1/hooks/{id}", one, methods=["PATCH", "DELETE"]),
        Route("/v1/hooks/{id}/secret", secret, methods=["POST"]),
        Route("/v1/hooks/{id}/deliveries", deliveries, methods=["GET"]),
    ]
    app = Starlette(routes=routes)

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        """Authentication and the rate limit (one fixed window per token), then the API."""
        if scope["type"] != "http":
            return await app(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        now = emulator.now()
        window = int(now // emulator.window_seconds)
        used = emulator.counts.get(window, 0) + 1
        emulator.counts[window] = used
        limits = {"X-RateLimit-Remaining": str(max(emulator.rate_limit - used, 0)),
                  "X-RateLimit-Reset": str(int((window + 1) * emulator.window_seconds)),
                  "Date": formatdate(now, usegmt=True)}
        if headers.get("authorization") != f"Token {emulator.token}":
            response: Response = error("bad token", 401)
        elif used > emulator.rate_limit:
            response = error("slow down", 429)
            response.headers["Retry-After"] = str(max(int((window + 1) * emulator.window_seconds - now), 1))
        else:
            async def send_with_limits(message: MutableMapping[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []),
                                          *((k.lower().encode(), v.encode()) for k, v in limits.items())]
                await send(message)

            return await app(scope, receive, send_with_limits)
        response.headers.update(limits)
        await response(scope, receive, send)

    return guarded  # type: ignore[return-value]
