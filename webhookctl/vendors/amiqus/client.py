"""The Amiqus ID webhooks API, v2 (`/api/v2`) or v1 (`/api`); the version lives only here.

Secrets stay readable on the vendor's side, so there is no rotate endpoint and no
one-view risk: a lost create answer is recovered by listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from webhookctl import errors
from webhookctl.model import Delivery, Issued, LiveDestination
from webhookctl.secret import Secret
from webhookctl.timefmt import parse_time
from webhookctl.vendors.amiqus.catalogue import CAPABILITIES
from webhookctl.vendors.contract import DeliveryQuery
from webhookctl.vendors.http import (
    AmbiguousError,
    ApiBacked,
    ApiClient,
    RetryPolicy,
    find_after_ambiguous,
)
from webhookctl.vendors.vendor import SharedClients

PAGE_SIZE = 100


class AmiqusClient(ApiBacked):
    """One Amiqus team's webhooks (implements `contract.Provider`)."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        name: str,
        *,
        scope: str,
        base_url: str,
        token: str,
        api_version: str = "v2",
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        pool: SharedClients | None = None,
    ) -> None:
        self.name = name
        self.version = api_version
        self.scope = scope
        self.api = ApiClient(base_url.rstrip("/"), transport=transport, retry=retry, timeout=timeout,
                             pool=pool)
        self._auth = {"authorization": f"Bearer {token}"}

    async def _call(self, endpoint: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.api.request(endpoint, method, self.api_path(path), headers=self._auth, **kwargs)

    def api_path(self, path: str) -> str:
        # httpx joins a relative path onto base_url's own path (/api/v2 or /api).
        return path.lstrip("/")

    # -- translation ----------------------------------------------------------------

    def _live(self, item: Mapping[str, Any]) -> LiveDestination:
        if self.version == "v2":
            events, enabled = list(item["events"]), bool(item["is_enabled"])
        else:
            raw = item["events"]
            events = [e.strip() for e in raw.split(",") if e.strip()] if isinstance(raw, str) else list(raw)
            enabled = bool(item["active"])
        return LiveDestination(
            id=str(item["id"]), url=item["url"], fields={"events": events, "enabled": enabled},
            # Amiqus does not say when a secret was made; it is read, not dated.
            secret_generated_at=None,
            secret=Secret(item["secret"]) if item.get("secret") else None,
        )

    def _body(self, url: str | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {} if url is None else {"url": url}
        if "events" in fields:
            body["events"] = list(fields["events"]) if self.version == "v2" else ",".join(fields["events"])
        if "enabled" in fields:
            body["is_enabled" if self.version == "v2" else "active"] = bool(fields["enabled"])
        return body

    # -- destinations ----------------------------------------------------------------

    async def list(self) -> list[LiveDestination]:
        found: list[LiveDestination] = []
        page = 1
        while True:
            params = {"page": page, "limit": PAGE_SIZE} if self.version == "v2" else {"page": page}
            body = (await self._call("list", "GET", "/webhooks", params=params)).json()
            found += [self._live(item) for item in body["data"]]
            pages = body["total_pages"] if self.version == "v2" else body["meta"]["pagination"]["total_pages"]
            if page >= pages or not body["data"]:
                return found
            page += 1

    async def create(self, url: str, fields: Mapping[str, Any]) -> Issued:
        body = self._body(url, fields)
        try:
            response = await self._call("create", "POST", "/webhooks", json=body, idempotent=False)
        except AmbiguousError as failure:

            async def landed() -> Issued | None:
                match = next((d for d in await self.list() if d.url == url), None)
                return Issued(destination_id=match.id, secret=match.secret) if match else None

            return await find_after_ambiguous(landed, failure)
        created = self._live(response.json())
        return Issued(destination_id=created.id, secret=created.secret)

    async def update(self, destination_id: str, changes: Mapping[str, Any]) -> None:
        method = "PATCH" if self.version == "v2" else "PUT"
        body = self._body(changes.get("url"), changes)
        await self._call("update", method, f"/webhooks/{destination_id}", json=body)

    async def delete(self, destination_id: str) -> None:
        try:
            await self._call("delete", "DELETE", f"/webhooks/{destination_id}")
        except errors.NotFoundError:
            return

    async def rotate(self, destination_id: str) -> Issued:
        raise errors.ProviderError("Amiqus has no rotate API; rotate by replacing the destination "
                                   "(--rotate-by-replace)")

    async def deliveries(self, destination_id: str, query: DeliveryQuery) -> AsyncIterator[Delivery]:
        page, left = 1, query.limit
        while left is None or left > 0:
            params = {"page": page, "limit": PAGE_SIZE} if self.version == "v2" else {"page": page}
            body = (await self._call("deliveries", "GET", f"/webhooks/{destination_id}/deliveries",
                                     params=params)).json()
            for item in body["data"]:
                delivery = self._delivery(item)
                if query.since and delivery.created_at < query.since:
                    continue
                if query.until and delivery.created_at > query.until:
                    continue
                if query.status and delivery.status != query.status:
                    continue
                if query.type and delivery.type != query.type:
                    continue
                yield delivery
                if left is not None:
                    left -= 1
                    if left == 0:
                        return
            pages = body["total_pages"] if self.version == "v2" else body["meta"]["pagination"]["total_pages"]
            if page >= pages:
                return
            page += 1

    def _delivery(self, item: Mapping[str, Any]) -> Delivery:
        if self.version == "v2":
            code = item["response"]["status_code"]
            sent = item.get("last_sent_at")
            event = item["event"]
        else:
            code = item["status"]
            sent = item.get("last_delivered_at")
            event = item["request"]["body"].get("trigger", {}).get("alias", "")
        status_code = int(code) if str(code).isdigit() else None
        return Delivery(
            id=str(item["uuid"]), type=event,
            status="success" if status_code is not None and 200 <= status_code < 300 else "failed",
            created_at=parse_time(sent) if sent else datetime.fromtimestamp(0, tz=UTC),
            attempts=int(item["attempts"]), last_status_code=status_code,
        )

