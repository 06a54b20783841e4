"""The lean HTTP/1.1 request parser of the emulator's server (issue 13), on a raw socket.

It reads the request line and headers itself instead of through ``http.client.parse_headers``
(the ``email`` package); these tests pin what it refuses and how, next to what
``tests/emulator/test_http.py`` pins that it keeps doing. Every refusal is a JSON error body
in the API's shape and closes the connection, so a client never reads a half-understood
request's answer as the next one's.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from django_talon.emulator.server import MAX_HEADERS, _Handler, _ProtocolError
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.test_http import BODY, Conn, error_body

GOOD_HEAD = b"Host: x\r\nContent-Type: application/json\r\n"


def _refused(emulator: EmulatorHandle, request: bytes, status: int) -> dict[str, object]:
    conn = Conn(emulator)
    try:
        conn.send(request)
        got, headers, body = conn.answer()
        assert got == status, body
        assert headers["connection"] == "close"
        assert headers["content-type"] == "application/json"
        parsed = error_body(body)
        assert parsed["StatusCode"] == status
        assert conn.closed()
        return parsed
    finally:
        conn.close()


@pytest.mark.parametrize(
    "line",
    [
        b"PUT /v2/customer_sessions/s\r\n",  # no version
        b"PUT  HTTP/1.1\r\n",  # no target
        b"PUT /a /b HTTP/1.1\r\n",  # four words
        b"PUT /v2/customer_sessions/s FTP/1.1\r\n",  # not HTTP
        b"\x00\x01\x02\r\n",  # binary noise
    ],
)
def test_malformed_request_lines_are_400(emulator: EmulatorHandle, line: bytes) -> None:
    parsed = _refused(emulator, line + GOOD_HEAD + b"\r\n", 400)
    assert str(parsed["message"]).startswith("Bad request syntax")


def test_unknown_http_version_is_505(emulator: EmulatorHandle) -> None:
    _refused(emulator, b"GET /_emulator/health HTTP/1.2\r\n\r\n", 505)


def test_folded_header_lines_are_refused(emulator: EmulatorHandle) -> None:
    request = (
        b"PUT /v2/customer_sessions/fold HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: ApiKey-v1\r\n " + emulator.api_key.encode() + b"\r\n"
        b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
    )
    parsed = _refused(emulator, request, 400)
    assert "folding" in str(parsed["message"])
    assert emulator.state()["sessions"] == {}  # nothing was applied


def test_whitespace_before_the_colon_is_refused(emulator: EmulatorHandle) -> None:
    _refused(emulator, b"GET /_emulator/health HTTP/1.1\r\nHost : x\r\n\r\n", 400)


def test_huge_and_too_many_headers_are_431(emulator: EmulatorHandle) -> None:
    huge = b"GET /_emulator/health HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    _refused(emulator, huge, 431)
    many = b"GET /_emulator/health HTTP/1.1\r\n" + b"X-N: 1\r\n" * 101 + b"\r\n"
    _refused(emulator, many, 431)


def test_a_huge_request_line_is_414(emulator: EmulatorHandle) -> None:
    _refused(emulator, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414)


def test_two_requests_on_one_keep_alive_connection(emulator: EmulatorHandle) -> None:
    conn = Conn(emulator)
    try:
        for sid in ("ka-1", "ka-2"):
            conn.put(sid)
            status, headers, body = conn.answer()  # answered before the next is sent
            assert status == 200 and "connection" not in headers
            assert json.loads(body)["customerSession"]["integrationId"] == sid
        assert not conn.buffer  # exactly one answer each, nothing left over
    finally:
        conn.close()
    assert [c["path"] for c in emulator.requests()] == [
        "/v2/customer_sessions/ka-1",
        "/v2/customer_sessions/ka-2",
    ]


def test_http_1_0_answers_then_closes(emulator: EmulatorHandle) -> None:
    conn = Conn(emulator)
    try:
        conn.put("old", version=b"HTTP/1.0")
        status, headers, body = conn.answer()
        assert status == 200 and headers["connection"] == "close"
        assert json.loads(body)["customerSession"]["integrationId"] == "old"
        assert conn.closed()
    finally:
        conn.close()


def test_a_body_without_content_length_is_not_read_as_the_body(
    emulator: EmulatorHandle,
) -> None:
    """No Content-Length and no chunked coding: the request has no body (RFC 9112 6.3), so
    the operation answers 400 for the missing body; the bytes that follow are not a request
    line and are refused with 400, and the connection closes."""
    conn = Conn(emulator)
    try:
        conn.send(b"PUT /v2/customer_sessions/nolen HTTP/1.1\r\n" + GOOD_HEAD + conn.auth)
        conn.send(b"\r\n" + BODY + b"\r\n")
        first, _, body = conn.answer()
        assert first == 400
        assert "JSON object" in json.loads(body)["message"]
        second, headers, _ = conn.answer()
        assert second == 400 and headers["connection"] == "close"
        assert conn.closed()
    finally:
        conn.close()
    assert emulator.state()["sessions"] == {}


def test_a_chunked_body_is_read(emulator: EmulatorHandle) -> None:
    conn = Conn(emulator)
    try:
        half = len(BODY) // 2
        chunks = b"".join(
            f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (BODY[:half], BODY[half:])
        )
        conn.send(
            b"PUT /v2/customer_sessions/chunky HTTP/1.1\r\n"
            + GOOD_HEAD
            + conn.auth
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + chunks
            + b"0\r\n\r\n"
        )
        status, _, body = conn.answer()
        assert status == 200, body
        assert json.loads(body)["customerSession"]["integrationId"] == "chunky"
    finally:
        conn.close()


class _LineReader:
    """A stream without ``peek``: the server reads its headers line by line."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def readline(self, limit: int = -1) -> bytes:
        return self._stream.readline(limit)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


def _read_head(rfile: Any) -> tuple[Any, bytes]:
    handler = object.__new__(_Handler)
    handler.rfile = rfile
    try:
        parsed: Any = handler._headers()
    except _ProtocolError as exc:
        parsed = ("refused", exc.status, str(exc))
    return parsed, rfile.read()


HEADER_BLOCKS = [
    b"\r\n",
    b"\n",
    b"Host: x\r\n\r\n",
    b"Host: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n",
    b"A: 1\r\nA: 2\r\na:  3 \r\n\r\n",
    b"Host: x\nContent-Length: 2\n\n",
    b"Host: x\r\nContent-Length: 2\n\r\n",
    b"Host: x\r\n folded\r\n\r\n",
    b"Host : x\r\n\r\n",
    b"NoColon\r\n\r\n",
    b": empty name\r\n\r\n",
    b"X: a\rb\r\n\r\n",
    b"".join(b"H%d: v\r\n" % i for i in range(MAX_HEADERS)) + b"\r\n",
    b"".join(b"H%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n",
    b"Big: " + b"x" * 9000 + b"\r\n\r\n",
    b"Host: x\r\n",  # the connection ends before the blank line
]


@pytest.mark.parametrize("block", HEADER_BLOCKS, ids=range(len(HEADER_BLOCKS)))
def test_a_buffered_header_block_reads_as_line_by_line(block: bytes) -> None:
    data = block + b"{}\r\n\r\nNEXT"
    (buffered, rest), (line_by_line, plain_rest) = (
        _read_head(io.BufferedReader(io.BytesIO(data))),
        _read_head(_LineReader(data)),
    )
    assert buffered == line_by_line
    if not isinstance(buffered, tuple):  # after a refusal the connection closes: no rest
        assert rest == plain_rest  # the body and the next request are where they were
