"""The emulator's own HTTP/1.1 request parser (server.py), byte by byte on a raw socket.

It replaced ``BaseHTTPRequestHandler``'s ``email``-based header parsing for speed (issue 13);
these tests pin what it must keep doing: keep-alive, framing, repeated headers,
``Expect: 100-continue``, HTTP/1.0, and protocol errors in the API's JSON error shape.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE

BODY = json.dumps({"customerSession": {"cartItems": [COFFEE]}}).encode()


class Conn:
    """One raw TCP connection to the emulator that reads whole answers (by Content-Length)."""

    def __init__(self, emulator: EmulatorHandle) -> None:
        host, port = emulator.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.buffer = b""
        self.auth = b"Authorization: ApiKey-v1 " + emulator.api_key.encode() + b"\r\n"

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError("closed before an answer")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill():
                break
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed(self) -> bool:
        try:
            return not self.buffer and not self._fill()
        except OSError:
            return True

    def put(self, session_id: str, extra: bytes = b"", version: bytes = b"HTTP/1.1") -> None:
        self.send(
            b"PUT /v2/customer_sessions/" + session_id.encode() + b" " + version + b"\r\n"
            b"Host: x\r\n" + self.auth + b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(BODY)).encode() + b"\r\n" + extra + b"\r\n" + BODY
        )

    def close(self) -> None:
        self.sock.close()


def error_body(body: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body)
    assert set(parsed) == {"message", "errors", "StatusCode"}
    assert parsed["errors"][0]["source"] == {"resource": "request"}
    return parsed


def test_keep_alive_pipelined_requests_on_one_connection(emulator: EmulatorHandle) -> None:
    conn = Conn(emulator)
    try:
        conn.put("p1")
        conn.put("p2")  # sent before the first answer arrived
        for sid in ("p1", "p2"):
            status, headers, body = conn.answer()
            assert status == 200 and "connection" not in headers
            assert headers["content-type"] == "application/json"
            assert headers["server"] == "django-talon-emulator" and headers["date"].endswith("GMT")
            assert json.loads(body)["customerSession"]["integrationId"] == sid
        conn.put("p3", b"Connection: close\r\n")
        status, headers, _ = conn.answer()
        assert status == 200 and headers["connection"] == "close"
        assert conn.closed()
    finally:
        conn.close()


def test_http_1_0_closes_unless_keep_alive(emulator: EmulatorHandle) -> None:
    conn = Conn(emulator)
    try:
        conn.put("old-1", b"Connection: keep-alive\r\n", version=b"HTTP/1.0")
        assert conn.answer()[0] == 200
        conn.put("old-2", version=b"HTTP/1.0")
        status, headers, _ = conn.answer()
        assert status == 200 and headers["connection"] == "close"
        assert conn.closed()
    finally:
        conn.close()


def test_repeated_and_odd_case_headers(emulator: EmulatorHandle) -> None:
    # (folded header lines are refused: tests/emulator/test_throughput_parser.py)
    conn = Conn(emulator)
    try:
        conn.send(
            b"PUT /v2/customer_sessions/f1?dry=true HTTP/1.1\r\nhost: x\r\n"
            b"AUTHORIZATION: ApiKey-v1 " + emulator.api_key.encode() + b"\r\n"
            b"X-Note: a\r\nX-Note: b\r\n"
            b"content-length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
        )
        status, _, body = conn.answer()
        assert status == 200, body
        assert json.loads(body)["customerSession"]["integrationId"] == "f1"
    finally:
        conn.close()
    assert emulator.state()["sessions"] == {}  # dry=true came through the query string


def test_expect_100_continue(emulator: EmulatorHandle) -> None:
    conn = Conn(emulator)
    try:
        conn.send(
            b"PUT /v2/customer_sessions/e1 HTTP/1.1\r\nHost: x\r\n"
            + conn.auth
            + b"Expect: 100-continue\r\nContent-Length: "
            + str(len(BODY)).encode()
            + b"\r\n\r\n"
        )
        assert conn.answer()[0] == 100
        conn.send(BODY)
        assert conn.answer()[0] == 200
    finally:
        conn.close()


def test_head_answers_carry_no_body(emulator: EmulatorHandle) -> None:
    conn = Conn(emulator)
    try:
        conn.send(b"HEAD /v2/nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        while b"\r\n\r\n" not in conn.buffer:
            conn._fill()
        head, conn.buffer = conn.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 404")
        conn.send(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = conn.answer()  # still in sync: the HEAD sent no body
        assert status == 200 and json.loads(body) == {"status": "ok"}
    finally:
        conn.close()


def test_protocol_errors_answer_json_and_close(emulator: EmulatorHandle) -> None:
    cases = [
        (b"PUT / HTTP/2.0\r\n\r\n", 505),
        (b"GET /x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 101 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", 431),
        (b"PUT /v2/customer_sessions/s HTTP/1.1\r\nContent-Length: many\r\n\r\n", 400),
        (b"PUT /v2/customer_sessions/s HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400),
        (b"PUT /v2/customer_sessions/s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ]
    for request, expected in cases:
        conn = Conn(emulator)
        try:
            conn.send(request)
            status, headers, body = conn.answer()
            assert (request[:30], status) == (request[:30], expected)
            assert headers["connection"] == "close"
            assert error_body(body)["StatusCode"] == expected
            assert conn.closed()
        finally:
            conn.close()


def test_a_dropped_connection_answers_nothing(emulator: EmulatorHandle) -> None:
    emulator.add_fault(kind="drop", times=1)
    conn = Conn(emulator)
    try:
        conn.put("d1")
        assert conn.closed()
    finally:
        conn.close()
    assert [c["status"] for c in emulator.requests()] == [None]
