"""No frame an error passes through holds the API key, and no chained exception does.

Error trackers record more than the message: Sentry's default (``include_local_variables``)
stores the ``repr`` of every local variable of every frame of the traceback, and follows the
exception chain. The fault review found the key there three ways: ``Transport.send``'s
``headers`` dict (every client error), the raw ``content`` and decoded ``body`` of an answer
echoing the key (locals of the frame raising its error), and the ``requests`` exception left
in ``__context__`` by ``raise ... from None``, whose PreparedRequest's headers hold the key.
(A 2xx of the wrong shape is refused above the transport, by a frame holding the ``Reply``:
its ``repr`` leaves the body out.) These tests walk what a tracker walks, against a real
local server.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import pytest

from django_talon.client import RetryPolicy, TalonClient, TalonError
from tests.client.support import API_KEY, JSONHandler, serve_http


class _Echo(JSONHandler):
    """Answers by the last path segment, each answer repeating the Authorization it got."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        got = self.headers.get("Authorization", "")
        kind = self.path.split("?")[0].rsplit("/", 1)[-1]
        echo = {
            "message": f"bad key {got}",
            "errors": [{"title": f"key {got}", "source": {"parameter": got}}],
            "echo": {"Authorization": got},
        }
        if kind == "bad":
            self.send_json(400, echo)
        elif kind == "busy":
            self.send_json(503, echo)
        elif kind == "text":  # a 2xx that is not JSON, quoting the key
            data = f"not json; you sent {got}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:  # a JSON answer of the wrong shape (a list), echoing the key
            self.send_json(200, [got])

    do_GET = do_PUT = _answer


@pytest.fixture
def echo_url() -> Iterator[str]:
    with serve_http(_Echo) as url:
        yield url


def _raised(call: Callable[[], object]) -> TalonError:
    """The error ``call`` raises (caught here, so the test's own frame is not walked)."""
    try:
        call()
    except TalonError as exc:
        return exc
    raise AssertionError("no TalonError was raised")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception chained to it (cause and context, as trackers follow)."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        exc = todo.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        todo += [e for e in (exc.__cause__, exc.__context__) if e is not None]


def _frames(tb: TracebackType | None) -> Iterator[tuple[str, dict[str, Any]]]:
    while tb is not None:
        yield tb.tb_frame.f_code.co_name, dict(tb.tb_frame.f_locals)
        tb = tb.tb_next


def _leaks(error: BaseException) -> list[str]:
    """Where the key shows: each frame's local whose ``repr`` holds it, and chained errors."""
    found = []
    for exc in _chain(error):
        if exc is not error:
            found.append(f"chained {type(exc).__name__}")
        for function, variables in _frames(exc.__traceback__):
            found += [
                f"{function}: {name}" for name, value in variables.items() if API_KEY in repr(value)
            ]
    return found


def _walked(error: BaseException) -> set[str]:
    return {function for function, _ in _frames(error.__traceback__)}


def _client(url: str) -> TalonClient:
    return TalonClient(url, API_KEY, retry=RetryPolicy.none(), timeout=(2.0, 5.0))


@pytest.mark.parametrize("kind", ["bad", "busy", "text", "shape"])
def test_no_frame_of_an_answered_error_holds_the_key(echo_url: str, kind: str) -> None:
    client = _client(echo_url)
    error = _raised(lambda: client.get_customer_session(kind))
    client.close()
    # the frames that saw the answer are among those walked
    assert ("_json_object" if kind == "shape" else "send") in _walked(error)
    assert _leaks(error) == []
    assert error.__context__ is None and error.__cause__ is None


def test_a_retried_error_holds_no_key_either(echo_url: str) -> None:
    """Retried attempts (503, then 503): the raising frame has seen several answers."""
    retry = RetryPolicy(max_attempts=3, sleep=lambda _: None)
    client = TalonClient(echo_url, API_KEY, retry=retry, timeout=(2.0, 5.0))
    error = _raised(lambda: client.update_customer_session_v2("busy", {"cartItems": []}))
    client.close()
    assert _leaks(error) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_connection_error_has_no_chained_requests_exception() -> None:
    """``requests.ConnectionError.request.headers["Authorization"]`` was reachable through
    ``__context__`` (``from None`` only hides it from printing)."""
    client = _client(f"http://127.0.0.1:{_free_port()}")
    error = _raised(lambda: client.get_customer_session("s1"))
    assert error.__context__ is None and error.__cause__ is None
    assert error.__suppress_context__  # printed tracebacks say nothing of requests either
    assert _leaks(error) == []
    assert "send" in _walked(error)


def test_the_echoed_body_is_still_in_the_scrubbed_error(echo_url: str) -> None:
    """Nothing lost: the error keeps the body, with the key replaced."""
    client = _client(echo_url)
    error = _raised(lambda: client.get_customer_session("bad"))
    client.close()
    body = json.dumps(getattr(error, "body", None))
    assert "bad key ApiKey-v1 ***" in body and API_KEY not in body
