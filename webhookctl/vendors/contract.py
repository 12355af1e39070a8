"""The provider contract: what every vendor's API client does, may not do, and raises.

A provider reads and changes the webhook destinations of ONE account on one vendor
API, translating the vendor's wire format to `webhookctl.model`. It knows nothing of
plans, configuration, secrets backends or rendering.

Must:
- `list()` return every live destination of the account (all pages), each with the
  vendor's id, URL, vendor fields under their vendor names, `secret_generated_at`
  when the vendor says it, and `secret` only when the vendor lets it be read.
- `create()` return the new destination's id and, when the vendor shows one, its
  secret (`Issued.secret`). When the answer is lost after the request may have
  reached the vendor, look for what it made (by URL) and return it with
  `secret=None` if the secret went with the answer; never create twice in one call.
- `update()` change only the fields given (`capabilities.updatable_fields`).
- `delete()` succeed when the destination is already gone (the goal holds).
- `rotate()` issue a new secret (`capabilities.can_rotate`), with the end of the
  dual-signing window when the vendor has one; raise `ProviderError` otherwise.
- `deliveries()` yield the destination's deliveries, filtered by the query (by the
  vendor where `capabilities.server_side_delivery_filters`, else by the client).
- Pace itself by the vendor's rate-limit headers and retry 409/429/503 and, for
  idempotent requests, transport errors; announce waits (`on_rate_wait`) and
  retries (`on_retry`).
- `vendor_now()` give the vendor's clock as its last answer showed it.

May not:
- write anything but the vendor API, print, or log a credential or a secret;
- put a secret, a credential or a request body in an exception message.

Raises only `webhookctl.errors.ProviderError` subclasses: AuthError (401),
ForbiddenError (403), NotFoundError (404), ConflictError (409, after retries),
ValidationFailed (422), LimitError (400: cap reached, rotation too soon),
RateLimitedError (429 after retries), UnavailableError (503 after retries),
TransportError (no answer; `AmbiguousError` when a non-idempotent request may have
acted). `webhookctl.vendors.conformance` holds the tests of this contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from webhookctl.capabilities import Capabilities
from webhookctl.model import Delivery, Issued, LiveDestination


@dataclass(frozen=True)
class DeliveryQuery:
    status: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: tuple[str, ...] = ()
    limit: int | None = None


class Provider(Protocol):
    name: str  # the `providers:` entry this client serves
    scope: str  # the account it reaches (the vendor's `account()`), e.g. "amigo:https://api.amigo.ai/acme"
    capabilities: Capabilities

    def vendor_now(self) -> datetime:
        """The vendor's clock, as its last answer showed it."""
        ...

    def on_rate_wait(self, listener: Callable[[str, float], None]) -> None:
        """Call `listener(endpoint, seconds)` before waiting for a rate-limit window."""
        ...

    def on_retry(self, listener: Callable[[str, str, int, float], None]) -> None:
        """Call `listener(endpoint, cause, attempt, delay_seconds)` before retrying a request."""
        ...

    async def list(self) -> list[LiveDestination]: ...

    async def create(self, url: str, fields: Mapping[str, Any]) -> Issued: ...

    async def update(self, destination_id: str, changes: Mapping[str, Any]) -> None: ...

    async def delete(self, destination_id: str) -> None: ...

    async def rotate(self, destination_id: str) -> Issued: ...

    def deliveries(self, destination_id: str, query: DeliveryQuery) -> AsyncIterator[Delivery]: ...

    async def aclose(self) -> None: ...
