"""The Amigo provider against the emulator over real HTTP: sign-in, refresh, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from tests.conftest import AmigoServer
from webhookctl import errors
from webhookctl.vendors.amigo.client import AmigoClient

T = TypeVar("T")


def provider(server: AmigoServer, **overrides: str) -> AmigoClient:
    values = {"api_key": server.api_key, "api_key_id": server.api_key_id, "user_id": server.user_id,
              "organization": server.org, **overrides}
    return AmigoClient("prod", scope=f"amigo:{server.url}/{server.org}", base_url=server.url, **values)  # type: ignore[arg-type]


def run(server: AmigoServer, work: Callable[[AmigoClient], Awaitable[T]], **overrides: str) -> T:
    async def main() -> T:
        subject = provider(server, **overrides)
        try:
            return await work(subject)
        finally:
            await subject.aclose()

    return asyncio.run(main())


def test_signs_in_once_and_refreshes_before_expiry(amigo_server: AmigoServer) -> None:
    async def work(subject: AmigoClient) -> None:
        await subject.list()
        await subject.list()
        assert amigo_server.emulator.requests["signin"] == 1
        # The vendor's clock moves to four minutes before expiry (inside the SDKs' five-minute margin).
        # The provider learns the vendor's time from the next answer's Date, then signs in again first.
        amigo_server.control("clock", {"advance_seconds": 3600 - 240})
        await subject.list()
        assert amigo_server.emulator.requests["signin"] == 1
        await subject.list()
        assert amigo_server.emulator.requests["signin"] == 2

    run(amigo_server, work)


def test_a_401_signs_in_again_once(amigo_server: AmigoServer) -> None:
    async def work(subject: AmigoClient) -> None:
        await subject.list()
        # The token is refused (revoked, or the vendor's clock jumped): one new sign-in, then success.
        subject._token = "revoked.token.value"
        assert await subject.list() == []
        assert amigo_server.emulator.requests["signin"] == 2

    run(amigo_server, work)


def test_basic_scheme(amigo_server: AmigoServer) -> None:
    assert run(amigo_server, lambda subject: subject.list(), scheme="basic") == []


@pytest.mark.parametrize("overrides, kind, message", [
    ({"api_key": "wrong"}, errors.AuthError, "API key not found, is incorrect, or the requested user is not found."),
    ({"organization": "nobody"}, errors.NotFoundError, "Specified organization is not found."),
])
def test_errors_are_typed_and_carry_the_vendors_words(amigo_server: AmigoServer, overrides: dict[str, str],
                                                      kind: type[errors.ProviderError], message: str) -> None:
    with pytest.raises(kind) as raised:
        run(amigo_server, lambda subject: subject.list(), **overrides)
    assert str(raised.value) == message
    assert "wrong" not in str(raised.value)


def test_the_cap_and_validation_errors(amigo_server: AmigoServer) -> None:
    async def work(subject: AmigoClient) -> None:
        with pytest.raises(errors.ValidationFailed, match=r"url: URL must be in HTTPS\."):
            await subject.create("http://a.example.com", {"accepted_types": ["api-key-expiration-soon"]})
        for n in range(10):
            await subject.create(f"https://{n}.example.com", {"accepted_types": ["api-key-expiration-soon"]})
        with pytest.raises(errors.LimitError, match="maximum amount of webhook destinations"):
            await subject.create("https://11.example.com", {"accepted_types": ["api-key-expiration-soon"]})

    run(amigo_server, work)


def test_maintenance_that_outlasts_the_retries_is_an_unavailable_error(amigo_server: AmigoServer) -> None:
    amigo_server.control("settings", {"rate_limits": {"signin": 100}})  # about 503s, not the sign-in limit
    amigo_server.control("faults", {"maintenance": True})
    with pytest.raises(errors.UnavailableError, match="temporary maintenance"):
        run(amigo_server, lambda subject: subject.list())
    assert amigo_server.emulator.requests["signin"] == 6  # the first try and five retries
