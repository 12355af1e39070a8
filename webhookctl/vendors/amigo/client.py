"""The Amigo classic webhook-destination API (api.amigo.ai, `/v1/{organization}/...`)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from webhookctl import errors
from webhookctl.model import Delivery, Issued, LiveDestination
from webhookctl.secret import Secret
from webhookctl.timefmt import format_time, parse_time
from webhookctl.vendors.amigo.catalogue import CAPABILITIES, RETRY_ATTEMPTS_DEFAULT
from webhookctl.vendors.contract import DeliveryQuery
from webhookctl.vendors.http import (
    AmbiguousError,
    ApiBacked,
    ApiClient,
    RetryPolicy,
    find_after_ambiguous,
)
from webhookctl.vendors.vendor import SharedClients

# The SDKs refresh a token this long before it expires.
REFRESH_MARGIN = 300.0
DELIVERY_PAGE = 50


class AmigoClient(ApiBacked):
    """One Amigo organisation's webhook destinations (implements `contract.Provider`)."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        name: str,
        *,
        scope: str,
        base_url: str,
        organization: str,
        api_key: str,
        api_key_id: str,
        user_id: str,
        scheme: str = "bearer",
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        pool: SharedClients | None = None,
    ) -> None:
        self.name = name
        self.organization = organization
        self.scope = scope
        self._credentials = {"x-api-key": api_key, "x-api-key-id": api_key_id, "x-user-id": user_id}
        self._user_id = user_id
        self._scheme = scheme
        self._token: str | None = None
        self._expires_at = 0.0
        self.api = ApiClient(base_url, transport=transport, retry=retry, timeout=timeout, pool=pool)
        self._prefix = f"/v1/{organization}"

    # -- auth -------------------------------------------------------------------

    async def _sign_in(self) -> None:
        response = await self.api.request(
            "signin", "POST", f"{self._prefix}/user/signin_with_api_key", headers=self._credentials
        )
        body = response.json()
        self._token = str(body["id_token"])
        self._expires_at = parse_time(body["expires_at"]).timestamp()

    async def _auth_headers(self) -> dict[str, str]:
        if self._token is None or self._expires_at - self.vendor_now().timestamp() < REFRESH_MARGIN:
            await self._sign_in()
        assert self._token is not None
        if self._scheme == "basic":
            pair = f"{self.organization}_{self._user_id}:{self._token}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode()
        else:
            authorization = f"Bearer {self._token}"
        return {"authorization": authorization, "x-org-id": self.organization}

    async def _call(self, endpoint: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, signing in first when needed and once more on a 401."""
        try:
            return await self.api.request(
                endpoint, method, self._prefix + path, headers=await self._auth_headers(), **kwargs
            )
        except errors.AuthError:
            self._token = None
            return await self.api.request(
                endpoint, method, self._prefix + path, headers=await self._auth_headers(), **kwargs
            )

    # -- destinations -------------------------------------------------------------

    async def list(self) -> list[LiveDestination]:
        response = await self._call("list", "GET", "/webhook_destination/")
        return [
            LiveDestination(
                id=item["id"],
                url=item["url"],
                fields={"accepted_types": list(item["accepted_types"]), "retry_attempts": item["retry_attempts"]},
                secret_generated_at=parse_time(item["secret_generated_at"]),
            )
            for item in response.json()["webhook_destinations"]
        ]

    async def create(self, url: str, fields: Mapping[str, Any]) -> Issued:
        body = {"url": url, "accepted_types": list(fields["accepted_types"]),
                "retry_attempts": fields.get("retry_attempts", RETRY_ATTEMPTS_DEFAULT)}
        try:
            response = await self._call("create", "POST", "/webhook_destination/", json=body, idempotent=False)
        except AmbiguousError as failure:

            async def landed() -> Issued | None:
                match = next((d for d in await self.list() if d.url == url), None)
                # Found, but its one-view secret went with the lost answer.
                return Issued(destination_id=match.id, secret=None) if match else None

            return await find_after_ambiguous(landed, failure)
        created = response.json()
        return Issued(destination_id=created["webhook_destination_id"], secret=Secret(created["secret"]))

    async def update(self, destination_id: str, changes: Mapping[str, Any]) -> None:
        body = {key: changes[key] for key in ("accepted_types", "retry_attempts") if key in changes}
        await self._call("update", "POST", f"/webhook_destination/{destination_id}", json=body)

    async def delete(self, destination_id: str) -> None:
        try:
            await self._call("delete", "DELETE", f"/webhook_destination/{destination_id}")
        except errors.NotFoundError:
            # Gone already (a retried delete that had landed, or someone else): the goal holds.
            return

    async def rotate(self, destination_id: str) -> Issued:
        response = await self._call(
            "rotate", "POST", f"/webhook_destination/{destination_id}/rotate-secret", idempotent=False
        )
        body = response.json()
        return Issued(
            destination_id=destination_id,
            secret=Secret(body["secret"]),
            dual_signing_stops_at=parse_time(body["dual_signing_stops_at"]),
        )

    async def deliveries(self, destination_id: str, query: DeliveryQuery) -> AsyncIterator[Delivery]:
        token = 0
        left = query.limit
        while left is None or left > 0:
            params: list[tuple[str, str | int]] = [("limit", min(DELIVERY_PAGE, left or DELIVERY_PAGE)),
                                                   ("continuation_token", token)]
            if query.status:
                params.append(("status", query.status))
            if query.type:
                params.append(("type", query.type))
            if query.since:
                params.append(("created_after", format_time(query.since)))
            if query.until:
                params.append(("created_before", format_time(query.until)))
            params += [("sort_by", key) for key in query.sort]
            response = await self._call("deliveries", "GET", f"/webhook_destination/{destination_id}/delivery",
                                        params=params)
            body = response.json()
            for item in body["webhook_deliveries"]:
                attempts = item["delivery_attempts"]
                yield Delivery(
                    id=item["id"], type=item["type"], status=item["status"],
                    created_at=parse_time(item["created_at"]), attempts=len(attempts),
                    last_status_code=attempts[-1]["status_code"] if attempts else None,
                    dual_signed=item["dual_signed"],
                )
                if left is not None:
                    left -= 1
            if not body["has_more"] or body["continuation_token"] is None:
                return
            token = int(body["continuation_token"])
