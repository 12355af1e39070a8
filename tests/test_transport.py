"""The lean HTTP/1.1 transport (webhookctl.vendors.transport) against real sockets on 127.0.0.1.

Each test starts a scripted asyncio server that answers with exact bytes, so framing, keep-alive,
closes, timeouts and protocol errors are what a real server would do on the wire. The properties:
- a response arrives whole and exact whatever its framing (length or chunked) and however the
  server splits it into writes;
- a connection is reused only after a clean exchange the server did not close, and a connection
  that failed, timed out or was cancelled midway is never reused;
- failures are httpx's exceptions with short causes; TLS is verified; a proxy in the environment is
  honoured (through httpx's own transport) and NO_PROXY is too.
"""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookctl.vendors import transport as transport_module
from webhookctl.vendors.http import Answer, ApiClient, _environment_proxies, new_transport
from webhookctl.vendors.http11 import Head
from webhookctl.vendors.transport import Http11Transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's head and body (Content-Length framed, as httpx sends them)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


def response(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Server:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[Server, str]]:
    server = Server(handler)
    listener = await asyncio.start_server(server._serve, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield server, f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        listener.close()


def keep_alive(answer: Callable[[bytes], bytes]) -> Handler:
    """A handler answering every request on the connection with `answer(request)`."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            writer.write(answer(request))
            await writer.drain()
    return handle


def client_context() -> ssl.SSLContext:
    return ssl.create_default_context()


async def get(transport: httpx.AsyncBaseTransport, url: str, timeout: float = 5.0) -> httpx.Response:
    request = httpx.Request("GET", url, extensions={"timeout": httpx.Timeout(timeout).as_dict()})
    answer = await transport.handle_async_request(request)
    await answer.aread()
    return answer


def test_keep_alive_reuses_one_connection_for_sequential_requests() -> None:
    async def main() -> None:
        async with serving(keep_alive(lambda request: response(b'{"ok":true}'))) as (server, url):
            transport = Http11Transport(client_context())
            for _ in range(5):
                assert (await get(transport, url + "/x")).json() == {"ok": True}
            await transport.aclose()
            assert server.connections == 1 and transport.connections_opened == 1

    asyncio.run(main())


def test_a_connection_the_server_closes_is_not_reused() -> None:
    async def main() -> None:
        async with serving(keep_alive(lambda request: response(b"a", "Connection: close"))) as (server, url):
            transport = Http11Transport(client_context())
            for _ in range(3):
                assert (await get(transport, url)).content == b"a"
            await transport.aclose()
            assert server.connections == 3

    asyncio.run(main())


def test_an_idle_connection_closed_by_the_server_is_dropped_before_use() -> None:
    async def one_answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(b"first"))
        await writer.drain()
        # Keep-alive was promised, then the server times the connection out while it is idle.

    async def main() -> None:
        async with serving(one_answer_then_close) as (server, url):
            transport = Http11Transport(client_context())
            assert (await get(transport, url)).content == b"first"
            pooled = transport._idle[("http", "127.0.0.1", int(url.rsplit(":", 1)[1]))][0]
            for _ in range(200):  # until the event loop has seen the server's FIN
                if pooled.lost:
                    break
                await asyncio.sleep(0.01)
            assert not pooled.usable(asyncio.get_running_loop().time())
            assert (await get(transport, url)).content == b"first"
            await transport.aclose()
            assert server.connections == 2

    asyncio.run(main())


def test_a_connection_idle_past_the_keep_alive_expiry_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A server keeping connections open 5 s closes one just as a request reuses it after a 5 s wait
    # (a rate-limit window): that request fails. The client lets go of idle connections first.
    monkeypatch.setattr(transport_module, "KEEPALIVE_EXPIRY", 0.2)

    async def main() -> None:
        async with serving(keep_alive(lambda request: response(b"ok"))) as (server, url):
            transport = Http11Transport(client_context())
            assert (await get(transport, url)).content == b"ok"
            assert (await get(transport, url)).content == b"ok"
            assert server.connections == 1
            await asyncio.sleep(0.3)
            assert (await get(transport, url)).content == b"ok"
            await transport.aclose()
            assert server.connections == 2

    asyncio.run(main())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=3000), chunked=st.booleans(), chunk=st.integers(1, 700),
       cuts=st.lists(st.integers(1, 400), max_size=8))
def test_any_framing_split_anywhere_arrives_whole(body: bytes, chunked: bool, chunk: int, cuts: list[int]) -> None:
    if chunked:
        pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)]
        wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
            f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
    else:
        wire = response(body)

    async def fragmented(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            rest = wire
            for cut in cuts:
                writer.write(rest[:cut])
                await writer.drain()
                await asyncio.sleep(0)
                rest = rest[cut:]
            writer.write(rest)
            await writer.drain()

    async def main() -> None:
        async with serving(fragmented) as (server, url):
            transport = Http11Transport(client_context())
            for _ in range(2):
                assert (await get(transport, url)).content == body
            await transport.aclose()
            assert server.connections == 1

    asyncio.run(main())


def test_a_body_larger_than_the_socket_buffers_is_sent_whole() -> None:
    body = bytes(range(256)) * 16384  # 4 MiB: the write cannot complete at once, so it is drained

    async def main() -> None:
        async with serving(keep_alive(lambda request: response(str(len(request.partition(b"\r\n\r\n")[2])).encode()))) \
                as (_, url):
            transport = Http11Transport(client_context())
            request = httpx.Request("POST", url, content=body, extensions={"timeout": httpx.Timeout(10).as_dict()})
            answer = await transport.handle_async_request(request)
            await answer.aread()
            assert answer.content == str(len(body)).encode()
            await transport.aclose()

    asyncio.run(main())


def test_a_body_framed_by_the_servers_close_arrives_whole_and_the_connection_is_not_reused() -> None:
    async def close_delimited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
        await writer.drain()  # then the handler returns and the server closes: the body's end

    async def main() -> None:
        async with serving(close_delimited) as (server, url):
            transport = Http11Transport(client_context())
            assert (await get(transport, url)).content == b"until the end"
            assert (await get(transport, url)).content == b"until the end"
            await transport.aclose()
            assert server.connections == 2

    asyncio.run(main())


def test_a_compressed_body_is_decoded() -> None:
    packed = gzip.compress(b'{"a":1}')

    async def main() -> None:
        async with serving(keep_alive(lambda request: response(packed, "Content-Encoding: gzip"))) as (_, url):
            transport = Http11Transport(client_context())
            assert (await get(transport, url)).json() == {"a": 1}
            await transport.aclose()

    asyncio.run(main())


def test_a_read_timeout_is_httpx_read_timeout_and_the_connection_is_not_reused() -> None:
    answered = 0

    async def silent_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        while True:
            await read_request(reader)
            if answered == 0:
                answered += 1
                await asyncio.sleep(30)  # never answers the first request
            writer.write(response(b"late"))
            await writer.drain()

    async def main() -> None:
        async with serving(silent_once) as (server, url):
            transport = Http11Transport(client_context())
            with pytest.raises(httpx.ReadTimeout):
                await get(transport, url, timeout=0.3)
            assert (await get(transport, url)).content == b"late"
            await transport.aclose()
            assert server.connections == 2

    asyncio.run(main())


def test_a_cancelled_request_closes_its_connection() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nha")  # half a body, then a pause
            await writer.drain()
            await asyncio.sleep(0.5)
            writer.write(b"lf")
            await writer.drain()

    async def main() -> None:
        async with serving(slow) as (server, url):
            transport = Http11Transport(client_context())
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await get(transport, url)
            assert (await get(transport, url)).content == b"half"
            await transport.aclose()
            assert server.connections == 2  # the half-read connection was not reused

    asyncio.run(main())


@pytest.mark.parametrize("wire, message", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "peer closed connection"),
    (b"", "Server disconnected without sending a response"),
    (b"NOT HTTP AT ALL\r\n\r\n", ""),
])
def test_protocol_failures_are_remote_protocol_errors(wire: bytes, message: str) -> None:
    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(wire)
        await writer.drain()

    async def main() -> None:
        async with serving(broken) as (_, url):
            transport = Http11Transport(client_context())
            with pytest.raises(httpx.RemoteProtocolError) as failure:
                await get(transport, url)
            assert message in str(failure.value)
            await transport.aclose()

    asyncio.run(main())


def test_a_refused_connection_is_a_connect_error_with_a_short_cause() -> None:
    async def main() -> None:
        async with serving(keep_alive(lambda request: b"")) as (_, url):
            pass  # closed: nothing listens on the port any more
        transport = Http11Transport(client_context())
        with pytest.raises(httpx.ConnectError) as failure:
            await get(transport, url)
        assert str(failure.value) == "Connection refused"

    asyncio.run(main())


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context trusting only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_tls_is_verified(tmp_path: Path) -> None:
    server_tls, trusting = self_signed(tmp_path)

    async def main() -> None:
        async with serving(keep_alive(lambda request: response(b"secure")), tls=server_tls) as (server, url):
            transport = Http11Transport(trusting)
            assert (await get(transport, url)).content == b"secure"
            assert (await get(transport, url)).content == b"secure"
            await transport.aclose()
            assert server.connections == 1
            untrusting = Http11Transport(ssl.create_default_context())
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await get(untrusting, url)

    asyncio.run(main())


def test_api_client_joins_base_path_and_sends_json_as_httpx_did() -> None:
    async def main() -> None:
        seen: list[bytes] = []

        def answer(request: bytes) -> bytes:
            seen.append(request)
            return response(b'{"id":"d1"}', "Date: Tue, 01 Dec 2026 12:00:00 GMT")

        async with serving(keep_alive(answer)) as (_, url):
            api = ApiClient(url + "/org-1/")
            answer_ = await api.request("create", "POST", "/v1/org-1/webhook_destination/", json={"url": "u"},
                                        params={"a": "b c"}, headers={"authorization": "Bearer t"})
            await api.aclose()
        assert answer_.json() == {"id": "d1"} and answer_.request.method == "POST"
        head, _, body = seen[0].partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0] == b"POST /org-1/v1/org-1/webhook_destination/?a=b+c HTTP/1.1"
        assert b"authorization: Bearer t" in head and b"user-agent: webhookctl/" in head
        assert body == b'{"url":"u"}'

    asyncio.run(main())


SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/?#%", exclude_categories=("Cs", "Cc")), max_size=12)


@settings(max_examples=60, deadline=None)
@given(segments=st.lists(SEGMENT, min_size=1, max_size=4),
       params=st.none() | st.lists(st.tuples(st.text(max_size=6), st.text(max_size=10) | st.integers()), max_size=3),
       body=st.none() | st.dictionaries(st.text(max_size=5), st.text(max_size=10) | st.integers() | st.booleans(),
                                        max_size=3))
def test_the_direct_path_sends_the_bytes_httpx_would(segments: list[str], params: list[tuple[str, str | int]] | None,
                                                     body: dict[str, object] | None) -> None:
    """ApiClient writes requests for the lean transport itself; they must be what an httpx.Request
    of the same call puts on the wire (request line, headers, body)."""
    path = "/v1/" + "/".join(segments)

    async def main() -> list[bytes]:
        seen: list[bytes] = []

        def answer(request: bytes) -> bytes:
            seen.append(request)
            return response(b"{}")

        async with serving(keep_alive(answer)) as (_, url):
            api = ApiClient(url + "/base")
            headers = {"authorization": "Bearer t"}
            direct = await api.request("list", "POST", path, json=body, params=params, headers=headers)
            assert isinstance(direct, httpx.Response) and direct.json() == {}
            general = await api._transport.handle_async_request(api._request("POST", path, body, params, headers))
            await general.aread()
            assert direct.request.url == api._request("POST", path, body, params, headers).url
            await api.aclose()
        return seen

    direct, general = asyncio.run(main())
    assert direct == general, (segments, params, body, direct, general)


def test_a_proxy_in_the_environment_is_used_and_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        proxied_requests: list[bytes] = []

        def proxy_answer(request: bytes) -> bytes:
            proxied_requests.append(request)
            return response(b"via proxy")

        async with serving(keep_alive(proxy_answer)) as (_, proxy_url), \
                serving(keep_alive(lambda request: response(b"direct"))) as (direct, direct_url):
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            _environment_proxies.cache_clear()  # read once per process otherwise
            # The vendor's host is never resolved or reached: the proxy (on 127.0.0.1) answers for it.
            through_proxy = ApiClient("http://vendor.invalid/api")
            assert not isinstance(through_proxy._transport, Http11Transport)
            assert (await through_proxy.request("list", "GET", "/v1/x")).content == b"via proxy"
            await through_proxy.aclose()
            assert proxied_requests[0].startswith(b"GET http://vendor.invalid/api/v1/x HTTP/1.1")
            # NO_PROXY covers 127.0.0.1: straight to the server, on the lean transport.
            assert isinstance(new_transport(direct_url), Http11Transport)
            straight = ApiClient(direct_url)
            assert (await straight.request("list", "GET", "/v1/x")).content == b"direct"
            await straight.aclose()
            assert direct.connections == 1 and len(proxied_requests) == 1

    try:
        asyncio.run(main())
    finally:
        monkeypatch.undo()
        _environment_proxies.cache_clear()


def test_bytes_sent_while_idle_keep_the_connection_from_being_reused() -> None:
    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(response(b"answer"))
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")  # nobody asked for this
            await writer.drain()

    async def main() -> None:
        async with serving(chatty) as (server, url):
            transport = Http11Transport(client_context())
            assert (await get(transport, url)).content == b"answer"
            await asyncio.sleep(0.2)  # the stray response arrives while the connection is idle
            assert (await get(transport, url)).content == b"answer"  # not the stray one
            await transport.aclose()
            assert server.connections == 2

    asyncio.run(main())


def test_the_read_timeout_bounds_each_wait_not_the_whole_response() -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        for byte in b"slow!":
            await asyncio.sleep(0.15)  # 0.75 s in all, never 0.4 s without a byte
            writer.write(bytes([byte]))
            await writer.drain()
        await asyncio.sleep(5)

    async def main() -> None:
        async with serving(trickle) as (_, url):
            transport = Http11Transport(client_context())
            assert (await get(transport, url, timeout=0.4)).content == b"slow!"
            await transport.aclose()

    asyncio.run(main())


@settings(max_examples=100, deadline=None)
@given(status=st.sampled_from([200, 201, 204, 404, 429]), body=st.binary(max_size=200),
       coded=st.booleans(), charset=st.sampled_from(["", "; charset=utf-8", "; charset=latin-1"]))
def test_a_direct_answer_reads_as_httpx_reads_the_same_response(status: int, body: bytes, coded: bool,
                                                                  charset: str) -> None:
    """Answer.of sets an uncoded body as the content itself (no pass through httpx's decoders): what
    it shows must be what an httpx.Response of the same bytes shows, coded bodies included."""
    wire_body = gzip.compress(body) if coded else body
    headers = [(b"Content-Type", f"application/json{charset}".encode()), (b"X-RateLimit-Remaining", b"3"),
               *([(b"Content-Encoding", b"gzip")] if coded else [])]
    answer = Answer.of(Head(status, b"Whatever", headers, b"1.1"), wire_body,
                       lambda: httpx.Request("GET", "http://127.0.0.1/x"))
    reference = httpx.Response(status, headers=headers, content=wire_body,
                               extensions={"http_version": b"HTTP/1.1", "reason_phrase": b"Whatever"})
    assert (answer.status_code, answer.reason_phrase, answer.http_version) == \
        (reference.status_code, reference.reason_phrase, reference.http_version)
    assert answer.content == reference.content == body
    assert answer.text == reference.text
    assert answer.headers["x-ratelimit-remaining"] == "3" and answer.encoding == reference.encoding
    assert answer.request.url == "http://127.0.0.1/x"


def test_a_server_that_closes_during_a_large_upload_fails_it_cleanly() -> None:
    body = bytes(8 * 1024 * 1024)  # more than the socket buffers take: the write is paused

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the head, then hang up without reading the body
        writer.transport.abort()

    async def main() -> list[dict[str, object]]:
        unhandled: list[dict[str, object]] = []
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: unhandled.append(context))
        async with serving(hang_up) as (_, url):
            transport = Http11Transport(client_context())
            request = httpx.Request("POST", url, content=body, extensions={"timeout": httpx.Timeout(5).as_dict()})
            with pytest.raises((httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError)):
                await transport.handle_async_request(request)
            await transport.aclose()
        import gc
        gc.collect()  # a future whose exception nobody saw is reported when it is collected
        await asyncio.sleep(0)
        return unhandled

    assert asyncio.run(main()) == []
