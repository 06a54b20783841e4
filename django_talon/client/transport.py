"""The one place that talks HTTP: session, headers, timeouts, retries, logging, redaction.

Everything above this module builds a :class:`Call` (what to send and whether it is safe to
repeat) and gets back a :class:`Reply` or one of the exceptions in :mod:`.errors`.

- One ``requests.Session`` per client gives connection pooling; ``with_options`` copies share
  it. Per-call headers are passed per request, never stored on the session, so sharing the
  session between threads and option-copies is safe.
- The environment ``requests`` would consult on every call (``HTTP(S)_PROXY``/``ALL_PROXY``
  and ``NO_PROXY`` for the base URL, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) is read once,
  when the client creates its session (:func:`read_environment`), and passed to each request;
  that session has ``trust_env = False``. Why: scanning ``os.environ`` per call was a fifth of
  the client's CPU, and one client always talks to one host. A change of the environment is
  picked up by a new client or ``with_options(refresh_environment=True)``. ``~/.netrc`` is
  not read: it could only replace the ``Authorization`` header the API needs. A session passed
  in by the caller is used as it is (its own ``trust_env`` decides).
- Timeouts are ``(connect, read)`` seconds handed to every request; never ``None``. They
  also bound each attempt *in all*: ``requests`` applies the read timeout to each socket read,
  so a server dripping its body a byte at a time could hold a call for minutes. The body is
  therefore read here (``stream=True``, single reads), with the socket timeout shrunk to what
  is left of ``connect + read`` seconds since the attempt started; past that the connection
  is closed and the attempt is a timeout (:meth:`Transport._read_body`).
- Answers are strict JSON (:func:`decode_json`): ``NaN``/``Infinity``, which Python's
  ``json`` accepts but no JSON column stores, make a :class:`.errors.TalonDecodeError`.
- Retries follow :class:`.retry.RetryPolicy`, but only when ``Call.safe_to_retry`` says the
  operation may run twice: on connection errors/timeouts and on the policy's statuses
  (409 and 5xx by default).
- Each attempt is logged on the ``django_talon.client`` logger with method, path, status and
  duration. The API key and the application key are never logged and are scrubbed from any
  text that reaches an exception.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import requests
import requests.utils
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import DecodeError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import SSLError as Urllib3SSLError

from .. import __version__
from .errors import (
    TalonAPIError,
    TalonConnectionError,
    TalonDecodeError,
    TalonTimeoutError,
    TalonValidationError,
    error_for_status,
)
from .retry import RetryPolicy
from .signing import content_signature

__all__ = [
    "USER_AGENT",
    "Call",
    "Reply",
    "Timeout",
    "Transport",
    "decode_json",
    "logger",
    "normalize_timeout",
    "read_environment",
]

logger = logging.getLogger("django_talon.client")

USER_AGENT = f"django-talon/{__version__}"

Timeout = float | tuple[float, float]

_REDACTED = "***"

#: Bytes asked for per read of a body: one ``recv`` at most (``read1``), so the deadline is
#: checked between reads that each wait at most what is left of it.
_READ_SIZE = 1 << 16


def _reject_constant(name: str) -> NoReturn:
    """``parse_constant`` of :data:`_DECODER`: ``NaN``, ``Infinity`` and ``-Infinity``.

    Python's ``json`` turns them into floats, but they are not JSON (RFC 8259), Talon.One
    never sends them, and an effect holding one is refused by the database's JSON column
    later, after Talon.One applied the call. Refused here, as undecodable, instead.
    """
    raise ValueError(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def decode_json(content: bytes) -> Any:
    """Decode an answer's body as strict JSON: ``json.loads`` without NaN/Infinity.

    One decoder made once (``json.loads`` with ``parse_constant`` would build one per
    call); bytes are decoded as ``json.loads`` does (UTF-8/16/32, a BOM allowed). Raises
    ``ValueError`` (``JSONDecodeError``, ``UnicodeDecodeError``) or ``RecursionError``.
    """
    return _DECODER.decode(content.decode(json.detect_encoding(content), "surrogatepass"))


def normalize_timeout(timeout: Timeout) -> tuple[float, float]:
    """Return ``(connect, read)`` seconds; a single number is used for both."""
    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise TalonValidationError("must be seconds or (connect, read)", field="timeout")
        connect, read = float(timeout[0]), float(timeout[1])
    else:
        connect = read = float(timeout)
    if connect <= 0 or read <= 0:
        raise TalonValidationError("must be > 0 (the client never waits forever)", field="timeout")
    return connect, read


def read_environment(base_url: str) -> dict[str, Any]:
    """The proxy and CA bundle settings ``requests`` would read per call, read once.

    Same rules as ``requests`` with ``trust_env``: the proxies are those of the environment
    for ``base_url`` (none when ``NO_PROXY`` covers its host); the CA bundle is
    ``REQUESTS_CA_BUNDLE`` or else ``CURL_CA_BUNDLE``. Only what is set is returned, so an
    unset variable leaves the session's own ``proxies`` / ``verify`` in charge.
    """
    settings: dict[str, Any] = {}
    proxies = requests.utils.get_environ_proxies(base_url)
    if proxies:
        settings["proxies"] = dict(proxies)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        settings["verify"] = bundle
    return settings


@dataclass(frozen=True)
class Call:
    """One Integration API request, as built by :class:`~django_talon.client.TalonClient`.

    ``path`` is already URL-encoded. ``body`` is the exact bytes to send (``None`` = no
    body). ``safe_to_retry`` is the operation's own verdict; ``signable`` marks the v1
    operations that accept a ``Content-Signature``.
    """

    operation: str
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    safe_to_retry: bool = False
    signable: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """A 2xx answer: status, decoded JSON body (``None`` when empty) and headers."""

    status: int
    body: Any
    headers: Mapping[str, str]
    method: str = ""
    path: str = ""


def _decoded(content: bytes, encoding: str) -> bytes:
    """``content`` decoded for its ``Content-Encoding`` by urllib3's own decoders (what
    ``requests`` would have done while reading: gzip, deflate, and br/zstd when installed;
    an encoding urllib3 does not know is left as it is)."""
    wrapper = urllib3.HTTPResponse(
        body=io.BytesIO(content),
        headers={"content-encoding": encoding},
        preload_content=False,
        decode_content=True,
    )
    return wrapper.read()


def _timed_out(
    parts: list[bytes], read_timeout: float, budget: float, deadline_passed: bool
) -> requests.ReadTimeout:
    """The timeout of a body read, saying which bound ran out and how far the body got."""
    received = sum(map(len, parts))
    if deadline_passed:
        what = f"the answer was not complete within {budget:g} s (connect + read timeout)"
    else:
        what = f"no body bytes arrived for {read_timeout:g} s (read timeout)"
    return requests.ReadTimeout(f"{what}; {received} body bytes received")


def _requests_error(exc: BaseException) -> requests.RequestException:
    """The ``requests`` exception ``response.content`` raises for a urllib3 error met while
    reading a body, so :meth:`Transport.send` treats both alike."""
    if isinstance(exc, DecodeError):
        return requests.exceptions.ContentDecodingError(str(exc))
    if isinstance(exc, Urllib3SSLError):
        return requests.exceptions.SSLError(str(exc))
    return requests.exceptions.ChunkedEncodingError(str(exc))


class Transport:
    """Sends :class:`Call` objects; see the module docstring for what it owns."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: Timeout,
        retry: RetryPolicy,
        session: requests.Session | None = None,
        application_id: int | None = None,
        application_key: str | None = None,
        sign_v1: bool = False,
    ) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise TalonValidationError("must be an http(s) URL", field="base_url")
        if not api_key:
            raise TalonValidationError("must not be empty", field="api_key")
        if not all("!" <= ch <= "~" for ch in api_key):
            # requests would refuse the header with an error quoting the key escaped (so the
            # redaction below could not find it); say what is wrong without repeating it.
            raise TalonValidationError(
                "must be printable ASCII without spaces or line breaks "
                "(a trailing newline from a secrets file?)",
                field="api_key",
            )
        if sign_v1 and (application_id is None or not application_key):
            raise TalonValidationError(
                "sign_v1=True needs application_id and application_key", field="sign_v1"
            )
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = normalize_timeout(timeout)
        self.retry = retry
        self.application_id = application_id
        self._application_key = application_key
        self.sign_v1 = sign_v1
        self._own_session = session is None
        self.session = session if session is not None else self._new_session()
        #: Passed to every request (see the module docstring): the environment read once for
        #: a session of our own, nothing for a caller's session.
        self.environment: Mapping[str, Any] = (
            read_environment(self.base_url) if self._own_session else {}
        )

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        # The environment is read once per client (read_environment), not on every call.
        session.trust_env = False
        # Retries are ours (bounded, per-operation); urllib3 must not add its own.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def copy(
        self,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
        refresh_environment: bool = False,
    ) -> Transport:
        """A transport with other timeout/retry sharing this one's session and credentials.

        ``refresh_environment`` reads the proxy/CA environment again for the copy (only
        when the session is the client's own; a caller's session reads it itself).
        """
        clone = object.__new__(Transport)
        clone.__dict__.update(self.__dict__)
        if timeout is not None:
            clone.timeout = normalize_timeout(timeout)
        if retry is not None:
            clone.retry = retry
        if refresh_environment and self._own_session:
            clone.environment = read_environment(self.base_url)
        return clone

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key={_REDACTED!r})"

    def _secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._api_key, self._application_key) if s)

    def redact(self, text: str) -> str:
        """Remove the API key and the application key from ``text``.

        Always on the whole text, before anything shortens it: a key cut in two by a
        truncation no longer matches, and the part before the cut would survive.
        """
        for secret in self._secrets():
            text = text.replace(secret, _REDACTED)
        return text

    def _redact_bytes(self, data: bytes) -> bytes:
        """:meth:`redact` for a raw body, before a prefix of it is quoted in a message."""
        for secret in self._secrets():
            data = data.replace(secret.encode(), _REDACTED.encode())
        return data

    def _headers(self, call: Call) -> dict[str, str]:
        headers = {
            "Authorization": f"ApiKey-v1 {self._api_key}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if call.signable and self.sign_v1:
            assert self.application_id is not None and self._application_key
            headers["Content-Signature"] = content_signature(
                call.body if call.body is not None else b"",
                self.application_id,
                self._application_key,
            )
        headers.update(call.headers)
        return headers

    def send(self, call: Call) -> Reply:
        """Send ``call``, retrying when both the policy and the operation allow it."""
        policy = self.retry
        attempts = policy.max_attempts if call.safe_to_retry else 1
        url = self.base_url + call.path
        headers = self._headers(call)
        proxies = self.environment.get("proxies")
        verify = self.environment.get("verify")
        budget = self.timeout[0] + self.timeout[1]
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    call.method,
                    url,
                    params=dict(call.query) or None,
                    data=call.body,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    # A copy: requests may add to the dict it is given.
                    proxies=dict(proxies) if proxies else None,
                    verify=verify,
                    # The body is read by _read_body, within the attempt's deadline.
                    stream=True,
                )
                content = self._read_body(response, started + budget, budget)
            except requests.RequestException as exc:
                duration_ms = (time.monotonic() - started) * 1000
                error = self._connection_error(call, exc)
                retry = policy.retry_connection_errors and attempt < attempts
                self._log(call, attempt, attempts, None, duration_ms, error=error, retry=retry)
                if not retry:
                    # Not chained: the requests exception holds the PreparedRequest, whose
                    # headers carry the API key (error trackers walk exception chains).
                    # Its type and text are already in the message.
                    raise error from None
                policy.sleep(policy.delay(attempt))
                continue
            duration_ms = (time.monotonic() - started) * 1000
            status = response.status_code
            retry = (200 > status or status >= 300) and (
                policy.retries_status(status) and attempt < attempts
            )
            self._log(call, attempt, attempts, status, duration_ms, retry=retry)
            if retry:
                response.close()
                policy.sleep(policy.delay(attempt))
                continue
            return self._reply(call, response, content)

    def _read_body(self, response: requests.Response, deadline: float, budget: float) -> bytes:
        """The whole (decoded) body of ``response``, by ``deadline`` (``time.monotonic``).

        Why not ``response.content``: ``requests`` gives each socket read the read timeout,
        so a body dripped a byte per second has no bound at all. Here each read is a single
        ``recv`` (urllib3's ``read1``, undecoded), the deadline is checked before each, and
        the socket's timeout is shrunk to what is left once that is less than the read
        timeout (never in the normal case, which costs one read and no system call more).
        Past the deadline the connection is closed (it is mid-answer, useless to the pool)
        and ``requests.ReadTimeout`` raised, which :meth:`send` makes a
        :class:`TalonTimeoutError` (retried like any timeout, each attempt with its own
        deadline). A complete body leaves the connection in the pool, as before.

        The status line and headers are still read by ``http.client`` under the per-read
        timeout alone; a server dripping *those* is not bounded by the deadline.

        A response not read from a urllib3 connection (a test adapter's), or whose body a
        session hook has already read, is taken as it is.
        """
        raw = response.raw
        if not isinstance(raw, urllib3.HTTPResponse) or getattr(
            response, "_content_consumed", True
        ):
            return response.content
        read_timeout = self.timeout[1]
        parts: list[bytes] = []
        left = budget
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    response.close()
                    raise _timed_out(parts, read_timeout, budget, deadline_passed=True)
                if left < read_timeout:
                    self._shrink_timeout(raw, left)
                part = raw.read1(_READ_SIZE, decode_content=False)
                if not part:
                    break
                parts.append(part)
                if raw.isclosed():  # all of it (the connection is back in the pool)
                    break
            content = parts[0] if len(parts) == 1 else b"".join(parts)
            if raw.headers.get("content-encoding"):
                content = _decoded(content, raw.headers.get("content-encoding", ""))
        except ReadTimeoutError:
            response.close()  # urllib3 has closed the connection already; the response too
            deadline_passed = left < read_timeout  # that read had the deadline's timeout
            raise _timed_out(parts, read_timeout, budget, deadline_passed) from None
        except requests.RequestException:  # the deadline's own (an OSError too): as it is
            raise
        except (Urllib3Error, OSError) as exc:
            response.close()
            raise _requests_error(exc) from None
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]
        return content

    @staticmethod
    def _shrink_timeout(raw: urllib3.HTTPResponse, seconds: float) -> None:
        """Let the next read of ``raw`` wait at most ``seconds``. The connection's socket
        is only touched while ``raw`` holds it (not once it is back in the pool)."""
        connection = raw.connection
        sock = connection.sock if connection is not None else None
        if sock is not None:
            sock.settimeout(seconds)

    def _connection_error(self, call: Call, exc: requests.RequestException) -> TalonConnectionError:
        cls = TalonTimeoutError if isinstance(exc, requests.Timeout) else TalonConnectionError
        what = "timed out" if cls is TalonTimeoutError else "failed"
        message = self.redact(f"{call.method} {call.path} {what}: {type(exc).__name__}: {exc}")
        return cls(message, method=call.method, path=call.path)

    def _reply(self, call: Call, response: requests.Response, content: bytes) -> Reply:
        status = response.status_code
        body: Any = None
        decode_error: ValueError | None = None
        if content.strip():
            try:
                body = decode_json(content)
            except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
                decode_error = exc
            except RecursionError:  # deep nesting ([[[[...]]]]): undecodable all the same
                decode_error = ValueError("JSON nested too deeply")
        if 200 <= status < 300:
            if decode_error is not None:
                raise TalonDecodeError(
                    self.redact(
                        f"{call.method} {call.path} -> {status}: body is not JSON "
                        f"({decode_error}); starts with {self._redact_bytes(content)[:80]!r}"
                    ),
                    method=call.method,
                    path=call.path,
                    status=status,
                ) from None
            return Reply(
                status=status,
                body=body,
                headers=dict(response.headers),
                method=call.method,
                path=call.path,
            )
        text = content.decode("utf-8", errors="replace") if decode_error is not None else ""
        error = error_for_status(
            status,
            body,
            method=call.method,
            path=call.path,
            text=text,
            redact=self.redact,
            headers=response.headers,
        )
        raise self._scrub(error)

    def _scrub(self, error: TalonAPIError) -> TalonAPIError:
        """Redact secrets a server (or proxy) may have echoed into the error."""
        error.message = self.redact(error.message)
        dumped = json.dumps({"errors": error.errors, "body": error.body}, default=str)
        redacted = self.redact(dumped)
        if redacted != dumped:
            data = json.loads(redacted)
            error.errors, error.body = data["errors"], data["body"]
        error.args = (str(error),)
        return error

    def _log(
        self,
        call: Call,
        attempt: int,
        attempts: int,
        status: int | None,
        duration_ms: float,
        *,
        error: Exception | None = None,
        retry: bool = False,
    ) -> None:
        level = logging.INFO
        if error is not None or (status is not None and status >= 400):
            level = logging.WARNING
        if not logger.isEnabledFor(level):
            return  # what logger.log would decide, before building the record's parts
        extra = {
            "talon_operation": call.operation,
            "talon_method": call.method,
            "talon_path": call.path,
            "talon_status": status,
            "talon_duration_ms": round(duration_ms, 1),
            "talon_attempt": attempt,
        }
        outcome = str(status) if status is not None else f"error ({type(error).__name__})"
        suffix = f"; retrying (attempt {attempt}/{attempts})" if retry else ""
        logger.log(
            level,
            "Talon.One %s %s -> %s in %.1f ms%s",
            call.method,
            call.path,
            outcome,
            duration_ms,
            suffix,
            extra=extra,
        )
