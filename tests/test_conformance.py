"""The shipped vendors pass the provider conformance kit, against their emulators over real HTTP.

Faults the emulators cannot make (a given status, a lost answer, an exhausted window
announced on an ordinary answer) come from the kit's `FaultyTransport`: a real httpx
transport to the real emulator on 127.0.0.1, whose answers it replaces or withholds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import httpx
import pytest

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.servers import Receiver, receiver
from webhookctl import errors
from webhookctl.model import Delivery, Issued, LiveDestination
from webhookctl.vendors.amigo.client import AmigoClient
from webhookctl.vendors.amiqus.client import AmiqusClient
from webhookctl.vendors.conformance import Faults, FaultyTransport, ProviderConformance
from webhookctl.vendors.contract import DeliveryQuery, Provider
from webhookctl.vendors.http import AmbiguousError, RetryPolicy
from webhookctl.vendors.ratelimit import Bucket


@dataclass
class Control(Faults):
    """`EmulatorControl` for a shipped emulator: faults by transport, the rest by its control API."""

    url: str = ""
    hook: Receiver | None = None
    event_body: Callable[[str], dict[str, Any]] | None = None

    def destination_url(self, label: str) -> str:
        assert self.hook is not None
        return f"{self.hook.url}/{label}"

    def _control(self, path: str, body: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/_emulator/{path}", json=body, timeout=30).raise_for_status()

    def deliver(self, event_type: str) -> None:
        assert self.event_body is not None
        self._control("events", self.event_body(event_type))
        self._control("idle", {})

    def advance_clock(self, seconds: float) -> None:
        self._control("clock", {"advance_seconds": seconds})

    def transport(self) -> httpx.AsyncBaseTransport:
        return FaultyTransport(httpx.AsyncHTTPTransport(), self)


class TestAmigoConforms(ProviderConformance):
    create_fields: ClassVar[Mapping[str, Any]] = {
        "accepted_types": ["conversation-post-processing-complete", "api-key-expiration-soon"], "retry_attempts": 3}
    updates: ClassVar[Mapping[str, Any]] = {"accepted_types": ["agent-framework-resource-updated"], "retry_attempts": 5}
    event_types = ("conversation-post-processing-complete", "api-key-expiration-soon")

    @pytest.fixture
    def emulator(self, amigo_server: AmigoServer) -> Iterator[Control]:
        # Sign-ins and delivery reads are limited to 5 a minute; the kit makes many of each (its
        # pacing test provokes its own window).
        amigo_server.control("settings", {"rate_limits": {"signin": 1000, "deliveries": 1000}})
        with receiver() as hook:
            yield Control(error_body=lambda message: {"detail": message}, url=amigo_server.url, hook=hook,
                          event_body=lambda kind: {"org": amigo_server.org, "type": kind})

    @pytest.fixture
    def provider_factory(self, amigo_server: AmigoServer, emulator: Control) -> Callable[[], Provider]:
        def build() -> Provider:
            return AmigoClient("prod", scope=f"amigo:{amigo_server.url}/{amigo_server.org}",
                               base_url=amigo_server.url, organization=amigo_server.org,
                               api_key=amigo_server.api_key, api_key_id=amigo_server.api_key_id,
                               user_id=amigo_server.user_id, transport=emulator.transport())

        return build


class TestAmiqusConforms(ProviderConformance):
    create_fields: ClassVar[Mapping[str, Any]] = {"events": ["case.created", "case.updated"], "enabled": True}
    updates: ClassVar[Mapping[str, Any]] = {"events": ["client.created"], "enabled": False}
    event_types = ("case.created", "case.updated")

    @pytest.fixture(params=["v2", "v1"])
    def api_version(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)

    @pytest.fixture
    def emulator(self, amiqus_server: AmiqusServer) -> Iterator[Control]:
        with receiver() as hook:
            # Amiqus announces an empty window only by refusing: a 429 with Retry-After.
            yield Control(error_body=lambda message: {"message": message}, rate_limit_signal="retry-after",
                          url=amiqus_server.url, hook=hook,
                          event_body=lambda kind: {"team": amiqus_server.team, "event": kind})

    @pytest.fixture
    def provider_factory(self, amiqus_server: AmiqusServer, emulator: Control,
                         api_version: str) -> Callable[[], Provider]:
        root = amiqus_server.url + ("/api/v2" if api_version == "v2" else "/api")

        def build() -> Provider:
            return AmiqusClient("kyc", scope=f"amiqus:{amiqus_server.url}", base_url=root,
                                token=amiqus_server.token, api_version=api_version, transport=emulator.transport())

        return build


# -- the kit is honest: a provider breaking one clause fails that clause's test -------------------

class ListsOnePage(AmiqusClient):
    async def list(self) -> list[LiveDestination]:
        return (await super().list())[:1]


class HidesReadableSecrets(AmiqusClient):
    async def list(self) -> list[LiveDestination]:
        return [replace(d, secret=None) for d in await super().list()]


class IgnoresUpdates(AmiqusClient):
    async def update(self, destination_id: str, changes: Mapping[str, Any]) -> None:
        return None


class DeletesOnlyOnce(AmiqusClient):
    async def delete(self, destination_id: str) -> None:
        await self._call("delete", "DELETE", f"/webhooks/{destination_id}")


class PretendsToRotate(AmiqusClient):
    async def rotate(self, destination_id: str) -> Issued:
        return Issued(destination_id=destination_id, secret=None)


class IgnoresTheTypeFilter(AmiqusClient):
    def deliveries(self, destination_id: str, query: DeliveryQuery) -> AsyncIterator[Delivery]:
        return super().deliveries(destination_id, replace(query, type=None))


class UntypedErrors(AmiqusClient):
    async def _call(self, endpoint: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await super()._call(endpoint, method, path, **kwargs)
        except errors.ProviderError as error:
            raise errors.ProviderError(str(error), error.status) from None


class NeverRetries(AmiqusClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs, retry=RetryPolicy(attempts=1))


class DeafToRateLimits(AmiqusClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A bucket that forgets every answer never waits.
        self.api.pacer.bucket = lambda endpoint: Bucket()  # type: ignore[method-assign]


class CreatesAgain(AmiqusClient):
    async def create(self, url: str, fields: Mapping[str, Any]) -> Issued:
        body = self._body(url, fields)
        try:
            response = await self._call("create", "POST", "/webhooks", json=body, idempotent=False)
        except AmbiguousError:
            response = await self._call("create", "POST", "/webhooks", json=body, idempotent=False)
        created = self._live(response.json())
        return Issued(destination_id=created.id, secret=created.secret)


@pytest.mark.parametrize("clause, broken", [
    ("test_list_shows_every_destination_with_its_fields", ListsOnePage),
    ("test_create_issues_the_secret_as_the_capabilities_say", HidesReadableSecrets),
    ("test_update_changes_only_the_fields_given", IgnoresUpdates),
    ("test_delete_removes_and_deleting_again_succeeds", DeletesOnlyOnce),
    ("test_rotate_or_its_absence", PretendsToRotate),
    ("test_deliveries_honour_the_query", IgnoresTheTypeFilter),
    ("test_error_statuses_become_typed_errors", UntypedErrors),
    ("test_a_transient_failure_is_retried_to_success", NeverRetries),
    ("test_rate_limit_headers_are_honoured", DeafToRateLimits),
    ("test_an_ambiguous_create_is_found_not_repeated", CreatesAgain),
])
def test_the_kit_fails_a_provider_that_breaks_the_clause(
    amiqus_server: AmiqusServer, clause: str, broken: type[AmiqusClient]
) -> None:
    kit = TestAmiqusConforms()
    with receiver() as hook:
        control = Control(error_body=lambda message: {"message": message}, rate_limit_signal="retry-after",
                          url=amiqus_server.url, hook=hook,
                          event_body=lambda kind: {"team": amiqus_server.team, "event": kind})

        def build() -> Provider:
            return broken("kyc", scope=f"amiqus:{amiqus_server.url}", base_url=amiqus_server.url + "/api/v2",
                          token=amiqus_server.token, transport=control.transport())

        # The failure is the clause's own: an assertion, a missing error, or the error it let through.
        with pytest.raises((AssertionError, pytest.fail.Exception, errors.ProviderError)):
            getattr(kit, clause)(build, control)
