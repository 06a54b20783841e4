"""Answers are strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` are decode errors.

Python's ``json.loads`` accepts them as floats. An effect holding one was then refused by the
database's JSON column, inside the outbox delivery and after Talon.One had applied the call
(the fault review's ``nan`` mode). The client refuses them as it refuses any body that is not
JSON, with :class:`TalonDecodeError` (docs/client.md, "Errors"). Served by a real local server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from django_talon.client import RetryPolicy, TalonClient, TalonDecodeError, TalonServerError
from django_talon.client.transport import decode_json
from tests.client.support import API_KEY, JSONHandler, serve_http


def answer(value: str, *, echo: str = "") -> bytes:
    """A session update's answer with ``value`` (JSON text) as a discount, as sent; ``echo``
    comes first (within the 80 bytes an error message quotes)."""
    return (
        '{"note": "' + echo + '", "effects": [{"effectType": "setDiscount", "campaignId": 1, '
        '"rulesetId": 1, "ruleIndex": 0, "ruleName": "10%", "props": {"name": "10%", '
        '"value": ' + value + "}}]}"
    ).encode()


def serving(body: bytes, status: int = 200) -> type[Any]:
    class Handler(JSONHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def update(url: str) -> Any:
    client = TalonClient(url, API_KEY, retry=RetryPolicy.none())
    try:
        return client.update_customer_session_v2("s", {"profileId": "p"})
    finally:
        client.close()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_an_answer_are_decode_errors(constant: str) -> None:
    body = answer(constant, echo=f"rule for ApiKey-v1 {API_KEY}")
    assert json.loads(body)  # what the client accepted before
    with serve_http(serving(body)) as url, pytest.raises(TalonDecodeError) as info:
        update(url)
    error = info.value
    assert (error.method, error.path, error.status) == ("PUT", "/v2/customer_sessions/s", 200)
    message = str(error)
    assert f"{constant} is not a JSON value" in message and "body is not JSON" in message
    # The body is quoted shortened and scrubbed, as for any undecodable answer.
    assert 'starts with b\'{"note": "rule for ApiKey-v1 ***' in message
    assert len(message) < 300
    assert API_KEY not in message and API_KEY not in repr(error)
    assert error.__cause__ is None


def test_the_same_words_as_strings_and_finite_numbers_are_fine() -> None:
    body = answer('"NaN"').replace(b'"ruleName": "10%"', b'"ruleName": "Infinity"')
    with serve_http(serving(body)) as url:
        (effect,) = update(url).effects
    assert effect.props["value"] == "NaN" and effect.rule_name == "Infinity"
    with serve_http(serving(answer("1e308"))) as url:
        (effect,) = update(url).effects
    assert effect.props["value"] == 1e308


def test_an_error_answer_with_nan_is_still_the_status_error() -> None:
    """A non-2xx body that does not decode is kept as text: the status decides."""
    with serve_http(serving(answer("NaN"), status=500)) as url, pytest.raises(TalonServerError):
        update(url)


def test_decode_json_reads_bytes_as_json_loads_does() -> None:
    for body in (b'{"a": 1.5}', '{"a": "é"}'.encode("utf-16"), b'\xef\xbb\xbf{"a": [1]}'):
        assert decode_json(body) == json.loads(body)
    for bad in (b"[NaN]", b"[-Infinity]", b'{"a": Infinity}', b"\xff\xfe\x00", b"{"):
        with pytest.raises(ValueError):
            decode_json(bad)
