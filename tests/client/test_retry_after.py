"""``Retry-After`` on a 429 or 503 answer: the client's error says how long the server asked to
wait (``TalonAPIError.retry_after``), and the outbox waits at least that long before its next
attempt (a retry after our own short backoff only earns another 429). Served by a real
local server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from django_talon.client import RetryPolicy, TalonClient
from django_talon.client.errors import (
    MAX_RETRY_AFTER,
    TalonRateLimitedError,
    TalonServerError,
    error_for_status,
    retry_after_seconds,
)
from tests.client.support import API_KEY, JSONHandler, serve_http


def refusing(status: int, retry_after: str | None) -> type[Any]:
    class Handler(JSONHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"message": "slow down"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.mark.parametrize(
    ("status", "header", "expected", "kind"),
    [
        (429, "30", 30.0, TalonRateLimitedError),
        (503, "7", 7.0, TalonServerError),
        (429, None, None, TalonRateLimitedError),
        (429, "soon", None, TalonRateLimitedError),
    ],
)
def test_the_error_carries_the_servers_retry_after(
    status: int, header: str | None, expected: float | None, kind: type[Exception]
) -> None:
    with serve_http(refusing(status, header)) as url:
        client = TalonClient(url, API_KEY, retry=RetryPolicy.none())
        with pytest.raises(kind) as caught:
            client.update_customer_session_v2("s1", {"cartItems": []})
    assert getattr(caught.value, "retry_after", "missing") == expected


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    in_two_minutes = format_datetime(now + timedelta(minutes=2), usegmt=True)
    assert retry_after_seconds(in_two_minutes, now=now) == 120.0
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0
    assert retry_after_seconds("99999999") == MAX_RETRY_AFTER
    assert retry_after_seconds(" 5 ") == 5.0
    for unreadable in ("", None, "-3", "1.5", "tomorrow"):
        assert retry_after_seconds(unreadable) is None
    error = error_for_status(429, None, headers={"Retry-After": "12"})
    assert isinstance(error, TalonRateLimitedError) and error.retry_after == 12.0
    assert error_for_status(429, None).retry_after is None
