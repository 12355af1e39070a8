"""The HTTP client under every provider: pacing, retries, and typed errors."""

from __future__ import annotations

import asyncio
import functools
import json as jsonlib
import logging
import os
import random
import ssl
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from webhookctl import __version__, errors
from webhookctl.vendors.http11 import Head
from webhookctl.vendors.ratelimit import Pacer
from webhookctl.vendors.transport import Http11Transport, Origin
from webhookctl.vendors.vendor import SharedClients

T = TypeVar("T")

STATUS_ERRORS: dict[int, type[errors.ProviderError]] = {
    400: errors.LimitError,
    401: errors.AuthError,
    403: errors.ForbiddenError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.ValidationFailed,
    429: errors.RateLimitedError,
    503: errors.UnavailableError,
}
RETRIED = {409, 429, 503}
# `--debug` / WEBHOOKCTL_DEBUG=1: one line per request (method, path, status, time); never headers or bodies.
log = logging.getLogger("webhookctl.http")


def transport_cause(error: httpx.TransportError) -> str:
    """What went wrong on the wire ("connection refused"), without the errno noise."""
    text = str(error).strip()
    if text.startswith("[Errno") and "]" in text:
        text = text.split("]", 1)[1].strip()
    return text[:1].lower() + text[1:] if text else type(error).__name__


class AmbiguousError(errors.TransportError):
    """The request may or may not have reached the vendor."""


# After an ambiguous create, how long to wait before each look for what it may have made.
RECHECK_DELAYS = (0.5, 1.0, 2.0, 4.0)


