"""A lean HTTP/1.1 transport for httpx: asyncio protocols, `vendors.http11` for the wire, a keep-alive pool.

Why not httpx's own transport (httpcore on anyio): a run of a thousand accounts makes thousands
of small requests, and httpcore's layers cost about twice the CPU of the exchange itself (anyio
task lookups and cancel scopes per read and write, a `getpeername` on every pooled connection
before every request). Nor asyncio's streams and h11 (the previous version of this module): their
wake-ups, per-read timeouts and protocol state machine still cost about as much as the exchange.
Here a connection is an `asyncio.Protocol` that feeds the bytes it receives to the response's
reader and wakes the waiting request once, when the response is whole: one write and one wake-up
per request in the common case. It is what the vendors' APIs need and no more:

- HTTP/1.1 only, plain or TLS (the caller's `ssl.SSLContext`, SNI by host name);
- a connection goes back to the pool only when its response was read whole, the server keeps it
  alive and sent nothing more; a pooled connection whose server has since closed it is dropped
  before use (the event loop saw the FIN while it sat idle: no system call is needed to check);
- httpx's timeouts are honoured (`connect`; `write` while the socket will not take the request;
  `read` as the longest wait for the next bytes); errors are httpx's (`ConnectError`,
  `ReadTimeout`, `RemoteProtocolError`, ...), with short causes;
- a request cancelled or failed midway closes its connection: it is never reused half-read.

Proxies are not spoken here: `vendors.http.new_transport` picks httpx's own transport for a URL the
environment routes through a proxy. Responses are buffered (the APIs answer small JSON bodies);
httpx decodes any content encoding when the body is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import Iterator, Mapping

import httpx

from webhookctl.vendors.http11 import (
    Head,
    Headers,
    ProtocolError,
    ResponseReader,
    check_headers,
    request_bytes,
)

Origin = tuple[str, str, int]  # scheme, host, port
# Idle connections kept per host; more than the run's parallelism is never useful.
MAX_IDLE = 32
# An idle connection older than this is closed, not reused: below the shortest keep-alive timeouts
# servers use (5 s: uvicorn, Node), so the client lets go first. A server closing a connection just
# as a request goes out on it would fail that request, and a create cannot be retried blindly.
KEEPALIVE_EXPIRY = 4.0


def _cause(error: BaseException) -> str:
    """A short cause ("Connection refused"), without asyncio's address list or errno prefix."""
    if isinstance(error, socket.gaierror):
        return str(error.strerror)  # the resolver's own words ("Name or service not known")
    if isinstance(error, OSError) and error.errno is not None and not isinstance(error, ssl.SSLError):
        return os.strerror(error.errno)
    return str(error) or type(error).__name__


