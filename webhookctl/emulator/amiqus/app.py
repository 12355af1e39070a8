"""The Amiqus ID webhooks API, v2 under /api/v2 and v1 under /api, over one store.

Checks run in the order a Laravel API applies them: the body's size (413, global
middleware), authentication, rate limit, maintenance, route-model binding (404),
authorisation (403), validation (422).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webhookctl.emulator.amiqus import wire
from webhookctl.emulator.amiqus.deliveries import Deliverer
from webhookctl.emulator.amiqus.settings import AmiqusSettings
from webhookctl.emulator.common.clock import Clock
from webhookctl.emulator.common.http import HTTPError, ServerDate, empty_response, json_response
from webhookctl.emulator.common.ratelimit import FixedWindowLimiter
from webhookctl.emulator.common.resource import resource
from webhookctl.emulator.common.store import Document, DocumentStore
from webhookctl.emulator.common.strict import digits, integer, json_value

TOKENS = "__tokens__"
META = "__meta__"
TEAM = "team:"
Handler = Callable[[Request, dict[str, Any]], Awaitable[Response]]


class AmiqusEmulator:
    def __init__(
        self,
        settings: AmiqusSettings | None = None,
        store: DocumentStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or AmiqusSettings()
        self.store = store or DocumentStore()
        self.clock = clock or Clock()
        self.limiter = FixedWindowLimiter(self.clock, self.settings.rate_window_seconds)
        self.maintenance = False
        self.latency_seconds = 0.0
        self.requests: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.deliverer = Deliverer(self)

    # -- accounts ---------------------------------------------------------------

    def add_token(self, token: str, team: str | None = None, user: str = "user-1", read_only: bool = False) -> str:
        """A personal access token; each token gets its own team unless one is named."""
        team = team or "team-" + secrets.token_hex(4)
        with self.store.transaction(TOKENS) as tokens:
            tokens[token] = {"team": team, "user": user, "read_only": read_only}
        with self.store.transaction(TEAM + team, {"team": team, "webhooks": {}, "deliveries": []}):
            pass
        return team

    def team_document(self, team: str) -> Document | None:
        return self.store.get(TEAM + team)

    def _next_id(self, kind: str, start: int) -> int:
        with self.store.transaction(META) as meta:
            meta[kind] = meta.get(kind, start) + 1
            return int(meta[kind])

    # -- pipeline -----------------------------------------------------------------

    def _endpoint(self, name: str, handler: Handler, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            account = (self.store.get(TOKENS) or {}).get(token.strip()) if scheme.lower() == "bearer" else None
            key = (account["team"], account["user"]) if account else ("anonymous", request.client.host
                                                                      if request.client else "")
            # Received whole before any work starts, as with any server, and refused past its size.
            request.state.body = await _bounded_body(request, self.settings.max_body_bytes)
            if request.state.body is None:
                return json_response({"message": "Content Too Large"}, 413)
            verdict = self.limiter.hit(key, self.settings.rate_limit)
            headers = {"X-RateLimit-Limit": str(verdict.limit), "X-RateLimit-Remaining": str(verdict.remaining)}
            self.requests[name] += 1
            if not verdict.allowed:
                self.throttled[name] += 1
                headers.update({"Retry-After": str(verdict.retry_after), "X-RateLimit-Reset": str(verdict.reset_epoch)})
                return json_response({"message": "Too Many Attempts."}, 429, headers)
            try:
                if self.latency_seconds:
                    await asyncio.sleep(self.latency_seconds)
                if account is None:
                    raise HTTPError(401, {"error": "Unauthenticated."})
                if self.maintenance:
                    raise HTTPError(503, {"message": "Service Unavailable"})
                if "id" in request.path_params:
                    self._hook(request, account)  # route-model binding: a 404 comes before a 403
                if write and account["read_only"]:
                    raise HTTPError(403, {"message": "This action is unauthorized."})
                response = await handler(request, account)
            except HTTPError as error:
                response = json_response(error.body, error.status)
            response.headers.update(headers)
            return response

        return wrapped

    def _hook(self, request: Request, account: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raw = request.path_params["id"]
        document = self.team_document(account["team"]) or {"webhooks": {}}
        # Route-model binding: anything but an integer in ASCII digits matches no row.
        number = integer(raw)
        if number is None:
            raise HTTPError(404, {"error": "Not Found."})
        hook = document["webhooks"].get(str(number))
        if hook is None:
            raise HTTPError(404, {"error": "Webhook not found"})
        return str(number), hook

    @staticmethod
    def _json(request: Request) -> Any:
        raw: bytes = request.state.body
        if not raw.strip():
            return {}
        # Every request body in the spec is application/json. Laravel reads a body as JSON when its
        # Content-Type contains "/json" or "+json" (Request::isJson), and no other.
        content_type = request.headers.get("content-type", "")
        if "/json" not in content_type and "+json" not in content_type:
            raise HTTPError(422, {"errors": ["The request body must be sent as application/json."]})
        try:
            return json_value(raw)
        except ValueError:
            raise HTTPError(422, {"errors": ["The request body is not valid JSON."]}) from None

    # -- handlers (shared by both versions; `version` picks the shapes) ------------

    def handlers(self, version: str) -> list[Route]:
        shape = wire.webhook_v2 if version == "v2" else wire.webhook_v1
        parse = wire.parse_v2 if version == "v2" else wire.parse_v1
        prefix = "/api/v2" if version == "v2" else "/api"

        async def index(request: Request, account: dict[str, Any]) -> Response:
            params = request.query_params
            size = self.settings.default_page_size if version == "v2" else self.settings.v1_page_size
            page, limit, errors = wire.page_params(params, size)
            wanted = wire.query_boolean(params["enabled"]) if version == "v2" and "enabled" in params else None
            if version == "v2" and "enabled" in params and wanted is None:
                errors["enabled"] = ["The enabled field must be true or false."]
            if errors:
                raise wire.invalid(errors)
            hooks = list((self.team_document(account["team"]) or {"webhooks": {}})["webhooks"].values())
            hooks.sort(key=lambda h: h["id"])
            if wanted is not None:
                hooks = [h for h in hooks if h["is_enabled"] == wanted]
            items = [shape(h) for h in hooks]
            if version == "v2":
                return json_response(wire.paginate_v2(items, page, limit, request.url))
            return json_response(wire.paginate_v1(items, page, limit, request.url))

        async def store(request: Request, account: dict[str, Any]) -> Response:
            fields = parse(self._json(request), False)
            now = self.clock.time()
            hook = {
                "id": self._next_id("webhook", 2000), "uuid": str(uuid.uuid4()), "url": fields["url"],
                "secret": secrets.token_hex(32), "events": list(fields["events"]),
                "is_enabled": fields.get("is_enabled", True), "created_at": now, "updated_at": now,
                "failure_tally": 0,
            }
            with self.store.transaction(TEAM + account["team"]) as document:
                document["webhooks"][str(hook["id"])] = hook
            return json_response(shape(hook), 201)

        async def show(request: Request, account: dict[str, Any]) -> Response:
            return json_response(shape(self._hook(request, account)[1]))

        async def update(request: Request, account: dict[str, Any]) -> Response:
            key, _ = self._hook(request, account)
            fields = parse(self._json(request), True)
            with self.store.transaction(TEAM + account["team"]) as document:
                hook = document["webhooks"][key]
                changed = any(hook[name] != value for name, value in fields.items())
                hook.update(fields)
                if fields.get("is_enabled"):
                    hook["failure_tally"] = 0
                if changed:  # as Eloquent: a save that changes nothing leaves updated_at alone
                    hook["updated_at"] = self.clock.time()
            return json_response(shape(hook))

        async def destroy(request: Request, account: dict[str, Any]) -> Response:
            key, _ = self._hook(request, account)
            with self.store.transaction(TEAM + account["team"]) as document:
                del document["webhooks"][key]
            return empty_response(204) if version == "v2" else json_response({"status": True})

        async def deliveries(request: Request, account: dict[str, Any]) -> Response:
            _, hook = self._hook(request, account)
            size = self.settings.default_page_size if version == "v2" else self.settings.v1_page_size
            page, limit, errors = wire.page_params(request.query_params, size)
            if errors:
                raise wire.invalid(errors)
            document = self.team_document(account["team"]) or {"deliveries": []}
            # A delivery is logged once its first attempt has an outcome (the log's fields are an attempt's).
            mine = sorted((d for d in document["deliveries"] if d["webhook_id"] == hook["id"] and d["attempts"]),
                          key=lambda d: -d["id"])
            if version == "v2":
                return json_response(wire.paginate_v2([wire.delivery_v2(d) for d in mine], page, limit, request.url))
            return json_response(wire.paginate_v1([wire.delivery_v1(d) for d in mine], page, limit, request.url))

        one = prefix + "/webhooks/{id}"
        endpoint = self._endpoint
        update_handler = endpoint(f"{version}:update", update, write=True)
        # v2 documents PATCH; PUT stays as the alias the migration guide lists (NOTES.md B3). v1 has PUT only.
        updates = {"PATCH": update_handler, "PUT": update_handler} if version == "v2" else {"PUT": update_handler}
        table: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {
            prefix + "/webhooks": {
                "GET": endpoint(f"{version}:list", index),
                "POST": endpoint(f"{version}:create", store, write=True),
            },
            one: {
                "GET": endpoint(f"{version}:show", show),
                **updates,
                "DELETE": endpoint(f"{version}:delete", destroy, write=True),
            },
            one + "/deliveries": {"GET": endpoint(f"{version}:deliveries", deliveries)},
        }
        return [resource(path, handlers, _method_not_allowed, laravel=True)
                for path, handlers in table.items()]

    def routes(self) -> list[Route]:
        routes = self.handlers("v2") + self.handlers("v1")
        if self.settings.control:
            from webhookctl.emulator.amiqus.control import control_routes

            routes += control_routes(self)
        return routes


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None once it is known to pass `limit` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if digits(declared) and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _method_not_allowed(method: str, allowed: list[str]) -> object:
    return {"message": f"The {method} method is not supported for this route. "
                       f"Supported methods: {', '.join(allowed)}."}


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    body = {"error": "Not Found."} if exc.status_code == 404 else {"message": exc.detail}
    return json_response(body, exc.status_code, dict(exc.headers or {}))


def create_app(emulator: AmiqusEmulator | None = None) -> Starlette:
    emulator = emulator or AmiqusEmulator()
    # Laravel routes have no trailing-slash redirects.
    app = Starlette(routes=emulator.routes(), exception_handlers={HTTPException: _http_exception},
                    middleware=[Middleware(ServerDate, now=emulator.clock.time)])
    app.router.redirect_slashes = False
    app.state.emulator = emulator
    return app
