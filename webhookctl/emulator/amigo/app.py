"""The Amigo webhook-destination API as a Starlette app.

Checks run in the order a FastAPI service with an auth dependency applies them:
rate limit, maintenance, organisation, credentials, permission, then the
endpoint's own parameters (FastAPI validates them after its dependencies have
run: an unauthenticated caller learns nothing of ids), the request body, the
destination itself, then business rules.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webhookctl.emulator.amigo import tokens
from webhookctl.emulator.amigo.accounts import add_account, new_org_document
from webhookctl.emulator.amigo.deliveries import Deliverer, list_deliveries
from webhookctl.emulator.amigo.faults import Faults
from webhookctl.emulator.amigo.settings import WEBHOOK_TYPES, AmigoSettings
from webhookctl.emulator.amigo.validation import (
    ID_PATTERN_TEXT,
    detail,
    parse_create,
    parse_update,
    read_json_body,
    valid_id,
    validation_error,
)
from webhookctl.emulator.common.clock import Clock, isoformat, parse_iso
from webhookctl.emulator.common.http import HTTPError, ServerDate, empty_response, json_response
from webhookctl.emulator.common.ratelimit import FixedWindowLimiter
from webhookctl.emulator.common.resource import resource
from webhookctl.emulator.common.store import Document, DocumentStore

META_KEY = "__meta__"
ORG_PREFIX = "org:"

Handler = Callable[[Request], Awaitable[Response]]


def new_object_id() -> str:
    return secrets.token_hex(12)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class AmigoEmulator:
    """State, clock and faults behind the routes; tests may reach in through it."""

    def __init__(
        self,
        settings: AmigoSettings | None = None,
        store: DocumentStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or AmigoSettings()
        self.store = store or DocumentStore()
        self.clock = clock or Clock()
        self.faults = Faults()
        self.limiter = FixedWindowLimiter(self.clock, self.settings.rate_window_seconds)
        # What clients asked for and what was refused, per endpoint (benchmarks and tests read these).
        self.requests: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.deliverer = Deliverer(self)
        with self.store.transaction(META_KEY) as meta:
            meta.setdefault("jwt_key", secrets.token_hex(32))
            self._jwt_key = bytes.fromhex(meta["jwt_key"])

    # -- provisioning -------------------------------------------------------

    def provision(
        self, org: str, user_id: str, api_key_id: str, api_key: str, permissions: list[str] | None = None
    ) -> None:
        with self.store.transaction(ORG_PREFIX + org, new_org_document(org)) as document:
            add_account(document, user_id, api_key_id, api_key, permissions)

    def load_documents(self, documents: dict[str, Document]) -> None:
        for org, document in documents.items():
            with self.store.transaction(ORG_PREFIX + org, document) as stored:
                stored["users"].update(document["users"])
                stored["api_keys"].update(document["api_keys"])

    def org_document(self, org: str) -> Document | None:
        return self.store.get(ORG_PREFIX + org)

    # -- request pipeline ---------------------------------------------------

    def _limited(self, endpoint: str, handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            org = request.path_params.get("organization", "")
            verdict = self.limiter.hit((org, endpoint), self.settings.rate_limits[endpoint])
            headers = verdict.headers()
            self.requests[endpoint] += 1
            if not verdict.allowed:
                self.throttled[endpoint] += 1
                return json_response({"detail": "Rate limit exceeded."}, 429, headers)
            # The body arrives before any work starts, as with any server: a slow operation still
            # completes after its client gave up (what makes a create "ambiguous").
            await request.body()
            try:
                if self.faults.latency_seconds and (not self.faults.latency_endpoints
                                                    or endpoint in self.faults.latency_endpoints):
                    await asyncio.sleep(self.faults.latency_seconds)
                if self.faults.maintenance:
                    raise HTTPError(503, detail("The service is going through temporary maintenance."))
                response = await handler(request)
            except HTTPError as error:
                response = json_response(error.body, error.status, error.headers)
            response.headers.update(headers)
            return response

        return wrapped

    def _org(self, request: Request) -> str:
        org: str = request.path_params["organization"]
        if self.org_document(org) is None:
            raise HTTPError(404, detail("Specified organization is not found."))
        return org

    def _destination_id(self, request: Request) -> str:
        value: str = request.path_params["webhook_destination_id"]
        if not valid_id(value):
            raise validation_error(
                ["path", "webhook_destination_id"],
                f"String should match pattern '{ID_PATTERN_TEXT}'",
                "string_pattern_mismatch",
                value,
            )
        return value

    def _authorize(self, request: Request, org: str, permission: str) -> None:
        credentials = tokens.token_from_authorization(request.headers.get("authorization"))
        if credentials is None:
            raise HTTPError(401, detail("Invalid authorization credentials."))
        token, basic_username = credentials
        claims = tokens.decode(self._jwt_key, token)
        if claims is None or claims.expires_at <= self.clock.time():
            raise HTTPError(401, detail("Invalid authorization credentials."))
        if basic_username is not None and basic_username != f"{claims.org}_{claims.user_id}":
            raise HTTPError(401, detail("Invalid authorization credentials."))
        issuing_org = request.headers.get("x-org-id")
        if issuing_org is not None and issuing_org != claims.org:
            raise HTTPError(401, detail("Invalid authorization credentials."))
        token_document = self.org_document(claims.org)
        user = (token_document or {}).get("users", {}).get(claims.user_id)
        if user is None:
            raise HTTPError(401, detail("Invalid authorization credentials."))
        # Cross-organisation grants are not modelled: a token acts in its own organisation.
        if claims.org != org or permission not in user["permissions"]:
            raise HTTPError(403, detail("Missing required permissions."))

    def _consume_conflict(self) -> None:
        if self.faults.take_conflict():
            raise HTTPError(409, detail("A related operation is in progress."))

    # -- endpoints ----------------------------------------------------------

    async def sign_in(self, request: Request) -> Response:
        missing = [
            name for name in ("x-api-key", "x-api-key-id", "x-user-id") if name not in request.headers
        ]
        if missing:
            raise HTTPError(
                422,
                {
                    "detail": [
                        {"type": "missing", "loc": ["header", name], "msg": "Field required", "input": None}
                        for name in missing
                    ]
                },
            )
        org = self._org(request)
        document = self.org_document(org) or {}
        key = document["api_keys"].get(request.headers["x-api-key-id"])
        user_id = request.headers["x-user-id"]
        if (
            key is None
            or not secrets.compare_digest(key["key"], request.headers["x-api-key"])
            or user_id not in document["users"]
        ):
            raise HTTPError(401, detail("API key not found, is incorrect, or the requested user is not found."))
        now = self.clock.time()
        expires_at = now + self.settings.token_ttl_seconds
        token = tokens.issue(self._jwt_key, tokens.Claims(org, user_id, expires_at), now)
        expires = datetime.fromtimestamp(expires_at, tz=self.clock.now().tzinfo)
        return json_response({"id_token": token, "expires_at": isoformat(expires)})

    async def create(self, request: Request) -> Response:
        org = self._org(request)
        self._authorize(request, org, "Webhook:CreateWebhookDestination")
        body = parse_create(await read_json_body(request))
        self._consume_conflict()
        with self.store.transaction(ORG_PREFIX + org) as document:
            if len(document["destinations"]) >= self.settings.max_destinations:
                raise HTTPError(
                    400,
                    detail("The organization already has the maximum amount of webhook destinations defined."),
                )
            destination_id = new_object_id()
            secret = new_secret()
            now = isoformat(self.clock.now())
            document["destinations"][destination_id] = {
                "id": destination_id,
                "url": body["url"],
                "accepted_types": body["accepted_types"],
                "retry_attempts": body["retry_attempts"],
                "secret": secret,
                "secret_generated_at": now,
                "previous_secret": None,
                "dual_signing_stops_at": None,
                "last_rotated_at": None,
                "created_at": now,
            }
        return json_response({"webhook_destination_id": destination_id, "secret": secret}, 201)

    async def list_destinations(self, request: Request) -> Response:
        org = self._org(request)
        self._authorize(request, org, "Webhook:GetWebhookDestination")
        wanted = request.query_params.getlist("id")
        for index, value in enumerate(wanted):
            if not valid_id(value):
                raise validation_error(
                    ["query", "id", index],
                    f"String should match pattern '{ID_PATTERN_TEXT}'",
                    "string_pattern_mismatch",
                    value,
                )
        if len(set(wanted)) != len(wanted):
            raise validation_error(["query", "id"], "Set should have unique items", "set_type", wanted)
        document = self.org_document(org) or {}
        destinations = [
            {
                "id": item["id"],
                "url": item["url"],
                "secret_generated_at": item["secret_generated_at"],
                "retry_attempts": item["retry_attempts"],
                "accepted_types": item["accepted_types"],
            }
            for item in document["destinations"].values()
            if not wanted or item["id"] in wanted
        ]
        return json_response({"webhook_destinations": destinations})

    async def update(self, request: Request) -> Response:
        org = self._org(request)
        self._authorize(request, org, "Webhook:UpdateWebhookDestination")
        destination_id = self._destination_id(request)
        changes = parse_update(await read_json_body(request))
        with self.store.transaction(ORG_PREFIX + org) as document:
            destination = self._existing(document, destination_id)
            self._consume_conflict()
            destination.update(changes)
        return empty_response(204)

    async def delete(self, request: Request) -> Response:
        org = self._org(request)
        self._authorize(request, org, "Webhook:DeleteWebhookDestination")
        destination_id = self._destination_id(request)
        with self.store.transaction(ORG_PREFIX + org) as document:
            self._existing(document, destination_id)
            self._consume_conflict()
            del document["destinations"][destination_id]
        return empty_response(204)

    async def rotate(self, request: Request) -> Response:
        org = self._org(request)
        self._authorize(request, org, "Webhook:UpdateWebhookDestination")
        destination_id = self._destination_id(request)
        with self.store.transaction(ORG_PREFIX + org) as document:
            destination = self._existing(document, destination_id)
            self._consume_conflict()
            now = self.clock.now()
            last = destination.get("last_rotated_at")
            interval = timedelta(seconds=self.settings.rotation_min_interval_seconds)
            if last and now - parse_iso(last) < interval:
                raise HTTPError(400, detail("The frequency of secret rotation is limited to once per hour."))
            secret = new_secret()
            stops_at = isoformat(now + timedelta(seconds=self.settings.dual_signing_seconds))
            destination.update(
                previous_secret=destination["secret"],
                secret=secret,
                secret_generated_at=isoformat(now),
                dual_signing_stops_at=stops_at,
                last_rotated_at=isoformat(now),
            )
        return json_response({"secret": secret, "dual_signing_stops_at": stops_at})

    async def deliveries(self, request: Request) -> Response:
        org = self._org(request)
        self._authorize(request, org, "Webhook:GetWebhookDeliveries")
        destination_id = self._destination_id(request)
        document = self.org_document(org) or {}
        self._existing(document, destination_id)
        return json_response(list_deliveries(document, destination_id, request.query_params))

    @staticmethod
    def _existing(document: Document, destination_id: str) -> dict[str, Any]:
        destination: dict[str, Any] | None = document["destinations"].get(destination_id)
        if destination is None:
            raise HTTPError(404, detail("Specified organization or webhook destination is not found."))
        return destination

    # -- assembly -------------------------------------------------------------

    def routes(self) -> list[Route]:
        base = "/v1/{organization}"
        one = base + "/webhook_destination/{webhook_destination_id}"
        limited = self._limited
        table: dict[str, dict[str, Handler]] = {
            base + "/user/signin_with_api_key": {"POST": limited("signin", self.sign_in)},
            base + "/webhook_destination/": {
                "POST": limited("create", self.create),
                "GET": limited("list", self.list_destinations),
            },
            one: {"POST": limited("update", self.update), "DELETE": limited("delete", self.delete)},
            one + "/rotate-secret": {"POST": limited("rotate", self.rotate)},
            one + "/delivery": {"GET": limited("deliveries", self.deliveries)},
        }
        routes = [
            resource(path, handlers, _method_not_allowed, laravel=False)
            for path, handlers in table.items()
        ]
        if self.settings.control:
            from webhookctl.emulator.amigo.control import control_routes

            routes += control_routes(self)
        return routes


def _method_not_allowed(method: str, allowed: list[str]) -> object:
    return {"detail": "Method Not Allowed"}


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, exc.status_code, dict(exc.headers or {}))


def create_app(emulator: AmigoEmulator | None = None) -> Starlette:
    emulator = emulator or AmigoEmulator()
    app = Starlette(routes=emulator.routes(), exception_handlers={HTTPException: _http_exception},
                    middleware=[Middleware(ServerDate, now=emulator.clock.time)])
    app.state.emulator = emulator
    return app


__all__ = ["WEBHOOK_TYPES", "AmigoEmulator", "create_app"]
