"""HTTP/1.1 on the wire for a client: a request's bytes, and a response read from bytes as they come.

Why not h11: it is general (both roles, every event, a state machine checked on every call) and
that generality cost about as much CPU as the rest of an exchange in a run of thousands of small
requests. A client sending one request at a time needs much less: write the request, then feed
the response's bytes to `ResponseReader` until it says the response is whole.

What is read (RFC 9112): a status line `HTTP/1.x NNN reason`; header lines (a folded line joins
the one before it, as h11 does); interim 1xx responses skipped; a body framed by
`Transfer-Encoding: chunked` (trailers read and dropped), by `Content-Length`, by nothing (HEAD,
1xx, 204, 304), or by the server's close. Anything else is `ProtocolError` with a short cause:
a malformed line, an unknown transfer coding, conflicting lengths, a head over `MAX_HEAD` bytes.

A connection may carry another request only when `ResponseReader.reusable` says so: HTTP/1.1, no
`Connection: close`, a body not framed by the close, and no bytes beyond the response's end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Headers = list[tuple[bytes, bytes]]
# The longest head (status line and headers) read before it is refused: h11's default, ~16 KiB.
MAX_HEAD = 16 * 1024
_LINE_END = re.compile(rb"\r?\n")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")
_FIELD = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[\t\x20-\x7e\x80-\xff]*)?")
_TOKEN_CHARS = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_VALUE_REFUSED = frozenset(b"\r\n\x00")


class ProtocolError(Exception):
    """The bytes are not an HTTP/1.1 response (or not one this reader accepts)."""


def _until(end: re.Pattern[bytes], buffer: bytes, what: str) -> re.Match[bytes] | None:
    """Where `end` is in `buffer`; None while it may still come; refused once `what` is too long."""
    found = end.search(buffer)
    if found is None and len(buffer) > MAX_HEAD:
        raise ProtocolError(f"{what} is too long")
    return found


def request_bytes(method: bytes, target: bytes, headers: Headers, body: bytes) -> bytes:
    """One request on the wire. `headers` must include Host and the body's framing; names and values
    are not checked here (`check_headers` does it for headers that came from elsewhere)."""
    lines = [method, b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)


def check_headers(method: bytes, target: bytes, headers: Headers) -> None:
    """Refuse what would break the request's framing: a method or name that is not a token, a target or
    value holding a line break or NUL (as h11 would, before anything is sent)."""
    if not method or not _TOKEN_CHARS.issuperset(method):
        raise ProtocolError("the request method is not a token")
    if not target or b" " in target or not _VALUE_REFUSED.isdisjoint(target):
        raise ProtocolError("the request target holds a space, a line break or NUL")
    for name, value in headers:
        if not name or not _TOKEN_CHARS.issuperset(name):
            raise ProtocolError("a request header name is not a token")
        if not _VALUE_REFUSED.isdisjoint(value):
            raise ProtocolError(f"the request header {name.decode('ascii')} holds a line break or NUL")


@dataclass(frozen=True, slots=True)
class Head:
    """A final response's status line and headers (names as the server spelled them)."""

    status_code: int
    reason: bytes
    headers: Headers
    version: bytes  # b"1.1" or b"1.0"


# Where the reader is in a response.
_HEAD, _LENGTH, _CHUNK_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE, _DONE = range(8)


