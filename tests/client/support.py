"""Test doubles for the client: a requests transport adapter that records and answers.

No network and no mocking library: ``RecordingAdapter`` is mounted on a real
``requests.Session``, so everything the client does above the socket (URL building, query
encoding, headers, body bytes, timeouts passed, retries) runs for real.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from django_talon.client import RetryPolicy, TalonClient

BASE_URL = "https://talon.test"
API_KEY = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Sent:
    """One request as it left the client."""

    method: str
    url: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes | None
    timeout: Any

    def json(self) -> Any:
        return None if self.body is None else json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raises: BaseException | None = None


Handler = Callable[[Sent], "Answer | dict[str, Any] | None"]


class RecordingAdapter(BaseAdapter):
    """Answers from a queue of ``Answer`` objects (the last one repeats) or a handler."""

    def __init__(self, *answers: Answer, handler: Handler | None = None) -> None:
        super().__init__()
        self.answers = list(answers) or [Answer(200, {})]
        self.handler = handler
        self.sent: list[Sent] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        sent = Sent(
            method=request.method or "",
            url=request.url or "",
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=dict(request.headers),
            body=body,
            timeout=kwargs.get("timeout"),
        )
        self.sent.append(sent)
        if self.handler is not None:
            result = self.handler(sent)
            answer = result if isinstance(result, Answer) else Answer(200, result)
        else:
            index = min(len(self.sent) - 1, len(self.answers) - 1)
            answer = self.answers[index]
        if answer.raises is not None:
            raise answer.raises
        response = requests.Response()
        response.status_code = answer.status
        if answer.raw is not None:
            content = answer.raw
        elif answer.body is None:
            content = b""
        else:
            content = json.dumps(answer.body).encode()
        response._content = content
        response.headers = CaseInsensitiveDict(
            {"Content-Type": "application/json", **answer.headers}
        )
        response.url = request.url or ""
        response.request = request
        response.reason = "TEST"
        return response

    def close(self) -> None:
        pass


class FakeClock:
    """Records sleeps instead of sleeping; ``random`` returns a fixed fraction."""

    def __init__(self, fraction: float = 1.0) -> None:
        self.sleeps: list[float] = []
        self.fraction = fraction

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def random(self) -> float:
        return self.fraction


def make_client(
    adapter: RecordingAdapter,
    *,
    retry: RetryPolicy | None = None,
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> TalonClient:
    """A client whose session is wired to ``adapter`` and whose retries never sleep."""
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    clock = clock or FakeClock()
    policy = retry or RetryPolicy(sleep=clock.sleep, random=clock.random)
    return TalonClient(BASE_URL, API_KEY, retry=policy, session=session, **kwargs)


class JSONHandler(BaseHTTPRequestHandler):
    """A quiet request handler for tests that need a real local HTTP server (sockets, pools)."""

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def send_json(self, status: int, payload: Any) -> None:
        self.send_body(status, json.dumps(payload).encode())

    def send_body(self, status: int, data: bytes) -> None:
        """Answer ``data`` as sent (already encoded JSON: odd numbers, indentation)."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free local port (a daemon thread per request); yields the URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
