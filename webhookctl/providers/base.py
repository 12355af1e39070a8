"""The one protocol every provider implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from webhookctl.model import Capabilities, Delivery, Issued, LiveDestination


@dataclass(frozen=True)
class DeliveryQuery:
    status: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: tuple[str, ...] = ()
    limit: int | None = None


class Provider(Protocol):
    name: str
    scope: str  # one account on one API, e.g. "amigo:https://api.amigo.ai/acme"
    capabilities: Capabilities

    def vendor_now(self) -> datetime:
        """The vendor's clock, as its last answer showed it."""
        ...

    def on_rate_wait(self, listener: Callable[[str, float], None]) -> None:
        """Call `listener(endpoint, seconds)` before waiting for a rate-limit window."""
        ...

    async def list(self) -> list[LiveDestination]: ...

    async def create(self, url: str, fields: Mapping[str, Any]) -> Issued: ...

    async def update(self, destination_id: str, changes: Mapping[str, Any]) -> None: ...

    async def delete(self, destination_id: str) -> None: ...

    async def rotate(self, destination_id: str) -> Issued: ...

    def deliveries(self, destination_id: str, query: DeliveryQuery) -> AsyncIterator[Delivery]: ...

    async def aclose(self) -> None: ...
