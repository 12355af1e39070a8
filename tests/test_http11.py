"""HTTP/1.1 on the wire (webhookctl.vendors.http11), against h11 as the reference reading.

The properties:
- any response h11 reads (length-framed, chunked with extensions and trailers, interim 1xx first,
  folded header lines, framed by the close), fed in any cuts, is read to the same status, headers
  and body, and the connection is reusable exactly when h11 would start another cycle on it;
- a request's bytes are what h11 writes for the same request;
- what is not HTTP/1.1, or is ambiguous (conflicting lengths, an unknown coding, a malformed line,
  a head without end), is a `ProtocolError`, never a response read wrongly.
h11 is not used by webhookctl; it is here only as the second opinion.
"""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookctl.vendors.http11 import (
    MAX_HEAD,
    ProtocolError,
    ResponseReader,
    check_headers,
    request_bytes,
)

TOKEN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~", min_size=1, max_size=12)
VALUE = st.binary(max_size=24).map(lambda v: bytes(b for b in v if b >= 0x20 and b != 0x7F).strip(b" "))
FRAMING = {"content-length", "transfer-encoding", "connection"}
HEADERS = st.lists(st.tuples(TOKEN, VALUE).filter(lambda h: h[0].lower() not in FRAMING), max_size=5)


def cut(wire: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(wire)) for c in cuts})
    return [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True) if b > a]


