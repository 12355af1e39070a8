"""The provider conformance kit: the tests of `webhookctl.vendors.contract`, for any vendor.

A vendor package proves its provider keeps the contract by subclassing
`ProviderConformance` in its own tests and supplying two fixtures and a few
class attributes:

    from webhookctl.vendors.conformance import ProviderConformance

    class TestAcmeConforms(ProviderConformance):
        create_fields = {"topics": ["order.created", "order.paid"]}
        updates = {"topics": ["order.refunded"]}
        event_types = ("order.created", "order.paid")

        @pytest.fixture
        def emulator(self) -> EmulatorControl: ...         # an account with no destinations

        @pytest.fixture
        def provider_factory(self, emulator) -> Callable[[], Provider]: ...

`provider_factory()` is called inside the test's event loop and returns a fresh
client of that account; `emulator` provokes what the tests need (`EmulatorControl`).
For an httpx-based provider, `Faults` and `FaultyTransport` implement the fault half
of `EmulatorControl` by wrapping the real transport to the real emulator: the
request still reaches it, only the answer is replaced, withheld or annotated.
examples/vendor-plugin/tests/ shows a whole vendor package using the kit.

For readable failures, have pytest rewrite the kit's assertions: in the conftest.py that
runs first, before anything imports this module,
`pytest.register_assert_rewrite("webhookctl.vendors.conformance")`.

Only this module imports pytest; nothing in webhookctl imports this module.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Literal, Protocol, TypeVar

import httpx
import pytest

from webhookctl import errors
from webhookctl.model import Delivery, LiveDestination
from webhookctl.vendors.contract import DeliveryQuery, Provider
from webhookctl.vendors.http import AmbiguousError

T = TypeVar("T")

# What each HTTP status must become (contract.py), and whether it is retried first.
EXPECTED_ERRORS: dict[int, tuple[type[errors.ProviderError], bool]] = {
    400: (errors.LimitError, False),
    401: (errors.AuthError, False),
    403: (errors.ForbiddenError, False),
    404: (errors.NotFoundError, False),
    409: (errors.ConflictError, True),
    422: (errors.ValidationFailed, False),
    429: (errors.RateLimitedError, True),
    503: (errors.UnavailableError, True),
}


class EmulatorControl(Protocol):
    """What the kit asks of the vendor's emulator (or of a wrapper around the way to it)."""

    def destination_url(self, label: str) -> str:
        """A URL the vendor accepts for a destination, distinct per label, whose deliveries succeed."""
        ...

    def fail_requests(self, status: int, message: str, times: int | None = None) -> None:
        """Answer the provider's next `times` requests (all, when None, until `clear_faults`) with
        `status` and an error body carrying `message` as the vendor writes it. A 429 says to retry
        at once (Retry-After: 0)."""
        ...

    def lose_next_answer(self) -> None:
        """Let the provider's next POST (the kit makes it a create) reach the vendor and act, then
        lose its answer: the provider sees the connection drop."""
        ...

    def exhaust_rate_limit(self, reset_in: float) -> None:
        """Make the vendor's next answer say, its own way, that nothing remains in the rate-limit
        window and that the window resets in `reset_in` seconds."""
        ...

    def clear_faults(self) -> None: ...

    def deliver(self, event_type: str) -> None:
        """Have the vendor send one `event_type` delivery to each destination subscribed to it,
        returning once they have settled."""
        ...

    def advance_clock(self, seconds: float) -> None:
        """Move the vendor's clock forward (delivery times, rotation intervals)."""
        ...


# -- a ready-made fault half of EmulatorControl, for providers over httpx ----------------------

RateLimitSignal = Literal["reset-header", "retry-after"]


@dataclass
class Faults:
    """Faults to inject, set from the test and read by `FaultyTransport` in the provider's loop.

    `error_body(message)` writes an error the vendor's way, e.g. `{"detail": message}`.
    `rate_limit_signal` is how the vendor says nothing remains: X-RateLimit-Remaining: 0 with
    X-RateLimit-Reset (epoch seconds), or a 429 with Retry-After.
    """

    error_body: Callable[[str], Any]
    rate_limit_signal: RateLimitSignal = "reset-header"
    status: int | None = None
    message: str = ""
    times: int | None = None
    lose_next: bool = False
    exhaust_in: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail_requests(self, status: int, message: str, times: int | None = None) -> None:
        with self.lock:
            self.status, self.message, self.times = status, message, times

    def lose_next_answer(self) -> None:
        with self.lock:
            self.lose_next = True

    def exhaust_rate_limit(self, reset_in: float) -> None:
        with self.lock:
            self.exhaust_in = reset_in

    def clear_faults(self) -> None:
        with self.lock:
            self.status, self.times, self.lose_next, self.exhaust_in = None, None, False, None

    def _take_failure(self) -> tuple[int, str] | None:
        with self.lock:
            if self.status is None:
                return None
            failure = (self.status, self.message)
            if self.times is not None:
                self.times -= 1
                if self.times <= 0:
                    self.status, self.times = None, None
            return failure

    def _take(self, name: Literal["lose_next", "exhaust_in"]) -> Any:
        with self.lock:
            value = getattr(self, name)
            setattr(self, name, False if name == "lose_next" else None)
            return value


