"""The API key never appears in a message, repr or log record."""

from __future__ import annotations

import logging
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

import pytest
import requests

from django_talon.client import (
    RetryPolicy,
    TalonAPIError,
    TalonClient,
    TalonConnectionError,
    TalonDecodeError,
    TalonValidationError,
    error_for_status,
)
from django_talon.client.transport import Transport
from tests.client.support import (
    API_KEY,
    Answer,
    FakeClock,
    RecordingAdapter,
    make_client,
    serve_http,
)

APP_KEY = "fefecafedeadbeef"


def _record_text(record: logging.LogRecord) -> str:
    return record.getMessage() + " " + repr(record.__dict__)


def test_reprs_hide_the_key() -> None:
    client = make_client(RecordingAdapter(), application_id=1, application_key=APP_KEY)
    for text in (repr(client), str(client), repr(client.with_options(timeout=1))):
        assert API_KEY not in text and APP_KEY not in text
        assert "***" in text
    transport = client._transport
    assert isinstance(transport, Transport)
    assert API_KEY not in repr(transport)


def test_api_errors_echoing_the_key_are_scrubbed() -> None:
    body = {
        "message": f"bad key ApiKey-v1 {API_KEY}",
        "errors": [{"title": f"key {API_KEY} expired", "source": {"parameter": "Authorization"}}],
    }
    adapter = RecordingAdapter(Answer(401, body))
    with pytest.raises(TalonAPIError) as info:
        make_client(adapter).get_customer_session("s")
    error = info.value
    for text in (str(error), repr(error), repr(error.errors), repr(error.body), repr(error.args)):
        assert API_KEY not in text
    assert "***" in error.message


def test_connection_errors_mentioning_the_key_are_scrubbed() -> None:
    adapter = RecordingAdapter(Answer(raises=requests.ConnectionError(f"boom {API_KEY}")))
    with pytest.raises(TalonConnectionError) as info:
        make_client(adapter, retry=RetryPolicy.none()).get_customer_session("s")
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_log_records_never_contain_the_key(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    adapter = RecordingAdapter(
        Answer(503, {"message": f"down {API_KEY}"}),
        Answer(raises=requests.ConnectionError(f"reset {API_KEY}")),
        Answer(200, {"effects": []}),
        Answer(401, {"message": f"bad key {API_KEY}"}),
    )
    client = make_client(
        adapter,
        retry=RetryPolicy(sleep=clock.sleep, random=clock.random),
        application_id=1,
        application_key=APP_KEY,
        sign_v1=True,
    )
    with caplog.at_level(logging.DEBUG):
        client.update_customer_session_v2("s", {})
        with pytest.raises(TalonAPIError):
            client.update_customer_profile_v1("p", {})
    assert len(caplog.records) >= 4
    for record in caplog.records:
        text = _record_text(record)
        assert API_KEY not in text and APP_KEY not in text


def test_log_record_carries_method_path_status_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    with caplog.at_level(logging.INFO, logger="django_talon.client"):
        make_client(adapter).update_customer_session_v2("cart 1", {})
    [record] = caplog.records
    assert record.talon_method == "PUT"  # type: ignore[attr-defined]
    assert record.talon_path == "/v2/customer_sessions/cart%201"  # type: ignore[attr-defined]
    assert record.talon_status == 200  # type: ignore[attr-defined]
    assert record.talon_duration_ms >= 0  # type: ignore[attr-defined]
    assert record.talon_operation == "updateCustomerSessionV2"  # type: ignore[attr-defined]
    assert "PUT /v2/customer_sessions/cart%201 -> 200" in record.getMessage()


@pytest.mark.parametrize(
    "bad_key",
    [f"{API_KEY}\n", f" {API_KEY}", f"{API_KEY[:8]} {API_KEY[8:]}", f"{API_KEY}\x00", "kéy-1234"],
    ids=["trailing newline", "leading space", "inner space", "NUL", "non-ASCII"],
)
def test_a_key_no_header_can_carry_is_rejected_without_echoing_it(bad_key: str) -> None:
    """A key read from a secrets file often ends in a newline. requests would refuse the header
    with an error quoting it *escaped* (``'ApiKey-v1 ...\\n'``), which the redaction of the raw key
    cannot match: so the client refuses such a key up front, without repeating it."""
    with pytest.raises(TalonValidationError) as info:
        TalonClient("https://talon.example.com", bad_key)
    assert info.value.field == "api_key"
    text = str(info.value) + repr(info.value)
    assert API_KEY[:8] not in text and repr(bad_key)[1:-1] not in text


#: Not the repetitive support key: every 8-character piece of this one is unique and cannot
#: occur by chance in a path, a port or the padding.
ECHOED_KEY = "k3Y9vQ7zR2mX8wL4tN6pB1cD5fG0hJsEcReT42uW"


class _EchoAuthorization(BaseHTTPRequestHandler):
    """A proxy gone wrong: answers ``/v2/customer_sessions/<status>-<pad>`` with a text body of
    ``pad`` filler characters and then the request's Authorization header (the API key)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        status, pad = unquote(self.path.rsplit("/", 1)[1]).split("-")
        text = "x" * int(pad) + f" Authorization: {self.headers['Authorization']} (echoed)"
        data = text.encode()
        self.send_response(int(status))
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _texts_of(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), repr(error.args)]
    for name in ("message", "body", "errors"):
        texts.append(repr(getattr(error, name, None)))
    return texts


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 429, 500, 502, 503])
def test_an_echoed_key_is_redacted_before_any_truncation(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The client shortens non-JSON bodies (a decode error quotes the first 80 bytes, an error
    message keeps 200 characters). Redacting *after* shortening would miss a key cut in two
    and leave its prefix in the message: so the key is placed across every cut point, and no
    8-character piece of it may survive anywhere in the exception, nor in a log line."""
    caplog.set_level(logging.DEBUG)
    pieces = {ECHOED_KEY[i : i + 8] for i in range(len(ECHOED_KEY) - 7)}
    expected = TalonDecodeError if status == 200 else TalonAPIError
    with serve_http(_EchoAuthorization) as url:
        client = TalonClient(url, ECHOED_KEY, retry=RetryPolicy.none(), timeout=5)
        with client:
            for pad in range(20, 200):
                with pytest.raises(expected) as info:
                    client.get_customer_session(f"{status}-{pad}")
                for text in _texts_of(info.value):
                    leaked = sorted(piece for piece in pieces if piece in text)
                    assert leaked == [], f"pad={pad}: {text!r} contains {leaked}"
    assert "/v2/customer_sessions/" in caplog.text  # the attempts were logged
    logged = sorted(piece for piece in pieces if piece in caplog.text)
    assert logged == [], f"the log contains {logged}"


def test_error_for_status_redacts_the_text_before_shortening_it() -> None:
    text = "y" * 190 + f" {ECHOED_KEY} tail"
    error = error_for_status(502, None, text=text, redact=lambda t: t.replace(ECHOED_KEY, "***"))
    assert ECHOED_KEY[:8] not in str(error) and error.message.endswith("y *** tail")
