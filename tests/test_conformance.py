"""The shipped vendors pass the provider conformance kit, against their emulators over real HTTP.

Faults the emulators cannot make (a given status, a lost answer, an exhausted window
announced on an ordinary answer) come from the kit's `FaultyTransport`: a real httpx
transport to the real emulator on 127.0.0.1, whose answers it replaces or withholds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import AmigoServer, AmiqusServer
from tests.support.servers import Receiver, receiver
from webhookctl.vendors.amigo.client import AmigoClient
from webhookctl.vendors.amiqus.client import AmiqusClient
from webhookctl.vendors.conformance import Faults, FaultyTransport, ProviderConformance
from webhookctl.vendors.contract import Provider


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
    create_fields = {"accepted_types": ["conversation-post-processing-complete", "api-key-expiration-soon"],
                     "retry_attempts": 3}
    updates = {"accepted_types": ["agent-framework-resource-updated"], "retry_attempts": 5}
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
    create_fields = {"events": ["case.created", "case.updated"], "enabled": True}
    updates = {"events": ["client.created"], "enabled": False}
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