class FaultyTransport(httpx.AsyncBaseTransport):
    """A real transport to the real emulator, with `Faults` applied to the answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport, faults: Faults) -> None:
        self.inner = inner
        self.faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        failure = self.faults._take_failure()
        if failure is not None:
            status, message = failure
            headers = {"retry-after": "0"} if status == 429 else {}
            return httpx.Response(status, json=self.faults.error_body(message), headers=headers, request=request)
        lose = request.method == "POST" and self.faults._take("lose_next")
        response = await self.inner.handle_async_request(request)
        if lose:
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("the connection dropped before the answer arrived", request=request)
        reset_in = self.faults._take("exhaust_in")
        if reset_in is None:
            return response
        body = await response.aread()
        said = httpx.Headers(response.headers)
        # The body is decoded and may be replaced: let httpx frame it anew.
        for framing in ("content-encoding", "content-length", "transfer-encoding"):
            said.pop(framing, None)
        if self.faults.rate_limit_signal == "retry-after":
            said["retry-after"] = str(reset_in)
            return httpx.Response(429, json=self.faults.error_body("Too Many Attempts."), headers=said,
                                  request=request)
        said["x-ratelimit-remaining"] = "0"
        said["x-ratelimit-reset"] = str(time.time() + reset_in)
        return httpx.Response(response.status_code, content=body, headers=said, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


# -- the contract tests --------------------------------------------------------------------------

@dataclass
class Heard:
    """What a provider announced: rate-limit waits and retries."""

    waits: list[tuple[str, float]] = field(default_factory=list)
    retries: list[tuple[str, str, int, float]] = field(default_factory=list)


def _comparable(value: Any, as_set: bool) -> Any:
    return sorted(value) if as_set and isinstance(value, list | tuple | set | frozenset) else value


class ProviderConformance:
    """Contract tests every provider passes. Subclass it (name it `Test...`) and supply:

    - fixture `emulator` -> `EmulatorControl` for an account with no destinations;
    - fixture `provider_factory` -> `Callable[[], Provider]` for that account;
    - `create_fields`: vendor fields for `create()`, subscribed to both `event_types`;
    - `updates`: a new value for every updatable field but `url` (the kit moves the URL itself);
    - `event_types`: two delivery types the vendor can send.

    Providers pacing or retrying with `webhookctl.vendors.http` wait `WEBHOOKCTL_RETRY_BASE_SECONDS`
    between retries; the kit sets it to 0.01 s for its tests.
    """

    create_fields: ClassVar[Mapping[str, Any]]
    updates: ClassVar[Mapping[str, Any]]
    event_types: ClassVar[tuple[str, str]]

    @pytest.fixture(autouse=True)
    def _quick_retries(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WEBHOOKCTL_RETRY_BASE_SECONDS", "0.01")

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def drive(factory: Callable[[], Provider], work: Callable[[Provider, Heard], Awaitable[T]]) -> T:
        """Run `work` with a fresh provider in a fresh event loop, listening to what it announces."""

        async def main() -> T:
            provider = factory()
            heard = Heard()
            provider.on_rate_wait(lambda endpoint, seconds: heard.waits.append((endpoint, seconds)))
            provider.on_retry(lambda *event: heard.retries.append(event))
            try:
                return await work(provider, heard)
            finally:
                await provider.aclose()

        return asyncio.run(main())

    def assert_fields(self, provider: Provider, live: LiveDestination, expected: Mapping[str, Any]) -> None:
        for name, value in expected.items():
            as_set = name in provider.capabilities.set_fields
            assert name in live.fields, f"list() does not show field {name!r}"
            assert _comparable(live.fields[name], as_set) == _comparable(value, as_set), (
                f"field {name!r}: listed {live.fields[name]!r}, expected {value!r}")

    @staticmethod
    def only(found: list[LiveDestination], destination_id: str) -> LiveDestination:
        matches = [d for d in found if d.id == destination_id]
        assert len(matches) == 1, f"list() shows {destination_id!r} {len(matches)} times"
        return matches[0]

    @staticmethod
    async def collect(provider: Provider, destination_id: str, query: DeliveryQuery) -> list[Delivery]:
        return [delivery async for delivery in provider.deliveries(destination_id, query)]

    # -- list and create ---------------------------------------------------------------------------

    def test_list_shows_every_destination_with_its_fields(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            assert await provider.list() == [], "the account should start empty"
            first = await provider.create(emulator.destination_url("first"), self.create_fields)
            second = await provider.create(emulator.destination_url("second"), self.create_fields)
            assert first.destination_id != second.destination_id
            found = await provider.list()
            assert sorted(d.id for d in found) == sorted([first.destination_id, second.destination_id])
            for issued, label in ((first, "first"), (second, "second")):
                live = self.only(found, issued.destination_id)
                assert live.url == emulator.destination_url(label)
                self.assert_fields(provider, live, self.create_fields)

        self.drive(provider_factory, work)

    def test_create_issues_the_secret_as_the_capabilities_say(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            issued = await provider.create(emulator.destination_url("orders"), self.create_fields)
            live = self.only(await provider.list(), issued.destination_id)
            if provider.capabilities.secret_readable:
                assert live.secret is not None, "secret_readable, but list() shows no secret"
                if issued.secret is not None:
                    assert issued.secret == live.secret
            else:
                # Shown once or never: create is the only moment webhookctl can learn it.
                assert issued.secret is not None, "the secret is not readable later, so create() must issue it"
                assert issued.secret.reveal(), "an empty secret"
                assert live.secret is None, "secret_readable is false, but list() shows a secret"

        self.drive(provider_factory, work)

    # -- update and delete ---------------------------------------------------------------------------

    def test_update_changes_only_the_fields_given(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            updatable = provider.capabilities.updatable_fields
            assert set(self.updates) == updatable - {"url"}, "`updates` must give every updatable field but url"
            issued = await provider.create(emulator.destination_url("orders"), self.create_fields)
            expected = dict(self.create_fields)
            for name, value in self.updates.items():
                await provider.update(issued.destination_id, {name: value})
                expected[name] = value
                self.assert_fields(provider, self.only(await provider.list(), issued.destination_id), expected)
            if "url" in updatable:
                moved = emulator.destination_url("moved")
                await provider.update(issued.destination_id, {"url": moved})
                live = self.only(await provider.list(), issued.destination_id)
                assert live.url == moved
                self.assert_fields(provider, live, expected)

        self.drive(provider_factory, work)

    def test_delete_removes_and_deleting_again_succeeds(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            kept = await provider.create(emulator.destination_url("kept"), self.create_fields)
            gone = await provider.create(emulator.destination_url("gone"), self.create_fields)
            await provider.delete(gone.destination_id)
            assert [d.id for d in await provider.list()] == [kept.destination_id]
            await provider.delete(gone.destination_id)  # already gone: the goal holds
            assert [d.id for d in await provider.list()] == [kept.destination_id]

        self.drive(provider_factory, work)

    # -- rotation --------------------------------------------------------------------------------------

    def test_rotate_or_its_absence(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            capabilities = provider.capabilities
            issued = await provider.create(emulator.destination_url("orders"), self.create_fields)
            if not capabilities.can_rotate:
                with pytest.raises(errors.ProviderError):
                    await provider.rotate(issued.destination_id)
                return
            before = self.only(await provider.list(), issued.destination_id)
            rotated = await provider.rotate(issued.destination_id)
            assert rotated.destination_id == issued.destination_id
            assert rotated.secret is not None and rotated.secret.reveal(), "rotate() must issue the new secret"
            assert rotated.secret != issued.secret
            if capabilities.dual_signing_window is not None:
                assert rotated.dual_signing_stops_at is not None, "a dual-signing vendor says when it stops"
                assert rotated.dual_signing_stops_at > provider.vendor_now() - timedelta(seconds=5)
            after = self.only(await provider.list(), issued.destination_id)
            if capabilities.secret_readable:
                assert after.secret == rotated.secret
            if before.secret_generated_at is not None:
                assert after.secret_generated_at is not None
                assert after.secret_generated_at >= before.secret_generated_at
            if capabilities.rotation_min_interval is not None:
                with pytest.raises(errors.LimitError):
                    await provider.rotate(issued.destination_id)
                emulator.advance_clock(capabilities.rotation_min_interval.total_seconds() + 60)
                again = await provider.rotate(issued.destination_id)
                assert again.secret is not None and again.secret != rotated.secret

        self.drive(provider_factory, work)

    # -- deliveries ------------------------------------------------------------------------------------

    def test_deliveries_honour_the_query(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        first_type, second_type = self.event_types

        async def work(provider: Provider, heard: Heard) -> None:
            issued = await provider.create(emulator.destination_url("orders"), self.create_fields)
            hook = issued.destination_id
            emulator.deliver(first_type)
            # An hour apart on the vendor's clock, so since/until and sorting have something to cut.
            emulator.advance_clock(3600)
            emulator.deliver(second_type)
            every = await self.collect(provider, hook, DeliveryQuery())
            assert sorted(d.type for d in every) == sorted([first_type, second_type])
            assert {d.status for d in every} == {"success"}
            early, late = sorted(every, key=lambda d: d.created_at)
            assert late.created_at - early.created_at >= timedelta(minutes=30)

            assert [d.type for d in await self.collect(provider, hook, DeliveryQuery(type=second_type))] == [
                second_type]
            assert len(await self.collect(provider, hook, DeliveryQuery(status="success"))) == 2
            assert await self.collect(provider, hook, DeliveryQuery(status="failed")) == []
            middle = early.created_at + (late.created_at - early.created_at) / 2
            assert [d.id for d in await self.collect(provider, hook, DeliveryQuery(since=middle))] == [late.id]
            assert [d.id for d in await self.collect(provider, hook, DeliveryQuery(until=middle))] == [early.id]
            assert len(await self.collect(provider, hook, DeliveryQuery(limit=1))) == 1
            if provider.capabilities.server_side_delivery_filters:
                # Only a vendor that sorts is asked to; otherwise the caller sorts what it read.
                newest = await self.collect(provider, hook, DeliveryQuery(sort=("-created_at",)))
                oldest = await self.collect(provider, hook, DeliveryQuery(sort=("created_at",)))
                assert [d.id for d in newest] == [late.id, early.id]
                assert [d.id for d in oldest] == [early.id, late.id]

        self.drive(provider_factory, work)

    # -- errors, pacing, ambiguity ---------------------------------------------------------------------

    def test_error_statuses_become_typed_errors(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            await provider.list()  # signed in, if the vendor signs in
            for status, (kind, retried) in EXPECTED_ERRORS.items():
                message = f"conformance refusal {status}"
                heard.retries.clear()
                emulator.fail_requests(status, message)
                try:
                    with pytest.raises(errors.ProviderError) as raised:
                        await provider.list()
                finally:
                    emulator.clear_faults()
                assert type(raised.value) is kind, (
                    f"HTTP {status} became {type(raised.value).__name__}, expected {kind.__name__}")
                assert message in str(raised.value), f"HTTP {status}: the error carries the vendor's own words"
                assert raised.value.status == status
                if retried:
                    assert heard.retries, f"HTTP {status} is transient and must be retried (announced by on_retry)"
                else:
                    assert not heard.retries, f"HTTP {status} is final and must not be retried"

        self.drive(provider_factory, work)

    def test_a_transient_failure_is_retried_to_success(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            issued = await provider.create(emulator.destination_url("orders"), self.create_fields)
            emulator.fail_requests(503, "down for maintenance", times=2)
            assert [d.id for d in await provider.list()] == [issued.destination_id]
            assert len(heard.retries) == 2

        self.drive(provider_factory, work)

    def test_rate_limit_headers_are_honoured(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            await provider.list()
            assert heard.waits == []
            emulator.exhaust_rate_limit(0.3)
            await provider.list()
            await provider.list()
            assert heard.waits, "the vendor said nothing remains; the provider must wait (announced by on_rate_wait)"
            assert all(seconds > 0 for _, seconds in heard.waits)

        self.drive(provider_factory, work)

    def test_an_ambiguous_create_is_found_not_repeated(
        self, provider_factory: Callable[[], Provider], emulator: EmulatorControl
    ) -> None:
        async def work(provider: Provider, heard: Heard) -> None:
            url = emulator.destination_url("orders")
            await provider.list()  # signed in, if the vendor signs in: the next POST is the create
            emulator.lose_next_answer()
            try:
                issued = await provider.create(url, self.create_fields)
            except AmbiguousError as error:
                raise AssertionError(f"the create landed, so it must be found by URL: {error}") from None
            found = [d for d in await provider.list() if d.url == url]
            assert [d.id for d in found] == [issued.destination_id], "created twice, or not found"
            if issued.secret is not None:
                # The secret went with the lost answer; only a readable one can be given back.
                assert provider.capabilities.secret_readable and issued.secret == found[0].secret

        self.drive(provider_factory, work)