async def find_after_ambiguous(lookup: Callable[[], Awaitable[T | None]], failure: AmbiguousError) -> T:
    """Look for what an ambiguous create may have made; never create again in this run.

    A vendor may still be working on the request when the client gives up, so look a
    few times. If it never shows, fail this operation: the next run adopts the
    destination if the create did land, or creates it if it did not.
    """
    for delay in (0.0, *RECHECK_DELAYS):
        await asyncio.sleep(delay)
        found = await lookup()
        if found is not None:
            return found
    raise AmbiguousError(f"{failure}; it was not found afterwards, so it is not retried in this run "
                         "(the next run adopts it if it landed)")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = field(default_factory=lambda: float(os.environ.get("WEBHOOKCTL_RETRY_BASE_SECONDS", "0.5")))
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def vendor_message(response: httpx.Response) -> str:
    """The vendor's own error text (`detail`, `message` or `error`), never the request."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("detail", "message", "error", "errors"):
            value = body.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, list) and value:
                return "; ".join(_describe(item) for item in value)
        fields = [f"{k}: {'; '.join(map(str, v))}" for k, v in body.items() if isinstance(v, list)]
        if fields:
            return "; ".join(fields)
    return response.reason_phrase or f"HTTP {response.status_code}"


def _describe(item: Any) -> str:
    if isinstance(item, dict) and "msg" in item:
        location = ".".join(str(part) for part in item.get("loc", [])[1:])
        return f"{location}: {item['msg']}" if location else str(item["msg"])
    return str(item)


DEFAULT_HEADERS = {"user-agent": f"webhookctl/{__version__}", "accept": "application/json"}
DEFAULT_WIRE_HEADERS = [(k.encode(), v.encode()) for k, v in DEFAULT_HEADERS.items()]
# What httpx leaves unescaped in a path (the WHATWG path set); a path holding a query, a fragment, an
# escape of its own or a dot segment (httpx resolves those) goes the general way, so that httpx's
# reading of it stays the one used.
PATH_SAFE = "".join(chr(i) for i in range(0x21, 0x7F) if chr(i) not in '"#<>?`{}%')
UNSAFE_IN_PATH = frozenset("?#%")
Wire = tuple[Origin, bytes, bytes]  # the lean transport's origin, the Host header, the base path


def _wire(prefix: str) -> Wire | None:
    url = httpx.URL(prefix)
    if url.query or url.fragment or url.scheme not in ("http", "https"):
        return None
    return (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)), url.netloc, url.raw_path


class Answer(httpx.Response):
    """A response from the lean transport's direct path: its `request` is built when asked for."""

    def __init__(self, *args: Any, build_request: Callable[[], httpx.Request], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._build_request = build_request

    @classmethod
    def of(cls, head: Head, content: bytes, build_request: Callable[[], httpx.Request]) -> Answer:
        """The response to `head` with its whole body `content`, as httpx would read it.

        A body without a content coding is the content as it is: it is set as what `read()` would
        store, since reading it through httpx's decoders and chunkers cost ~5x the rest of building
        the response. A coded body (gzip, ...) is read by httpx, which undoes the coding."""
        extensions = {"http_version": b"HTTP/" + head.version, "reason_phrase": head.reason}
        if any(name.lower() == b"content-encoding" for name, _ in head.headers):
            return cls(head.status_code, headers=head.headers, content=content, extensions=extensions,
                       build_request=build_request)
        answer = cls(head.status_code, headers=head.headers, stream=httpx.ByteStream(content), extensions=extensions,
                     build_request=build_request)
        answer._content = content
        return answer

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            self._request = self._build_request()
        return self._request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~30 ms; every account's client shares one context.
    return ssl.create_default_context()


@functools.cache
def _environment_proxies() -> dict[str, str]:
    # Read once: it scans the whole environment, and a run of many accounts (each with its own
    # credentials variable) builds a client per account.
    return urllib.request.getproxies_environment()


def proxied(base_url: str) -> str | None:
    """The proxy the environment routes `base_url` through (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY), if any."""
    url = urllib.parse.urlsplit(base_url)
    proxies = _environment_proxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass_environment(url.hostname or "", proxies):  # type: ignore[attr-defined]
        return None
    return proxy


def new_transport(base_url: str) -> httpx.AsyncBaseTransport:
    """The lean HTTP/1.1 transport, or httpx's own where a proxy is in the way (it speaks to proxies)."""
    proxy = proxied(base_url)
    if proxy is not None:
        return httpx.AsyncHTTPTransport(verify=_tls_context(), proxy=proxy)
    return Http11Transport(_tls_context())


class ApiClient:
    """Requests to one vendor base URL, straight through an httpx transport.

    Not through `httpx.AsyncClient`: its per-request layers (URL and header merging, cookies, auth
    and redirect flows, event hooks) cost about as much CPU as the exchange itself, and a vendor API
    needs none of them (no cookies, no redirects followed). What remains is what the client did for
    us: the base URL joined as httpx joins it, default headers, the timeout, and the body read.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        pool: SharedClients | None = None,
    ) -> None:
        # One transport (one connection pool) for every account of a run that reaches the same
        # servers: building one per account cost CPU and a connection each. It holds no account's
        # state (credentials go in each request's headers; pacing and the vendor's clock stay here).
        # A transport passed in (the embedded emulator's, a test's) is this client's own, never shared.
        # With a pool, the pool's owner (the session) closes the transport; without, `aclose` does.
        self._owned = pool is None
        if transport is None:
            key = ("transport", proxied(base_url))
            transport = new_transport(base_url) if pool is None else pool.get(key, lambda: new_transport(base_url))
        elif pool is not None:
            pool.get(("transport", transport), lambda: transport)
        self._transport = transport
        # httpx joins a base URL and a relative path as base path (with a trailing slash) + path.
        self._prefix = str(httpx.URL(base_url)).rstrip("/") + "/"
        self._wire = _wire(self._prefix) if isinstance(transport, Http11Transport) else None
        self._timeout = httpx.Timeout(timeout).as_dict()
        self.retry = retry or RetryPolicy()
        self.pacer = pacer or Pacer()
        self.calls: Counter[str] = Counter()
        # Vendor clock minus ours, from the last Date header (rotation windows are the vendor's time).
        self.clock_skew = 0.0
        self._date: tuple[str, float] = ("", 0.0)  # the last Date header, and its time
        self.on_retry: Callable[[str, str, int, float], None] | None = None

    async def aclose(self) -> None:
        if self._owned:
            await self._transport.aclose()

    async def _send(self, method: str, path: str, json: Any, params: Any,
                    headers: Mapping[str, str] | None) -> httpx.Response:
        if self._wire is not None and not UNSAFE_IN_PATH.intersection(path) and "/." not in path:
            return await self._send_wire(self._wire, method, path, json, params, headers)
        request = self._request(method, path, json, params, headers)
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    def _request(self, method: str, path: str, json: Any, params: Any,
                 headers: Mapping[str, str] | None) -> httpx.Request:
        return httpx.Request(method, self._prefix + path.lstrip("/"), params=params, json=json,
                             headers={**DEFAULT_HEADERS, **headers} if headers else DEFAULT_HEADERS,
                             extensions={"timeout": self._timeout})

    async def _send_wire(self, wire: Wire, method: str, path: str, json: Any, params: Any,
                         headers: Mapping[str, str] | None) -> httpx.Response:
        """The same request as `_request` builds, written for the lean transport directly: an
        `httpx.Request` parses its URL and normalises its headers again, ~7% of apply's CPU."""
        origin, host, prefix = wire
        target = prefix + urllib.parse.quote(path.lstrip("/"), safe=PATH_SAFE).encode("ascii")
        if params:
            target += b"?" + str(httpx.QueryParams(params)).encode("ascii")
        wire_headers = [(b"Host", host)]
        if json is None and method in ("POST", "PUT", "PATCH"):
            wire_headers.append((b"Content-Length", b"0"))  # as httpx says it (some servers require it)
        wire_headers += DEFAULT_WIRE_HEADERS
        wire_headers += [(k.encode("ascii"), v.encode("ascii")) for k, v in (headers or {}).items()]
        body = b""
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
            wire_headers += [(b"Content-Length", str(len(body)).encode()), (b"Content-Type", b"application/json")]
        assert isinstance(self._transport, Http11Transport)
        head, content = await self._transport.send(origin, method.encode("ascii"), target, wire_headers, body,
                                                   self._timeout)
        return Answer.of(head, content, functools.partial(self._request, method, path, json, params, headers))

    def _observe_date(self, response: httpx.Response) -> None:
        value = response.headers.get("date")
        if not value:
            return
        # Dates have whole seconds, so most answers repeat the last one: parse each text once.
        if value != self._date[0]:
            try:
                self._date = (value, parsedate_to_datetime(value).timestamp())
            except (TypeError, ValueError):
                return
        self.clock_skew = self._date[1] - time.time()

    def vendor_now(self) -> datetime:
        # Date has whole seconds; below that, skew is noise.
        skew = self.clock_skew if abs(self.clock_skew) >= 2 else 0.0
        return datetime.fromtimestamp(time.time() + skew, tz=UTC)

    async def request(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send, pacing per endpoint; retry 409/429/503 and (when idempotent) transport errors."""
        for name, value in (headers or {}).items():
            # A credential from the environment with a line break (or anything HTTP cannot carry) would
            # fail deep in the HTTP stack, its value in the message: say which header, never the value.
            if not (value.isascii() and value.isprintable()):
                raise errors.ProviderError(f"{method} {endpoint}: the {name} header would hold a line break, a "
                                           "control or a non-ASCII character, which HTTP cannot carry; check the "
                                           "credentials in the configuration")
        attempt = 0
        while True:
            async with self.pacer.slot(endpoint) as bucket:
                self.calls[endpoint] += 1
                response: httpx.Response | None = None
                started = time.monotonic()
                try:
                    answer = await self._send(method, path, json, params, headers)
                except httpx.TransportError as error:
                    cause = transport_cause(error)
                    log.debug("%s %s -> %s (%.0f ms)", method, path, cause, (time.monotonic() - started) * 1000)
                    failure: errors.ProviderError = (
                        errors.TransportError(f"{method} {endpoint}: {cause}")
                        if idempotent
                        else AmbiguousError(f"{method} {endpoint}: {cause}; the vendor may have acted")
                    )
                else:
                    log.debug("%s %s -> %d (%.0f ms)", method, path, answer.status_code,
                              (time.monotonic() - started) * 1000)
                    bucket.observe(answer, self.pacer.now())
                    self._observe_date(answer)
                    response = answer
            if response is not None and response.status_code < 400:
                return response
            if response is not None:
                failure = STATUS_ERRORS.get(response.status_code, errors.ProviderError)(
                    vendor_message(response), response.status_code
                )
                retryable = response.status_code in RETRIED
            else:
                retryable = idempotent
            attempt += 1
            if not retryable or attempt >= self.retry.attempts:
                raise failure
            # A 429 waits in the pacer, for as long as the vendor's Retry-After says.
            delay = 0.0 if response is not None and response.status_code == 429 else self.retry.delay(attempt - 1)
            if self.on_retry:
                status = f"{response.status_code} " if response is not None else ""
                self.on_retry(endpoint, f"{status}{failure}", attempt, delay)
            if delay:
                await asyncio.sleep(delay)


class ApiBacked:
    """What every provider over an `ApiClient` shares: closing, the vendor's clock, rate-limit waits."""

    api: ApiClient

    async def aclose(self) -> None:
        await self.api.aclose()

    def vendor_now(self) -> datetime:
        return self.api.vendor_now()

    def on_rate_wait(self, listener: Callable[[str, float], None]) -> None:
        self.api.pacer.on_wait = listener

    def on_retry(self, listener: Callable[[str, str, int, float], None]) -> None:
        self.api.on_retry = listener
