from __future__ import annotations

import os

# Retry backoff in tests: real waits, a hundredth of the default.
os.environ.setdefault("WEBHOOKCTL_RETRY_BASE_SECONDS", "0.01")

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.servers import serve_app
from tests.support.workspace import Org, Workspace
from webhookctl.emulator.amigo import AmigoEmulator, AmigoSettings, create_app
from webhookctl.emulator.amiqus import AmiqusEmulator, AmiqusSettings
from webhookctl.emulator.amiqus import create_app as amiqus_app

# Before any test module imports it, so the kit's assertions explain themselves.
pytest.register_assert_rewrite("webhookctl.vendors.conformance")


@dataclass
class AmigoServer:
    url: str
    emulator: AmigoEmulator
    org: str = "acme"
    user_id: str = "u-1"
    api_key_id: str = "key-1"
    api_key: str = "key-value-1"

    def control(self, path: str, body: dict[str, object]) -> httpx.Response:
        response = httpx.post(f"{self.url}/_emulator/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response


@pytest.fixture
def amigo_server() -> Iterator[AmigoServer]:
    settings = AmigoSettings(control=True, time_scale=0.01, deliver_plain_http=True)
    emulator = AmigoEmulator(settings)
    server = AmigoServer(url="", emulator=emulator)
    emulator.provision(server.org, server.user_id, server.api_key_id, server.api_key)
    with serve_app(create_app(emulator)) as url:
        server.url = url
        yield server


@pytest.fixture
def workspace(tmp_path: Path, amigo_server: AmigoServer) -> Workspace:
    # A CLI run signs in once; the vendor's 5 sign-ins a minute would throttle a test's dozen runs.
    amigo_server.control("settings", {"rate_limits": {"signin": 1000}})
    account = Org(amigo_server.url, amigo_server.org, amigo_server.user_id, amigo_server.api_key_id,
                  amigo_server.api_key)
    return Workspace(tmp_path, {"prod": account})


@dataclass
class AmiqusServer:
    url: str
    emulator: AmiqusEmulator
    token: str = "token-team-1"
    team: str = "team-1"

    def control(self, path: str, body: dict[str, object]) -> httpx.Response:
        response = httpx.post(f"{self.url}/_emulator/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response


@pytest.fixture
def amiqus_server() -> Iterator[AmiqusServer]:
    # The 2026 schedule (+60 s, +120 s, +600 s, +900 s) at a thousandth of real time.
    settings = AmiqusSettings(control=True, time_scale=0.001, deliver_plain_http=True)
    emulator = AmiqusEmulator(settings)
    server = AmiqusServer(url="", emulator=emulator)
    emulator.add_token(server.token, team=server.team)
    with serve_app(amiqus_app(emulator)) as url:
        server.url = url
        yield server


@pytest.fixture(scope="session")
def bao() -> Iterator[object]:
    from tests.support.backends import openbao

    with openbao() as server:
        yield server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[object]:
    from tests.support.backends import moto

    with moto() as server:
        yield server
