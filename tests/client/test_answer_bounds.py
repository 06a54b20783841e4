"""What an answer's body may be: bounded in size (decompressed too), strictly decompressed,
and strict JSON numbers.

From the fault review: a 300 MB answer was read whole and a deflate "bomb" (a few hundred KB
inflating to 800 MB) decompressed whole; a corrupt gzip body decoded to ``b""`` and read as
an empty success; ``1e400`` decoded to infinity and a discount's value became 0. Served by a
real local server, so the socket reading and urllib3's framing run for real.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from urllib3.exceptions import DecodeError

from django_talon.client import (
    RetryPolicy,
    TalonClient,
    TalonConnectionError,
    TalonDecodeError,
    TalonServerError,
    TalonValidationError,
)
from django_talon.client.bodies import (
    DEFAULT_MAX_BODY_BYTES,
    BodyTooLargeError,
    decode_content,
)
from django_talon.client.transport import decode_json
from tests.client.support import API_KEY, JSONHandler, serve_http

MiB = 1024 * 1024
SESSION = json.dumps({"integrationId": "s", "state": "open"}).encode()


def _padded(size: int) -> bytes:
    """A JSON session answer of ``size`` bytes (zeros of padding compress ~1000:1)."""
    head = b'{"integrationId": "s", "pad": "'
    return head + b"0" * (size - len(head) - 2) + b'"}'


#: kind -> (status, body bytes as sent, extra headers); built once, on first use
_BODIES: dict[str, tuple[int, bytes, dict[str, str]]] = {}


def _bodies() -> dict[str, tuple[int, bytes, dict[str, str]]]:
    if not _BODIES:
        two_members = gzip.compress(SESSION[:10], mtime=0) + gzip.compress(SESSION[10:], mtime=0)
        _BODIES.update(
            {
                "plain": (200, SESSION, {}),
                "big": (200, _padded(2 * MiB), {}),
                "big503": (503, _padded(2 * MiB), {}),
                "bomb": (200, zlib.compress(_padded(64 * MiB), 9), {"Content-Encoding": "deflate"}),
                "gzipbomb": (
                    200,
                    gzip.compress(_padded(40 * MiB), 9),
                    {"Content-Encoding": "gzip"},
                ),
                "gzip": (200, gzip.compress(SESSION), {"Content-Encoding": "gzip"}),
                "members": (200, two_members, {"Content-Encoding": "gzip"}),
                "rawdeflate": (200, _raw_deflate(SESSION), {"Content-Encoding": "deflate"}),
                "badgzip": (200, b"\x1f\x8b\x08\x00garbage", {"Content-Encoding": "gzip"}),
                "cutgzip": (200, gzip.compress(SESSION)[:-8], {"Content-Encoding": "gzip"}),
                "cutdeflate": (200, zlib.compress(SESSION)[:-6], {"Content-Encoding": "deflate"}),
                "huge_int": (200, b'{"integrationId": "s", "v": 1e400}', {}),
            }
        )
    return _BODIES


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


class _Bodies(JSONHandler):
    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        # The client closes connections it gives up on mid-answer (past its limit); the
        # reset that follows is what those tests ask for, not a failure worth printing.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            super().handle()

    def do_GET(self) -> None:
        kind = self.path.rsplit("/", 1)[-1]
        if kind == "liar":  # announces 1 GiB, sends a little, keeps the connection open
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            self.wfile.write(SESSION)
            self.close_connection = True
            return
        if kind == "chunked":  # 2 MiB in 64 KiB chunks, no Content-Length
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            body = _padded(2 * MiB)
            for start in range(0, len(body), 1 << 16):
                piece = body[start : start + (1 << 16)]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        status, body, headers = _bodies()[kind]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_http(_Bodies) as address:
        yield address


def _client(url: str, **kwargs: Any) -> TalonClient:
    return TalonClient(url, API_KEY, retry=RetryPolicy.none(), timeout=(2.0, 10.0), **kwargs)


@pytest.mark.parametrize("kind", ["big", "chunked", "liar"])
def test_a_body_past_the_limit_is_not_read(url: str, kind: str) -> None:
    client = _client(url, max_body_bytes=1 * MiB)
    with pytest.raises(TalonDecodeError, match="larger than 1048576 bytes") as caught:
        client.get_customer_session(kind)
    assert caught.value.status == 200 and "max_body_bytes" in str(caught.value)
    # the connection given up mid-answer is not reused: the next call works
    assert client.get_customer_session("plain").raw["state"] == "open"
    client.close()


def test_an_error_answer_past_the_limit_keeps_its_status(url: str) -> None:
    with pytest.raises(TalonServerError, match="max_body_bytes") as caught:
        _client(url, max_body_bytes=1 * MiB).get_customer_session("big503")
    assert caught.value.status == 503 and caught.value.body is None


def test_a_compression_bomb_stops_at_the_limit(url: str) -> None:
    """64 MiB of deflate in ~64 KB: inflated only up to the 1 MiB bound (memory measured)."""
    client = _client(url, max_body_bytes=1 * MiB)
    tracemalloc.start()
    try:
        with pytest.raises(TalonDecodeError, match="larger than"):
            client.get_customer_session("bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
    assert peak < 16 * MiB


def test_the_default_limit_is_32_mib(url: str) -> None:
    assert DEFAULT_MAX_BODY_BYTES == 32 * MiB
    client = _client(url)
    with pytest.raises(TalonDecodeError, match=f"larger than {32 * MiB} bytes"):
        client.get_customer_session("gzipbomb")  # 40 MiB once decompressed
    assert client.get_customer_session("big").raw["integrationId"] == "s"  # 2 MiB is fine
    client.close()


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "32"])
def test_the_limit_must_be_a_positive_integer(value: Any) -> None:
    with pytest.raises(TalonValidationError) as caught:
        TalonClient("https://talon.test", API_KEY, max_body_bytes=value)
    assert caught.value.field == "max_body_bytes"


@pytest.mark.parametrize("kind", ["plain", "gzip", "members", "rawdeflate"])
def test_good_bodies_decode(url: str, kind: str) -> None:
    client = _client(url)
    assert client.get_customer_session(kind).raw == json.loads(SESSION)
    client.close()


@pytest.mark.parametrize("kind", ["badgzip", "cutgzip", "cutdeflate"])
def test_a_corrupt_or_truncated_compressed_body_is_a_connection_error(url: str, kind: str) -> None:
    """Not an empty (or shortened) success: "the answer never arrived whole"."""
    client = _client(url)
    with pytest.raises(TalonConnectionError, match="ContentDecodingError"):
        client.get_customer_session(kind)
    client.close()


def test_decode_content_directly() -> None:
    assert decode_content(b"", "gzip", 10) == b""  # a 204 may still name its coding
    assert decode_content(gzip.compress(b"abc") + b"\x00\x00", "gzip", 10) == b"abc"
    assert decode_content(b"abc", "identity", 10) == b"abc"
    with pytest.raises(BodyTooLargeError):
        decode_content(b"abcdefghijk", "identity", 10)
    with pytest.raises(BodyTooLargeError):
        decode_content(gzip.compress(b"x" * 11), "gzip", 10)
    assert decode_content(gzip.compress(b"x" * 10), "gzip", 10) == b"x" * 10
    with pytest.raises(DecodeError, match="follow the end"):
        decode_content(zlib.compress(b"abc") + b"junk", "deflate", 10)
    with pytest.raises(DecodeError, match="not valid gzip"):
        decode_content(gzip.compress(b"abc") + b"junk", "gzip", 10)


def test_a_number_past_the_float_range_is_undecodable(url: str) -> None:
    """``1e400`` read as infinity made a discount 0 and an effect unstorable."""
    with pytest.raises(TalonDecodeError, match="out of range"):
        _client(url).get_customer_session("huge_int")
    for text in (b"1e400", b"-1e999", b'{"v": [2E+309]}'):
        with pytest.raises(ValueError, match="out of range"):
            decode_json(text)
    assert decode_json(b"[1.7976931348623157e308, 1e-400, 2.5]") == [
        1.7976931348623157e308,
        0.0,
        2.5,
    ]
