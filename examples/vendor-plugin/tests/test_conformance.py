"""The Hooky client keeps webhookctl's provider contract, proved with webhookctl's own kit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
import pytest
from emulator import HookyEmulator, create_app
from webhookctl_hooky.client import HookyClient

from webhookctl.vendors.conformance import Faults, FaultyTransport, ProviderConformance
from webhookctl.vendors.contract import Provider

BASE = "http://hooky.test"


@dataclass
class Control(Faults):
    """The kit's `EmulatorControl`: faults through `FaultyTransport`, the rest on the emulator itself."""

    emulator: HookyEmulator = field(default_factory=HookyEmulator)

    def destination_url(self, label: str) -> str:
        return f"https://receiver.example/{label}"

    def deliver(self, event_type: str) -> None:
        self.emulator.deliver(event_type)

    def advance_clock(self, seconds: float) -> None:
        self.emulator.advance(seconds)


class TestHookyConforms(ProviderConformance):
    create_fields: ClassVar[Mapping[str, Any]] = {"topics": ["order.created", "order.paid"]}
    updates: ClassVar[Mapping[str, Any]] = {"topics": ["order.refunded"]}
    event_types = ("order.created", "order.paid")

    @pytest.fixture
    def emulator(self) -> Control:
        return Control(error_body=lambda message: {"error": message})

    @pytest.fixture
    def provider_factory(self, emulator: Control) -> Callable[[], Provider]:
        def build() -> Provider:
            # The real emulator app behind httpx's ASGI transport, with the kit's faults around it.
            transport = FaultyTransport(httpx.ASGITransport(app=create_app(emulator.emulator)), emulator)
            return HookyClient("shop", scope="hooky:test", base_url=BASE, token=emulator.emulator.token,
                               transport=transport)

        return build