class ResponseReader:
    """Reads one response from bytes fed as they arrive; `feed` returns True once it is whole.

    `head_request`: the request was HEAD (its response has no body whatever its headers say)."""

    __slots__ = ("_buffer", "_chunks", "_extra", "_keep_alive", "_left", "_state", "head", "head_request")

    def __init__(self, head_request: bool = False) -> None:
        self.head_request = head_request
        self.head: Head | None = None
        self._buffer = b""
        self._state = _HEAD
        self._left = 0  # body bytes, or chunk bytes, still to come
        self._chunks: list[bytes] = []
        self._keep_alive = False
        self._extra = False  # bytes came after the response's end

    @property
    def done(self) -> bool:
        return self._state == _DONE

    @property
    def body(self) -> bytes:
        return b"".join(self._chunks)

    @property
    def reusable(self) -> bool:
        """Whole, kept alive by the server, and nothing followed it on the connection."""
        return self._state == _DONE and self._keep_alive and not self._extra

    def feed(self, data: bytes) -> bool:
        if self._state == _DONE:
            self._extra = self._extra or bool(data)
            return True
        if self._state == _LENGTH and not self._buffer and len(data) < self._left:
            self._chunks.append(data)  # the common case of a body in several reads: no copies
            self._left -= len(data)
            return False
        self._buffer = self._buffer + data if self._buffer else data
        return self._advance()

    def feed_eof(self) -> bool:
        """The server closed its side: the end of a body framed by the close, or a failure."""
        if self._state == _UNTIL_CLOSE:
            self._chunks.append(self._buffer)
            self._buffer, self._state = b"", _DONE
            return True
        if self._state == _DONE:
            return True
        if self._state == _HEAD and self.head is None:
            raise ProtocolError("Server disconnected without sending a response." if not self._buffer else
                                "Server disconnected in the middle of the response's head.")
        raise ProtocolError("peer closed connection without sending complete message body")

    def _advance(self) -> bool:
        buffer = self._buffer
        while True:
            state = self._state
            if state in (_LENGTH, _CHUNK_DATA):  # `_left` bytes of body, then the response's or chunk's end
                if len(buffer) < self._left:
                    self._chunks.append(buffer)
                    self._left -= len(buffer)
                    buffer = b""
                    break
                self._chunks.append(buffer[:self._left])
                buffer, self._state = buffer[self._left:], _DONE if state == _LENGTH else _CHUNK_END
            elif state == _HEAD:
                end = _until(_HEAD_END, buffer, "the response head")
                if end is None:
                    break
                self._start(buffer[:end.start()])
                buffer = buffer[end.end():]
            elif state == _CHUNK_LINE:
                end = _until(_LINE_END, buffer, "a chunk size line")
                if end is None:
                    break
                size = _CHUNK_SIZE.fullmatch(buffer, 0, end.start())
                if size is None:
                    raise ProtocolError("a chunk size line is malformed")
                self._left = int(size.group(1), 16)
                self._state = _CHUNK_DATA if self._left else _TRAILERS
                buffer = buffer[end.end():]
            elif state == _CHUNK_END:
                if len(buffer) < 2 and buffer in (b"", b"\r"):
                    break
                if buffer.startswith(b"\r\n"):
                    buffer = buffer[2:]
                elif buffer.startswith(b"\n"):
                    buffer = buffer[1:]
                else:
                    raise ProtocolError("a chunk does not end with a line break")
                self._state = _CHUNK_LINE
            elif state == _TRAILERS:
                end = _until(_LINE_END, buffer, "the response trailers")
                if end is None:
                    break
                if end.start():  # a trailer field: read and dropped (nothing here needs one)
                    if _FIELD.fullmatch(buffer, 0, end.start()) is None:
                        raise ProtocolError("a trailer line is malformed")
                else:
                    self._state = _DONE
                buffer = buffer[end.end():]
            elif state == _UNTIL_CLOSE:
                self._chunks.append(buffer)
                buffer = b""
                break
            else:  # _DONE
                self._extra = bool(buffer)
                buffer = b""
                break
        self._buffer = buffer
        return self._state == _DONE

    def _start(self, block: bytes) -> None:
        """A head read whole: a final response sets the body's framing; an interim one is skipped."""
        lines = _LINE_END.split(block)
        status = _STATUS.fullmatch(lines[0])
        if status is None:
            raise ProtocolError("the status line is malformed")
        headers: Headers = []
        for line in lines[1:]:
            if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
                name, value = headers[-1]
                headers[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" "))
                continue
            field = _FIELD.fullmatch(line)
            if field is None:
                raise ProtocolError("a header line is malformed")
            headers.append((field.group(1), field.group(2)))
        code = int(status.group(2))
        if code < 200:
            if code == 101:
                raise ProtocolError("the server switched protocols, which was not asked for")
            return  # 100 Continue, 103 Early Hints: the final response follows
        version = b"1." + status.group(1)
        self.head = Head(code, status.group(3) or b"", headers, version)
        chunked, length, close = False, None, version == b"1.0"
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"transfer-encoding":
                if value.strip().lower() != b"chunked" or chunked:
                    raise ProtocolError("only Transfer-Encoding: chunked is supported")
                chunked = True
            elif lowered == b"content-length":
                for part in value.split(b","):
                    part = part.strip(b" \t")
                    if not part.isdigit() or len(part) > 18 or (length is not None and int(part) != length):
                        raise ProtocolError("the Content-Length header is malformed or conflicting")
                    length = int(part)
            elif lowered == b"connection" and b"close" in (t.strip(b" \t") for t in value.lower().split(b",")):
                close = True
        self._keep_alive = not close
        if self.head_request or code in (204, 304):
            self._state = _DONE
        elif chunked:
            self._state = _CHUNK_LINE
            self._keep_alive = self._keep_alive and length is None  # both framings: trust neither again
        elif length is not None:
            self._left = length
            self._state = _LENGTH if length else _DONE
        else:
            self._state = _UNTIL_CLOSE
            self._keep_alive = False
