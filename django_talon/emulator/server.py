"""A small threaded HTTP/1.1 server for the emulator's WSGI app, and :class:`EmulatorServer`.

Why not ``wsgiref.simple_server`` as is: it speaks HTTP/1.0 without keep-alive and writes the
status line, each header and the body in separate unbuffered ``send`` calls. With keep-alive
those small writes meet Nagle + delayed ACKs (~40 ms per request). This server keeps the
connection alive, sets ``TCP_NODELAY`` and writes each whole response with ONE ``sendall``.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import sys
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import TYPE_CHECKING, Any

from django_talon.emulator.app import DEFAULT_APPLICATION_KEY, DROP_KEY, EmulatorApp
from django_talon.emulator.campaign_file import CampaignSet

if TYPE_CHECKING:
    from django_talon.emulator.control import EmulatorControl

logger = logging.getLogger("django_talon.emulator.server")

MAX_BODY = 50 * 1024 * 1024


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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "django-talon-emulator"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:  # not TCP (e.g. a socketpair in tests): nothing to tune
            logger.debug("TCP_NODELAY not set: %s", exc)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, oversized URI) in the API's JSON error shape."""
        text = message or self.responses.get(code, ("error",))[0]
        body = json.dumps(
            {
                "message": text,
                "errors": [{"title": text, "source": {"resource": "request"}}],
                "StatusCode": code,
            }
        ).encode()
        self.close_connection = True
        self._write(code, [("Content-Type", "application/json")], body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._run()
        except (TimeoutError, ConnectionError) as exc:
            logger.debug("connection closed: %s", exc)
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size_line = self.rfile.readline(65537)
                try:
                    size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _run(self) -> None:
        body = self._read_body()
        if body is None:
            self._write(
                400,
                [("Content-Type", "application/json")],
                b'{"message":"invalid request body framing","errors":[{"title":"Bad request",'
                b'"source":{"resource":"request"}}],"StatusCode":400}',
            )
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "RAW_URI": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0] if self.client_address else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            DROP_KEY: False,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[name] = value if name not in environ else environ[name] + "," + value
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        result = self.server.app(environ, start_response)
        payload = b"".join(result)
        if environ[DROP_KEY] is True:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                logger.debug("shutdown after drop: %s", exc)
            return
        code = int(str(captured["status"]).split(" ", 1)[0])
        self._write(
            code, captured["headers"], payload, reason=str(captured["status"]).split(" ", 1)[1]
        )

    def _write(
        self, code: int, headers: list[tuple[str, str]], payload: bytes, reason: str = ""
    ) -> None:
        lines = [f"HTTP/1.1 {code} {reason or self.responses.get(code, ('',))[0]}"]
        lines.append(f"Server: {self.server_version}")
        lines.append(f"Date: {formatdate(usegmt=True)}")
        for name, value in headers:
            lines.append(f"{name}: {value}")
        if code != 204 and code >= 200:
            lines.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # HEAD answers carry the headers only, or the next keep-alive response would be garbled
        send_body = code != 204 and self.command != "HEAD"
        self.wfile.write(head + (payload if send_body else b""))


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
