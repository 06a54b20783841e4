"""A small threaded HTTP/1.1 server for the emulator's app, and :class:`EmulatorServer`.

Why not ``wsgiref.simple_server`` or ``http.server`` as they are: ``wsgiref`` speaks HTTP/1.0
without keep-alive and writes the status line, each header and the body in separate small
``send`` calls, which meet Nagle + delayed ACKs (~40 ms per request) on a keep-alive
connection; ``BaseHTTPRequestHandler`` parses every request's headers with the ``email``
package, which was a fifth of the emulator's CPU per session update. This server reads the
request line and headers itself (HTTP/1.1 keep-alive, ``Content-Length`` or chunked bodies,
``Expect: 100-continue``; folded header lines refused), hands the request straight to :meth:`EmulatorApp.answer` (no
WSGI environ in between), sets ``TCP_NODELAY`` and writes each whole response with ONE
``sendall``. The app stays a plain WSGI application for any other server.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import StreamRequestHandler, ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING, Any

from django_talon.emulator.app import (
    DEFAULT_APPLICATION_KEY,
    Answer,
    EmulatorApp,
    request_from_target,
)
from django_talon.emulator.campaign_file import CampaignSet

if TYPE_CHECKING:
    from django_talon.emulator.control import EmulatorControl

logger = logging.getLogger("django_talon.emulator.server")

MAX_BODY = 50 * 1024 * 1024
MAX_LINE = 65536  # request line and each header line, as http.server
MAX_HEADERS = 100  # as http.client
SERVER_NAME = "django-talon-emulator"
_FRAMING = "invalid request body framing"
REASONS = {code: phrase for code, (phrase, _) in BaseHTTPRequestHandler.responses.items()}


class _Clock:
    """The ``Date`` header, formatted once per second instead of once per answer."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def date(self) -> str:
        now = int(time.time())
        if now != self._second:  # a race only formats the same second twice
            self._text = formatdate(now, usegmt=True)
            self._second = now
        return self._text


_CLOCK = _Clock()


class _Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    block_on_close = False
    app: EmulatorApp

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that disconnects mid-request is normal under faults and timeouts.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            logger.debug("connection from %s ended: %s", client_address, exc)
            return
        logger.exception("unexpected error serving %s", client_address)


