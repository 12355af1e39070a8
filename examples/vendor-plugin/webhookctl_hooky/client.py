"""The Hooky API client (implements `webhookctl.vendors.contract.Provider`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from webhookctl import errors
from webhookctl.model import Delivery, Issued, LiveDestination, Secret
from webhookctl.timefmt import parse_time
from webhookctl.vendors.contract import DeliveryQuery
from webhookctl.vendors.http import (
    AmbiguousError,
    ApiBacked,
    ApiClient,
    RetryPolicy,
    find_after_ambiguous,
)
from webhookctl_hooky.catalogue import CAPABILITIES


class HookyClient(ApiBacked):
    capabilities = CAPABILITIES

    def __init__(self, name: str, *, scope: str, base_url: str, token: str,
                 transport: httpx.AsyncBaseTransport | None = None, retry: RetryPolicy | None = None,
                 timeout: float = 30.0) -> None:
        self.name = name
        self.scope = scope
        self.api = ApiClient(base_url.rstrip("/"), transport=transport, retry=retry, timeout=timeout)
        self._auth = {"authorization": f"Token {token}"}

    async def _call(self, endpoint: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.api.request(endpoint, method, "/v1" + path, headers=self._auth, **kwargs)

    @staticmethod
    def _live(item: Mapping[str, Any]) -> LiveDestination:
        return LiveDestination(id=item["id"], url=item["url"], fields={"topics": list(item["topics"])},
                               secret_generated_at=parse_time(item["secret_created_at"]))

    async def list(self) -> list[LiveDestination]:
        found: list[LiveDestination] = []
        page: int | None = 1
        while page is not None:
            body = (await self._call("list", "GET", "/hooks", params={"page": page})).json()
            found += [self._live(item) for item in body["hooks"]]
            page = body["next_page"]
        return found

    async def create(self, url: str, fields: Mapping[str, Any]) -> Issued:
        body = {"url": url, "topics": list(fields["topics"])}
        try:
            response = await self._call("create", "POST", "/hooks", json=body, idempotent=False)
        except AmbiguousError as failure:

            async def landed() -> Issued | None:
                match = next((d for d in await self.list() if d.url == url), None)
                # Found, but the secret (shown once) went with the lost answer.
                return Issued(destination_id=match.id, secret=None) if match else None

            return await find_after_ambiguous(landed, failure)
        created = response.json()
        return Issued(destination_id=created["id"], secret=Secret(created["secret"]))

    async def update(self, destination_id: str, changes: Mapping[str, Any]) -> None:
        if "topics" in changes:
            await self._call("update", "PATCH", f"/hooks/{destination_id}", json={"topics": list(changes["topics"])})

    async def delete(self, destination_id: str) -> None:
        try:
            await self._call("delete", "DELETE", f"/hooks/{destination_id}")
        except errors.NotFoundError:
            return

    async def rotate(self, destination_id: str) -> Issued:
        body = (await self._call("rotate", "POST", f"/hooks/{destination_id}/secret", idempotent=False)).json()
        return Issued(destination_id=destination_id, secret=Secret(body["secret"]))

    async def deliveries(self, destination_id: str, query: DeliveryQuery) -> AsyncIterator[Delivery]:
        body = (await self._call("deliveries", "GET", f"/hooks/{destination_id}/deliveries")).json()
        left = query.limit
        for item in body["deliveries"]:
            delivery = Delivery(id=item["id"], type=item["topic"],
                                status="success" if item["outcome"] == "ok" else "failed",
                                created_at=parse_time(item["at"]), attempts=int(item["tries"]),
                                last_status_code=item["last_code"])
            # Hooky filters nothing itself (capabilities.server_side_delivery_filters is false).
            if (query.status and delivery.status != query.status) or (query.type and delivery.type != query.type) \
                    or (query.since and delivery.created_at < query.since) \
                    or (query.until and delivery.created_at > query.until):
                continue
            if left is not None:
                if left <= 0:
                    return
                left -= 1
            yield delivery