class _Connection(asyncio.Protocol):
    """One connection to a server. While a request waits, the bytes that arrive go to its response's
    reader, and the request's future is resolved once: when the response is whole, or failed."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost = False  # the server closed its side, or the connection is gone
        self.idle_since = 0.0  # the event loop's clock when it went back to the pool
        self._reader: ResponseReader | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._writable: asyncio.Future[None] | None = None  # set while the socket will not take more
        self._clean = True  # nothing arrived that no request asked for

    def usable(self, now: float) -> bool:
        """Idle, not for too long, and neither side has closed it (the event loop saw any FIN while it
        sat in the pool)."""
        return (self._reader is None and self._clean and not self.lost and now - self.idle_since < KEEPALIVE_EXPIRY
                and self.transport is not None and not self.transport.is_closing())

    def close(self) -> None:
        self._finish(None)
        self._reader = None
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, data: bytes, reader: ResponseReader, write_timeout: float | None,
                       read_timeout: float | None) -> None:
        """Send one request and wait until `reader` holds its whole response."""
        assert self.transport is not None and self._reader is None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._reader, self._waiter, self._read_timeout = reader, waiter, read_timeout
        try:
            self.transport.write(data)
            if self._writable is not None:  # the socket did not take it all at once
                try:
                    async with asyncio.timeout(write_timeout):
                        await self._writable
                except TimeoutError as error:
                    raise httpx.WriteTimeout("timed out") from error
            if not waiter.done():
                if read_timeout is not None:
                    self._timer = loop.call_later(read_timeout, self._timed_out)
                await waiter
            else:
                waiter.result()
        finally:
            if waiter.done() and not waiter.cancelled():
                waiter.exception()  # seen, whichever failure is raised (no "never retrieved" warning)
            self._reader = None

    def _finish(self, error: BaseException | None) -> None:
        waiter, self._waiter = self._waiter, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)

    def _timed_out(self) -> None:
        self._timer = None
        self._finish(httpx.ReadTimeout("timed out"))

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        if reader is None or self._waiter is None:
            self._clean = False  # bytes no request asked for: the connection is not reused
            return
        try:
            whole = reader.feed(data)
        except ProtocolError as error:
            self._finish(httpx.RemoteProtocolError(str(error)))
            return
        if whole:
            self._finish(None)
        elif self._timer is not None and self._read_timeout is not None:  # the read timeout is per wait
            self._timer.cancel()
            self._timer = asyncio.get_running_loop().call_later(self._read_timeout, self._timed_out)

    def eof_received(self) -> bool:
        self.lost = True
        self._ended(None)
        return False  # the event loop closes the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.closed.done():
            self.closed.set_result(None)
        self._ended(exc)
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_exception(httpx.WriteError(_cause(exc) if exc else "connection closed"))

    def _ended(self, exc: Exception | None) -> None:
        """The server's side ended while a response may be awaited: the end of a body framed by the
        close, or the failure of the exchange."""
        if self._reader is None or self._waiter is None or self._waiter.done():
            return
        if exc is not None:
            self._finish(httpx.ReadError(_cause(exc)))
            return
        try:
            self._reader.feed_eof()
        except ProtocolError as error:
            self._finish(httpx.RemoteProtocolError(str(error)))
        else:
            self._finish(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)


@contextlib.contextmanager
def _connect_errors() -> Iterator[None]:
    try:
        yield
    except TimeoutError as error:
        raise httpx.ConnectTimeout("timed out") from error
    except OSError as error:
        raise httpx.ConnectError(_cause(error)) from error


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio protocols, with one keep-alive pool per (scheme, host, port)."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self.connections_opened = 0

    async def _connect(self, scheme: str, host: str, port: int, timeout: float | None) -> _Connection:
        with _connect_errors():
            async with asyncio.timeout(timeout):
                _, connection = await asyncio.get_running_loop().create_connection(
                    _Connection, host, port, ssl=self._ssl if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None)
        self.connections_opened += 1
        return connection

    async def _acquire(self, key: Origin, timeout: float | None) -> _Connection:
        idle, now = self._idle.get(key), asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return await self._connect(*key, timeout)

    def _release(self, key: Origin, connection: _Connection, reader: ResponseReader) -> None:
        connection.idle_since = asyncio.get_running_loop().time()
        if reader.reusable and connection.usable(connection.idle_since):
            idle = self._idle.setdefault(key, [])
            if len(idle) < MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        body = await request.aread()
        if request.headers.get("transfer-encoding", "").lower() == "chunked":  # a streamed body, read whole
            body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        method, headers = request.method.encode("ascii"), request.headers.raw
        try:
            check_headers(method, url.raw_path, headers)
        except ProtocolError as error:
            raise httpx.LocalProtocolError(str(error)) from error
        head, content = await self.send(origin, method, url.raw_path, headers, body,
                                        request.extensions.get("timeout", {}))
        return httpx.Response(head.status_code, headers=head.headers, stream=httpx.ByteStream(content),
                              extensions={"http_version": b"HTTP/" + head.version, "reason_phrase": head.reason})

    async def send(self, origin: Origin, method: bytes, target: bytes, headers: Headers,
                   body: bytes, timeouts: Mapping[str, float | None]) -> tuple[Head, bytes]:
        """One exchange with `origin` (scheme, host, port): the response's head and its whole body.

        For a caller that knows the wire already (`vendors.http.ApiClient`): no `httpx.Request` to
        build and parse again. `headers` must include Host and the body's Content-Length, and hold
        nothing HTTP cannot carry (`http11.check_headers`): they are written as they are."""
        connection = await self._acquire(origin, timeouts.get("connect"))
        reader = ResponseReader(head_request=method == b"HEAD")
        try:
            await connection.exchange(request_bytes(method, target, headers, body), reader,
                                      timeouts.get("write"), timeouts.get("read"))
        except BaseException:
            connection.close()  # half-sent or half-read: never reused
            raise
        self._release(origin, connection, reader)
        assert reader.head is not None  # a whole response has its head
        return reader.head, reader.body

    async def aclose(self) -> None:
        idle, self._idle = [c for pool in self._idle.values() for c in pool], {}
        for connection in idle:
            connection.close()
        if idle:  # until the sockets are closed (a TLS connection says goodbye first), within reason
            await asyncio.wait([connection.closed for connection in idle], timeout=5)