def h11_read(wire: bytes, method: bytes = b"GET", eof: bool = False) -> tuple[h11.Response, bytes, bool]:
    """h11's reading: the final response, its body, and whether it would reuse the connection."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method=method, target=b"/", headers=[(b"Host", b"x")]))
    client.send(h11.EndOfMessage())
    client.receive_data(wire)
    if eof:
        client.receive_data(b"")
    head, body = None, b""
    while True:
        event = client.next_event()
        if isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            break
        elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
            raise AssertionError("h11 did not read a whole response")
    assert head is not None
    reusable = client.their_state is h11.DONE and client.our_state is h11.DONE
    if reusable:
        client.start_next_cycle()
        reusable = client.next_event() is h11.NEED_DATA  # nothing follows the response
    return head, body, reusable


def ours(pieces: list[bytes], method: bytes = b"GET", eof: bool = False) -> ResponseReader:
    reader = ResponseReader(head_request=method == b"HEAD")
    whole = False
    for piece in pieces:
        whole = reader.feed(piece)
    if eof:
        whole = reader.feed_eof()
    assert whole
    return reader


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A response's bytes, and whether its body ends only with the connection."""
    status = draw(st.sampled_from([200, 201, 204, 304, 400, 404, 409, 429, 500, 503]))
    reason = draw(st.sampled_from([b"OK", b"", b"Whatever It Says", b"\xe9t\xe9"]))
    headers = [(n.encode(), v) for n, v in draw(HEADERS)]
    body = draw(st.binary(max_size=300)) if status not in (204, 304) else b""
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    version = draw(st.sampled_from([b"1.1", b"1.1", b"1.0"]))
    interim = draw(st.sampled_from([b"", b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"]))
    newline = draw(st.sampled_from([b"\r\n", b"\n"]))
    if draw(st.booleans()):
        headers.append((b"Connection", b"close"))
    if status in (204, 304):
        framing = "none"
    lines = [b"HTTP/" + version + b" " + str(status).encode() + (b" " + reason if reason else b"")]
    if framing == "length":
        lines.append(b"Content-Length: " + str(len(body)).encode())
    elif framing == "chunked":
        lines.append(b"Transfer-Encoding: chunked")
    lines += [n + b": " + v for n, v in headers]
    if headers and draw(st.booleans()):  # an obsolete folded line continues the last header
        lines.append(b" \tfolded")
    wire = interim + newline.join(lines) + newline + newline
    if framing == "chunked":
        size = draw(st.integers(1, 64))
        for start in range(0, len(body), size):
            piece = body[start:start + size]
            extension = draw(st.sampled_from([b"", b";name=value", b";x"]))
            wire += b"%x" % len(piece) + extension + b"\r\n" + piece + b"\r\n"
        wire += b"0\r\n" + draw(st.sampled_from([b"", b"Trailer-One: 1\r\n"])) + b"\r\n"
    elif framing != "none":
        wire += body
    return wire, framing == "close"


@settings(max_examples=300, deadline=None)
@given(response=responses(), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_any_response_is_read_as_h11_reads_it(response: tuple[bytes, bool], cuts: list[int]) -> None:
    wire, until_close = response
    head, body, reusable = h11_read(wire, eof=until_close)
    reader = ours(cut(wire, cuts), eof=until_close)
    assert reader.head is not None
    assert (reader.head.status_code, reader.head.reason, reader.body) == (head.status_code, head.reason, body)
    assert [(n.lower(), v) for n, v in reader.head.headers] == [(n, v) for n, v in head.headers]
    assert reader.reusable == reusable


@settings(max_examples=100, deadline=None)
@given(response=responses(), extra=st.binary(min_size=1, max_size=20))
def test_bytes_after_the_response_make_the_connection_unusable(response: tuple[bytes, bool], extra: bytes) -> None:
    wire, until_close = response
    if until_close:
        return  # such a body takes every byte until the close
    reader = ResponseReader()
    assert reader.feed(wire + extra)
    assert not reader.reusable


def test_a_head_request_has_no_body_whatever_the_length_says() -> None:
    reader = ResponseReader(head_request=True)
    assert reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 120\r\n\r\n")
    assert reader.body == b"" and reader.reusable


@settings(max_examples=200, deadline=None)
@given(method=st.sampled_from([b"GET", b"POST", b"PATCH", b"DELETE", b"PUT"]), target=st.sampled_from([b"/", b"/v1/a?b=c%20d"]),
       headers=HEADERS, body=st.binary(max_size=100))
def test_a_request_is_written_as_h11_writes_it(method: bytes, target: bytes, headers: list[tuple[str, bytes]],
                                               body: bytes) -> None:
    fields = [(b"Host", b"example.test"), *((n.encode(), v) for n, v in headers),
              (b"Content-Length", str(len(body)).encode())]
    client = h11.Connection(h11.CLIENT)
    expected = client.send(h11.Request(method=method, target=target, headers=fields))
    expected += client.send(h11.Data(data=body)) if body else b""
    expected += client.send(h11.EndOfMessage())
    check_headers(method, target, fields)
    # h11 writes names as given except that it lower-cases none and keeps order: byte for byte the same.
    assert request_bytes(method, target, fields, body) == expected


@pytest.mark.parametrize("method, target, name, value", [
    (b"GET", b"/", b"X-A", b"one\r\nInjected: yes"),
    (b"GET", b"/", b"X-A", b"nul\x00"),
    (b"GET", b"/", b"Bad Name", b"v"),
    (b"GET", b"/", b"", b"v"),
    (b"GET", b"/a b", b"X-A", b"v"),
    (b"GET", b"/a\r\n", b"X-A", b"v"),
    (b"GE T", b"/", b"X-A", b"v"),
])
def test_a_request_that_would_break_its_framing_is_refused(method: bytes, target: bytes, name: bytes,
                                                          value: bytes) -> None:
    with pytest.raises(ProtocolError):
        check_headers(method, target, [(name, value)])


@pytest.mark.parametrize("wire", [
    b"NOT HTTP AT ALL\r\n\r\n",
    b"HTTP/2 200 OK\r\n\r\n",
    b"HTTP/1.1 20 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nSpace before : colon\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * MAX_HEAD,
])
def test_what_is_not_a_response_is_a_protocol_error(wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        ResponseReader().feed(wire)
    try:  # h11 refuses each of them too (it reads a head without end as incomplete only up to its limit)
        h11_read(wire)
    except (h11.RemoteProtocolError, AssertionError):
        pass
    else:
        raise AssertionError("h11 read it")


@pytest.mark.parametrize("wire, message", [
    (b"", "Server disconnected without sending a response."),
    (b"HTTP/1.1 200 OK\r\nContent-", "Server disconnected in the middle of the response's head."),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "peer closed connection without sending complete"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "peer closed connection without sending complete"),
])
def test_a_close_before_the_end_is_a_protocol_error(wire: bytes, message: str) -> None:
    reader = ResponseReader()
    assert not reader.feed(wire)
    with pytest.raises(ProtocolError, match=message):
        reader.feed_eof()


def test_a_body_framed_by_the_close_ends_with_it_and_is_not_reused() -> None:
    reader = ResponseReader()
    assert not reader.feed(b"HTTP/1.1 200 OK\r\n\r\npart one, ")
    assert not reader.feed(b"part two")
    assert reader.feed_eof()
    assert reader.body == b"part one, part two" and not reader.reusable
