"""A non-2xx JSON answer without a ``message`` string keeps the server's explanation.

A gateway's ``{"error": "upstream request timeout"}``, AWS's ``{"Message": "..."}``, a list
or a ``message`` that is not a string gave only ``HTTP 504``. The error text now quotes the
body as compact JSON, scrubbed of the keys and shortened to 200 characters, as an HTML page
is quoted. Over a real local server, so the answer is read as the client reads any.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from django_talon.client import (
    RetryPolicy,
    TalonAPIError,
    TalonClient,
    TalonForbiddenError,
    TalonServerError,
)
from tests.client.support import API_KEY, JSONHandler, serve_http

#: kind -> (status, body as sent)
BODIES: dict[str, tuple[int, Any]] = {
    "gateway": (504, {"error": "upstream request timeout"}),
    "aws": (403, {"Message": "User is not authorized to access this resource"}),
    "list": (400, [{"message": "profileId is required"}]),
    "number": (422, {"message": 12, "detail": "bad quantity"}),
    "blank": (502, {"message": "  ", "error": "bad gateway"}),
    "pretty": (500, {"error": {"code": "E1", "text": "db down"}}),
    "echo": (401, {"error": "bad key", "key": API_KEY, "again": "x" * 150 + API_KEY}),
    "long": (503, {"error": "y" * 500}),
    "text": (500, "plain JSON string"),
    "usable": (409, {"message": "Session closed", "error": "ignored"}),
}


class _Errors(JSONHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.path.rsplit("/", 1)[-1]
        status, body = BODIES[kind]
        indent = 2 if kind == "pretty" else None
        self.send_body(status, json.dumps(body, indent=indent).encode())


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_http(_Errors) as address:
        yield address


def _error(url: str, kind: str) -> TalonAPIError:
    client = TalonClient(url, API_KEY, retry=RetryPolicy.none(), timeout=(2.0, 5.0))
    with pytest.raises(TalonAPIError) as caught:
        client.update_customer_session_v2(kind, {})
    return caught.value


@pytest.mark.parametrize(
    ("kind", "quoted"),
    [
        ("gateway", '{"error":"upstream request timeout"}'),
        ("aws", '{"Message":"User is not authorized to access this resource"}'),
        ("list", '[{"message":"profileId is required"}]'),
        ("number", '{"message":12,"detail":"bad quantity"}'),
        ("blank", '{"message":" ","error":"bad gateway"}'),
        ("pretty", '{"error":{"code":"E1","text":"db down"}}'),
        ("text", '"plain JSON string"'),
    ],
)
def test_a_json_body_without_a_message_is_quoted(url: str, kind: str, quoted: str) -> None:
    error = _error(url, kind)
    status = BODIES[kind][0]
    assert error.status == status
    assert error.message == quoted
    assert str(error) == f"PUT /v2/customer_sessions/{kind} -> {status}: {quoted}"
    assert error.body == BODIES[kind][1]  # the decoded body is still there, as before


def test_the_classes_follow_the_status_as_before(url: str) -> None:
    assert isinstance(_error(url, "gateway"), TalonServerError)
    assert isinstance(_error(url, "aws"), TalonForbiddenError)


def test_a_usable_message_is_still_the_text(url: str) -> None:
    assert _error(url, "usable").message == "Session closed"


def test_the_quote_is_shortened_to_200_characters(url: str) -> None:
    message = _error(url, "long").message
    assert message == ('{"error":"' + "y" * 500)[:200]


def test_a_key_echoed_in_the_body_never_reaches_the_error(url: str) -> None:
    error = _error(url, "echo")
    # redacted before the cut: unredacted, the second echo would straddle character 200
    assert error.message == '{"error":"bad key","key":"***","again":"' + "x" * 150 + '***"}'
    for part in (error.message, str(error), repr(error), json.dumps(error.body), *error.args):
        assert API_KEY not in part
        assert API_KEY[:8] not in part  # not even the part before the cut
