"""A lean HTTP/1.1 transport for httpx: asyncio streams, h11 for the protocol, a keep-alive pool.

Why not httpx's own transport (httpcore on anyio): a run of a thousand accounts makes thousands
of small requests, and httpcore's layers cost about twice the CPU of the exchange itself (anyio
task lookups and cancel scopes per read and write, a `getpeername` on every pooled connection
before every request). This transport does one connect per connection, one write per request and
reads until h11 has the whole response; it is what the vendors' APIs need and no more:

- HTTP/1.1 only, plain or TLS (the caller's `ssl.SSLContext`, SNI by host name);
- a connection goes back to the pool only when h11 says the exchange finished cleanly and the
  server did not close it; a pooled connection whose server has since closed it is dropped
  before use (asyncio noticed the FIN while it sat idle: no system call is needed to check);
- httpx's timeouts are honoured (`connect`, and `read`/`write` per operation); errors are
  httpx's (`ConnectError`, `ReadTimeout`, `RemoteProtocolError`, ...), with short causes;
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
from dataclasses import dataclass

import h11
import httpx

_READ_SIZE = 65536
Origin = tuple[str, str, int]  # scheme, host, port
# Idle connections kept per host; more than the run's parallelism is never useful.
MAX_IDLE = 32
# An idle connection older than this is closed, not reused: below the shortest keep-alive timeouts
# servers use (5 s: uvicorn, Node), so the client lets go first. A server closing a connection just
# as a request goes out on it would fail that request, and a create cannot be retried blindly.
KEEPALIVE_EXPIRY = 4.0


@dataclass(eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    protocol: h11.Connection
    idle_since: float = 0.0  # the event loop's clock when it went back to the pool

    def usable(self, now: float) -> bool:
        """Idle, not for too long, and neither side has closed it (asyncio saw any FIN while it sat in
        the pool)."""
        return (self.protocol.our_state is h11.IDLE and now - self.idle_since < KEEPALIVE_EXPIRY
                and not self.reader.at_eof() and self.reader.exception() is None and not self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


def _cause(error: BaseException) -> str:
    """A short cause ("Connection refused"), without asyncio's address list or errno prefix."""
    if isinstance(error, socket.gaierror):
        return str(error.strerror)  # the resolver's own words ("Name or service not known")
    if isinstance(error, OSError) and error.errno is not None and not isinstance(error, ssl.SSLError):
        return os.strerror(error.errno)
    return str(error) or type(error).__name__


@contextlib.contextmanager
def _mapped(timeout_error: type[httpx.TimeoutException], network_error: type[httpx.NetworkError]) -> Iterator[None]:
    """Raise httpx's exception for what went wrong, as httpcore's transport would."""
    try:
        yield
    except TimeoutError as error:
        raise timeout_error("timed out") from error
    except h11.RemoteProtocolError as error:
        raise httpx.RemoteProtocolError(str(error)) from error
    except (OSError, EOFError) as error:
        raise network_error(_cause(error)) from error


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over asyncio streams, with one keep-alive pool per (scheme, host, port)."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}
        self.connections_opened = 0

    async def _connect(self, scheme: str, host: str, port: int, timeout: float | None) -> _Connection:
        with _mapped(httpx.ConnectTimeout, httpx.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self._ssl if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None, limit=_READ_SIZE)
        self.connections_opened += 1
        return _Connection(reader, writer, h11.Connection(h11.CLIENT))

    async def _acquire(self, key: Origin, timeout: float | None) -> _Connection:
        idle, now = self._idle.get(key), asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return await self._connect(*key, timeout)

    def _release(self, key: Origin, connection: _Connection) -> None:
        protocol = connection.protocol
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
            idle = self._idle.setdefault(key, [])
            connection.idle_since = asyncio.get_running_loop().time()
            if connection.usable(connection.idle_since) and len(idle) < MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        body = await request.aread()
        head, content = await self.send(origin, request.method.encode(), url.raw_path, request.headers.raw, body,
                                        request.extensions.get("timeout", {}))
        return httpx.Response(head.status_code, headers=head.headers.raw_items(), stream=httpx.ByteStream(content),
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason})

    async def send(self, origin: Origin, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]],
                   body: bytes, timeouts: Mapping[str, float | None]) -> tuple[h11.Response, bytes]:
        """One exchange with `origin` (scheme, host, port): the response's head and its whole body.

        For a caller that knows the wire already (`vendors.http.ApiClient`): no `httpx.Request` to
        build and parse again. `headers` must include Host."""
        connection = await self._acquire(origin, timeouts.get("connect"))
        try:
            answer = await self._exchange(connection, method, target, headers, body, timeouts.get("write"),
                                          timeouts.get("read"))
        except BaseException:
            connection.close()  # half-sent or half-read: never reused
            raise
        self._release(origin, connection)
        return answer

    async def _exchange(self, connection: _Connection, method: bytes, target: bytes,
                        headers: list[tuple[bytes, bytes]], body: bytes, write_timeout: float | None,
                        read_timeout: float | None) -> tuple[h11.Response, bytes]:
        protocol, reader, writer = connection.protocol, connection.reader, connection.writer
        with _mapped(httpx.WriteTimeout, httpx.WriteError):
            data = protocol.send(h11.Request(method=method, target=target, headers=headers))
            if body:
                data += protocol.send(h11.Data(data=body))
            data += protocol.send(h11.EndOfMessage())
            writer.write(data)
            if writer.transport.get_write_buffer_size():  # the socket did not take it all at once
                async with asyncio.timeout(write_timeout):
                    await writer.drain()
        head: h11.Response | None = None
        chunks: list[bytes] = []
        with _mapped(httpx.ReadTimeout, httpx.ReadError):
            while True:
                event = protocol.next_event()
                if event is h11.NEED_DATA:
                    async with asyncio.timeout(read_timeout):
                        received = await reader.read(_READ_SIZE)
                    if not received and head is None:
                        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
                    protocol.receive_data(received)
                elif isinstance(event, h11.Response):
                    head = event
                elif isinstance(event, h11.Data):
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpx.RemoteProtocolError("Server disconnected before the response ended.")
        assert head is not None  # h11 sends EndOfMessage only after the Response
        return head, b"".join(chunks)

    async def aclose(self) -> None:
        idle, self._idle = [c for pool in self._idle.values() for c in pool], {}
        for connection in idle:
            connection.close()
        for connection in idle:
            with contextlib.suppress(OSError, ssl.SSLError):
                await connection.writer.wait_closed()