class _ProtocolError(Exception):
    """A request the server cannot read: answered with this status, then the socket closes."""

    def __init__(self, status: int, message: str, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.title = title or message


def _header_line(headers: dict[str, str], text: str) -> None:
    """Add one header line (its line end may still be there) to ``headers``."""
    if text[0] in " \t":
        # obsolete line folding (RFC 9112 5.2): refused rather than unfolded, so that
        # no proxy in front and this server can read the header block differently
        raise _ProtocolError(400, "Obsolete header line folding is not accepted")
    name, colon, value = text.partition(":")
    if not colon or not name or name[-1] in " \t":
        # no colon, or whitespace before it (RFC 9112 5.1: must be refused)
        raise _ProtocolError(400, "Bad header line")
    name = name.lower()
    value = value.strip()
    headers[name] = headers[name] + "," + value if name in headers else value


class _Handler(StreamRequestHandler):
    """One connection: read a request, answer it, repeat while the connection stays alive."""

    server: _Server
    disable_nagle_algorithm = False  # set in setup(), where a non-TCP socket is tolerated

    def setup(self) -> None:
        super().setup()
        self.close_connection = False
        self.command = ""
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # not TCP (e.g. a socketpair in tests): nothing to tune
            logger.debug("TCP_NODELAY not set: %s", exc)

    def handle(self) -> None:
        try:
            while not self.close_connection:
                self._one_request()
        except (TimeoutError, ConnectionError) as exc:
            logger.debug("connection closed: %s", exc)

    def _one_request(self) -> None:
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            self.close_connection = True
            return
        try:
            if len(line) > MAX_LINE:
                raise _ProtocolError(414, "Request-URI Too Long")
            method, target, version = self._request_line(line)
            headers = self._headers()
            self.close_connection = self._closes(version, headers)
            if headers.get("expect", "").lower() == "100-continue" and version == "HTTP/1.1":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = self._body(headers)
        except _ProtocolError as exc:
            self.close_connection = True
            self._error(exc.status, str(exc), exc.title)
            return
        request, raw_path = request_from_target(method, target, headers, body)
        answer = self.server.app.answer(request, raw_path)
        if answer.dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                logger.debug("shutdown after drop: %s", exc)
            return
        self._write(answer)

    def _request_line(self, line: bytes) -> tuple[str, str, str]:
        words = line.decode("iso-8859-1").split()
        self.command = ""
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            raise _ProtocolError(400, f"Bad request syntax ({line.strip()[:100]!r})")
        if words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            raise _ProtocolError(505, f"Invalid HTTP version ({words[2][:20]})")
        self.command = words[0]
        return words[0], words[1], words[2]

    def _headers(self) -> dict[str, str]:
        """Header lines up to the blank line: lower-case names; repeats joined with commas.

        Stricter than ``http.client.parse_headers`` where the RFC allows it: a folded line
        (continuation starting with a space) and a space before the colon are 400s.
        """
        lines = self._buffered_header_lines()
        if lines is not None:  # the whole block was already read: no readline per line
            headers: dict[str, str] = {}
            for text in lines:
                # _header_line, inlined for the usual line (issue 13: once per header of
                # every request); anything it would refuse or join goes through it
                name, colon, value = text.partition(":")
                if colon and name and name[-1] not in " \t" and text[0] not in " \t":
                    name = name.lower()
                    if name not in headers:
                        headers[name] = value.strip()
                        continue
                _header_line(headers, text)
            return headers
        headers = {}
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE + 1)
            if len(raw) > MAX_LINE:
                raise _ProtocolError(431, "Line too long")
            if raw in (b"\r\n", b"\n", b""):
                return headers
            _header_line(headers, raw.decode("iso-8859-1"))
        raise _ProtocolError(431, "Too many headers")

    def _buffered_header_lines(self) -> list[str] | None:
        """The header lines, if the whole block (up to the blank line) is in the read buffer
        and plain: CRLF line ends only, at most MAX_HEADERS lines, shorter than MAX_LINE.
        The block is consumed; None (nothing consumed) sends the caller line by line.

        Why: a client sends the request line and headers in one packet, so the block is
        almost always buffered; one split replaces a ``readline`` per header line.
        """
        peek = getattr(self.rfile, "peek", None)
        if peek is None:
            return None
        buffered: bytes = peek(MAX_LINE)
        if buffered.startswith(b"\r\n"):
            self.rfile.read(2)
            return []
        end = buffered.find(b"\r\n\r\n", 0, MAX_LINE)
        if end < 0:
            return None
        block = buffered[:end]
        line_ends = block.count(b"\r\n")
        if block.count(b"\n") != line_ends or line_ends >= MAX_HEADERS:
            return None  # a bare LF line end, or too many lines: the line-by-line rules
        self.rfile.read(end + 4)
        return block.decode("iso-8859-1").split("\r\n")

    @staticmethod
    def _closes(version: str, headers: dict[str, str]) -> bool:
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.0":
            return "keep-alive" not in connection
        return "close" in connection

    def _body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return self._chunked_body()
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            raise _ProtocolError(400, _FRAMING, "Bad request") from None
        if length < 0 or length > MAX_BODY:
            raise _ProtocolError(400, _FRAMING, "Bad request")
        return self.rfile.read(length) if length else b""

    def _chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise _ProtocolError(400, _FRAMING, "Bad request") from None
            if size == 0:
                while self.rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields are read and ignored
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _ProtocolError(400, _FRAMING, "Bad request")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(MAX_LINE + 1)

    def _error(self, code: int, message: str, title: str) -> None:
        """Protocol-level errors (bad request line, oversized URI) in the API's JSON error shape."""
        body = json.dumps(
            {
                "message": message,
                "errors": [{"title": title, "source": {"resource": "request"}}],
                "StatusCode": code,
            }
        ).encode()
        self._write(
            Answer(code, REASONS.get(code, "Error"), [("Content-Type", "application/json")], body)
        )

    def _write(self, answer: Answer) -> None:
        code = answer.status
        head = (
            f"HTTP/1.1 {code} {answer.reason or REASONS.get(code, '')}\r\n"
            f"Server: {SERVER_NAME}\r\nDate: {_CLOCK.date()}\r\n"
        )
        for name, value in answer.headers:
            head += f"{name}: {value}\r\n"
        if code != 204 and code >= 200:
            head += f"Content-Length: {len(answer.body)}\r\n"
        if self.close_connection:
            head += "Connection: close\r\n"
        data = (head + "\r\n").encode("latin-1")
        # HEAD answers carry the headers only, or the next keep-alive response would be garbled
        if code != 204 and self.command != "HEAD":
            data += answer.body
        self.wfile.write(data)


class EmulatorServer:
    """The emulator over real HTTP on a background thread.

    >>> with EmulatorServer(api_key="secret") as server:  # doctest: +SKIP
    ...     requests.put(f"{server.url}/v2/customer_sessions/s1", ...)
    """

    def __init__(
        self,
        api_key: str = "emulator-api-key",
        campaigns: str | CampaignSet | dict[str, Any] | list[Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        application_key: str = DEFAULT_APPLICATION_KEY,
        faults: list[Any] | None = None,
        seed: int = 0,
        max_logged_requests: int = 10_000,
    ) -> None:
        self.api_key = api_key
        self.application_key = application_key
        self.host = host
        self.app = EmulatorApp(
            api_key=api_key,
            campaigns=campaigns,
            application_key=application_key,
            seed=seed,
            faults=faults or [],
            max_logged_requests=max_logged_requests,
        )
        self._requested_port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> Any:
        return self.app.store

    @property
    def application_id(self) -> int:
        return self.app.store.application_id

    def _bind(self) -> _Server:
        httpd = _Server((self.host, self._requested_port), _Handler)
        httpd.app = self.app
        return httpd

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the emulator server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:40123``."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def control(self) -> EmulatorControl:
        from django_talon.emulator.control import EmulatorControl

        return EmulatorControl(self.url)

    def start(self) -> EmulatorServer:
        """Bind and serve on a daemon thread; returns self."""
        if self._httpd is not None:
            return self
        self._httpd = self._bind()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"talon-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Talon.One emulator listening on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread (the CLI)."""
        if self._httpd is None:
            self._httpd = self._bind()
        logger.info("Talon.One emulator listening on %s", self.url)
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving, wake hanging requests, close the socket."""
        self.app.faults.wake.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
