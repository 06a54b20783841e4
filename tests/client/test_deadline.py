"""An attempt ends within its ``connect + read`` seconds, however slowly the body arrives.

``requests`` applies the read timeout to each socket read: a server that drips its answer a
byte at a time, each byte well within the read timeout, held a call for as long as it liked
(the fault review's ``drip`` mode: 90 s for a 1.5 s immediate timeout). The transport reads
the body itself against a deadline (docs/client.md, "Timeouts"). These tests talk to a real
local server and count what it managed to send before the client gave up; nothing asserts
elapsed time. A server dripping forever is modelled by a body far longer than the budget
allows: without the deadline the call would sit through all of it, and succeed.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from django_talon.client import (
    RetryPolicy,
    TalonClient,
    TalonConnectionError,
    TalonTimeoutError,
)
from tests.client.support import API_KEY, FakeClock, JSONHandler, serve_http

#: Seconds between two dripped bytes: far below any read timeout used here, so ``requests``
#: alone never times out.
DRIP = 0.02
#: The dripped answer: 500 bytes take 10 s to drip, 25 times the 0.4 s budget used below.
LONG_BODY = json.dumps({"effects": [], "padding": "x" * 470}).encode()
#: (connect, read) of the dripping tests: a 0.4 s budget, 20 dripped bytes' worth.
TIMEOUT = (0.2, 0.2)
FAST_BODY = json.dumps({"integrationId": "s", "state": "open"}).encode()


@dataclass
class Tally:
    """What the server saw: connections, and how far each drip got before the peer left."""

    connections: int = 0
    dripped: list[int] = field(default_factory=list)
    gone: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def server(
    tally: Tally,
    *,
    drips: int = 1,
    long_body: bytes = LONG_BODY,
    headers: dict[str, str] | None = None,
) -> type[Any]:
    """A keep-alive server: the first ``drips`` requests get ``long_body`` a byte every
    :data:`DRIP` seconds (``Content-Length`` announced up front); later ones :data:`FAST_BODY`
    at once. A drip stops when a write fails: the client closed the connection."""

    class Handler(JSONHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with tally.lock:
                tally.connections += 1

        def do_GET(self) -> None:
            with tally.lock:
                drip = len(tally.dripped) < drips
                if drip:
                    tally.dripped.append(0)
                    index = len(tally.dripped) - 1
            body = long_body if drip else FAST_BODY
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not drip:
                self.wfile.write(body)
                return
            self.wfile.flush()
            for offset in range(len(body)):
                try:
                    self.wfile.write(body[offset : offset + 1])
                    self.wfile.flush()
                except OSError:  # the client closed the connection: it gave up
                    tally.gone.set()
                    self.close_connection = True
                    return
                tally.dripped[index] += 1
                time.sleep(DRIP)

    return Handler


def test_a_dripping_answer_times_out_within_the_budget_and_the_connection_is_closed() -> None:
    tally = Tally()
    with serve_http(server(tally)) as url:
        client = TalonClient(url, API_KEY, timeout=TIMEOUT, retry=RetryPolicy.none())
        with pytest.raises(TalonTimeoutError) as info:
            client.get_customer_session("s")
        # The client closed the socket mid-answer (the server's next writes failed), so the
        # drip ended there. A guard, not a timing assert: it waits for what the server sees.
        assert tally.gone.wait(30), "the client kept the dripping connection open"
        # 0.4 s of budget is about 20 bytes; without the deadline all 500 arrive (10 s).
        (dripped,) = tally.dripped
        assert dripped < len(LONG_BODY) // 2
        message = str(info.value)
        assert "GET /v2/customer_sessions/s timed out" in message
        assert "not complete within 0.4 s" in message and "body bytes received" in message
        assert API_KEY not in message and API_KEY not in repr(info.value)
        assert info.value.__cause__ is None  # not chained to requests (its headers hold the key)

        # A fresh connection serves the next call: the broken one was not put back as usable.
        assert client.get_customer_session("s").raw["state"] == "open"
        assert tally.connections == 2
        client.close()


def test_a_safe_operation_retries_a_dripping_answer_with_a_budget_per_attempt() -> None:
    tally = Tally()
    clock = FakeClock()
    retry = RetryPolicy(max_attempts=2, sleep=clock.sleep, random=clock.random)
    with serve_http(server(tally, drips=2)) as url:
        client = TalonClient(url, API_KEY, timeout=TIMEOUT, retry=retry)
        with pytest.raises(TalonTimeoutError):
            client.get_customer_session("s")
        assert len(clock.sleeps) == 1  # one retry: the overrun is a timeout like any other
        assert len(tally.dripped) == 2 and all(n < len(LONG_BODY) // 2 for n in tally.dripped)
        client.close()


def test_a_dripping_gzip_answer_is_bounded_too() -> None:
    """Compressed bodies are read undecoded against the deadline, then decoded (a gzip
    header dripped byte by byte decodes to nothing for a long time)."""
    tally = Tally()
    noise = base64.b64encode(random.Random(0).randbytes(450)).decode()  # hardly compressible
    body = gzip.compress(json.dumps({"effects": [], "padding": noise}).encode(), mtime=0)
    assert len(body) > 400
    with serve_http(server(tally, long_body=body, headers={"Content-Encoding": "gzip"})) as url:
        client = TalonClient(url, API_KEY, timeout=TIMEOUT, retry=RetryPolicy.none())
        with pytest.raises(TalonTimeoutError):
            client.get_customer_session("s")
        assert tally.gone.wait(30)
        assert tally.dripped[0] < len(body) // 2
        client.close()


class _Answers(JSONHandler):
    """Keep-alive answers at once: gzip, chunked, plain, a truncated and a corrupt body."""

    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def _head(self, **headers: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def do_GET(self) -> None:
        kind = self.path.rsplit("/", 1)[-1]
        if kind == "gzip":
            body = gzip.compress(FAST_BODY)
            self._head(Content_Encoding="gzip", Content_Length=str(len(body)))
            self.wfile.write(body)
        elif kind == "chunked":
            self._head(Transfer_Encoding="chunked")
            for piece in (FAST_BODY[:10], FAST_BODY[10:]):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif kind == "truncated":
            self._head(Content_Length=str(len(FAST_BODY) + 10))
            self.wfile.write(FAST_BODY)
            self.close_connection = True
        elif kind == "corrupt":
            self._head(Content_Encoding="gzip", Content_Length="12")
            self.wfile.write(b"not gzip at all"[:12])
        else:
            self._head(Content_Length=str(len(FAST_BODY)))
            self.wfile.write(FAST_BODY)


@pytest.fixture
def answers() -> Any:
    _Answers.connections = 0
    with serve_http(_Answers) as url:
        client = TalonClient(url, API_KEY, timeout=(2.0, 5.0), retry=RetryPolicy.none())
        yield client
        client.close()


def test_normal_answers_are_decoded_and_keep_the_connection(answers: TalonClient) -> None:
    for kind in ("plain", "gzip", "chunked", "plain", "gzip"):
        state = answers.get_customer_session(kind)
        assert state.raw == json.loads(FAST_BODY), kind
    assert _Answers.connections == 1  # every complete answer gave the connection back


def test_broken_bodies_are_connection_errors_not_decode_errors(answers: TalonClient) -> None:
    """As ``requests`` reported them while reading: the answer never arrived whole."""
    with pytest.raises(TalonConnectionError) as truncated:
        answers.get_customer_session("truncated")
    assert not isinstance(truncated.value, TalonTimeoutError)
    assert "IncompleteRead" in str(truncated.value)
    with pytest.raises(TalonConnectionError, match="ContentDecodingError"):
        answers.get_customer_session("corrupt")
    # The truncated answer's connection was dropped; the corrupt one had arrived whole (its
    # framing was fine), so its connection went back to the pool and serves the next call.
    assert answers.get_customer_session("plain").raw["state"] == "open"
    assert _Answers.connections == 2
