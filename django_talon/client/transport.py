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
  is closed and the attempt is a timeout (:func:`.bodies.read_body`).
- Bodies are bounded and strictly decoded (:mod:`.bodies`): at most ``max_body_bytes``
  (32 MiB by default) once decompressed, and a corrupt or truncated gzip/deflate stream is
  a connection error, not an empty answer.
- Answers are strict JSON (:func:`decode_json`): ``NaN``/``Infinity``, which Python's
  ``json`` accepts but no JSON column stores, and numbers too large for a float (``1e400``,
  which Python reads as infinity), make a :class:`.errors.TalonDecodeError`.
- Retries follow :class:`.retry.RetryPolicy`, but only when ``Call.safe_to_retry`` says the
  operation may run twice: on connection errors/timeouts and on the policy's statuses
  (409 and 5xx by default). A ``Retry-After`` on a retryable answer is waited for when it
  fits in what the policy would wait at most (all its backoff ceilings, less what was
  waited already); a longer one ends the retries and the error carries it (``retry_after``).
- Each attempt is logged on the ``django_talon.client`` logger with method, path, status and
  duration. The API key and the application key are never logged and are scrubbed from any
  text that reaches an exception. Errors are raised from frames whose local variables hold
  neither the key nor the answer's body, without a chained ``requests`` exception
  (:meth:`Transport.send`): error trackers record both.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import requests
import requests.utils
from requests.adapters import HTTPAdapter

from .. import __version__
from .bodies import DEFAULT_MAX_BODY_BYTES, BodyTooLargeError, read_body, redirect_hint
from .errors import (
    TalonAPIError,
    TalonConnectionError,
    TalonDecodeError,
    TalonError,
    TalonTimeoutError,
    TalonValidationError,
    error_for_status,
    retry_after_seconds,
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


def _reject_constant(name: str) -> NoReturn:
    """``parse_constant`` of :data:`_DECODER`: ``NaN``, ``Infinity`` and ``-Infinity``.

    Python's ``json`` turns them into floats, but they are not JSON (RFC 8259), Talon.One
    never sends them, and an effect holding one is refused by the database's JSON column
    later, after Talon.One applied the call. Refused here, as undecodable, instead.
    """
    raise ValueError(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


_isinf = math.isinf


def _finite_float(text: str) -> float:
    """``parse_float`` of :data:`_DECODER`: a number past the float range is refused.

    ``1e400`` is valid JSON syntax, but ``float`` reads it as infinity, which slipped past
    :func:`_reject_constant` and then became ``0`` in a discount's value (and ``Infinity``
    in a stored effect). Talon.One never sends such a number; it is undecodable here.
    """
    value = float(text)
    if _isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range (it would read as infinity)")
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def decode_json(content: bytes) -> Any:
    """Decode an answer's body as strict JSON: ``json.loads`` without NaN/Infinity (nor
    numbers that would read as infinity).

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
    """A 2xx answer: status, decoded JSON body (``None`` when empty) and headers.

    The body and headers stay out of the ``repr``: a reply is a local variable of the
    frames that find it unusable and raise (``OperationGroup._json_object``), and error
    trackers record those locals by ``repr``; a server or proxy echoing the API key into
    an answer would put it there.
    """

    status: int
    body: Any = field(repr=False)
    headers: Mapping[str, str] = field(repr=False)
    method: str = ""
    path: str = ""


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
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
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
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise TalonValidationError("must be an integer (bytes)", field="max_body_bytes")
        if max_body_bytes < 1:
            raise TalonValidationError("must be >= 1", field="max_body_bytes")
        self.base_url = base_url.rstrip("/")
        #: the largest answer body read, once decoded (see :mod:`.bodies`)
        self.max_body_bytes = max_body_bytes
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
        """Send ``call``, retrying when both the policy and the operation allow it.

        Every error of a call is raised here, and this frame's locals hold neither the API
        key nor the answer's body: error trackers (Sentry's default among them) record the
        local variables of each frame of a traceback and follow the exception chain. So the
        headers are built inside the request call (:meth:`_attempt`), the answer is judged
        by helpers that return their error instead of raising it (:meth:`_outcome`), and
        errors are raised outside any ``except`` block, ``from None``: no ``__context__``,
        whose ``requests`` exception would hold the PreparedRequest and its headers.
        """
        policy = self.retry
        attempts = policy.max_attempts if call.safe_to_retry else 1
        url = self.base_url + call.path
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            result = self._attempt(call, url, started)
            duration_ms = (time.monotonic() - started) * 1000
            wait: float | None
            if isinstance(result, TalonError):  # no (whole, readable) answer
                retry = (
                    isinstance(result, TalonConnectionError)
                    and policy.retry_connection_errors
                    and attempt < attempts
                )
                self._log(call, attempt, attempts, None, duration_ms, error=result, retry=retry)
                if not retry:
                    raise result from None
                wait = policy.delay(attempt)
            else:
                wait = self._status_wait(result, attempt, attempts, waited)
                status = result.status_code
                self._log(call, attempt, attempts, status, duration_ms, retry=wait is not None)
                if wait is None:
                    outcome = self._outcome(call, result)
                    if isinstance(outcome, Reply):
                        return outcome
                    raise outcome from None
                result.close()
            policy.sleep(wait)
            waited += wait

    def _attempt(self, call: Call, url: str, started: float) -> requests.Response | TalonError:
        """One request and its whole body (read by :func:`.bodies.read_body` within the
        attempt's deadline), or the error that ended it, returned rather than raised (see
        :meth:`send`)."""
        budget = self.timeout[0] + self.timeout[1]
        proxies = self.environment.get("proxies")
        try:
            response = self.session.request(
                call.method,
                url,
                params=dict(call.query) or None,
                data=call.body,
                # Built here, so the dict holding the key is no local variable of any frame
                # an error is raised from.
                headers=self._headers(call),
                timeout=self.timeout,
                allow_redirects=False,
                # A copy: requests may add to the dict it is given.
                proxies=dict(proxies) if proxies else None,
                verify=self.environment.get("verify"),
                # The body is read by read_body, within the attempt's deadline.
                stream=True,
            )
            read_body(
                response,
                deadline=started + budget,
                budget=budget,
                read_timeout=self.timeout[1],
                limit=self.max_body_bytes,
            )
        except requests.RequestException as exc:
            return self._connection_error(call, exc)
        except BodyTooLargeError as exc:
            return self._oversized(call, response, exc)
        return response

    def _status_wait(
        self, response: requests.Response, attempt: int, attempts: int, waited: float
    ) -> float | None:
        """Seconds to wait before repeating an answer with this status, or ``None``: no retry.

        A retryable status is repeated after the policy's backoff, or after the answer's
        ``Retry-After`` when the server sent one and it fits in what the policy would wait
        at most (its backoff ceilings summed over all attempts, less what was already
        waited; 0.75 s for the default policy). A longer ``Retry-After`` ends the retries:
        repeating sooner than the server asked only earns the same answer, and the error's
        ``retry_after`` tells the caller (the outbox waits that long). Why not the bare
        backoff: a 503 asking for two minutes was repeated twice within half a second.
        """
        policy = self.retry
        status = response.status_code
        if 200 <= status < 300 or not policy.retries_status(status) or attempt >= attempts:
            return None
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is None:
            return policy.delay(attempt)
        most = sum(  # the policy's worst case: every wait at its ceiling
            min(policy.backoff_max, policy.backoff_base * 2.0 ** (n - 1))
            for n in range(1, attempts)
        )
        return asked if asked <= most - waited else None

    def _connection_error(self, call: Call, exc: requests.RequestException) -> TalonConnectionError:
        cls = TalonTimeoutError if isinstance(exc, requests.Timeout) else TalonConnectionError
        what = "timed out" if cls is TalonTimeoutError else "failed"
        message = self.redact(f"{call.method} {call.path} {what}: {type(exc).__name__}: {exc}")
        return cls(message, method=call.method, path=call.path)

    def _oversized(
        self, call: Call, response: requests.Response, exc: BodyTooLargeError
    ) -> TalonDecodeError | TalonAPIError:
        """The error of an answer whose body is past ``max_body_bytes``: undecodable for a
        2xx (nothing of it is used), else the status's own error without a body."""
        status = response.status_code
        if 200 <= status < 300:
            return TalonDecodeError(
                f"{call.method} {call.path} -> {status}: {exc}; not read (raise "
                "TalonClient(max_body_bytes=...) if a real answer is this large)",
                method=call.method,
                path=call.path,
                status=status,
            )
        error = error_for_status(
            status,
            None,
            method=call.method,
            path=call.path,
            text=f"{exc}; not read",
            headers=response.headers,
        )
        return self._scrub(error)

    def _outcome(self, call: Call, response: requests.Response) -> Reply | TalonError:
        """The :class:`Reply` of a 2xx answer, or the error an answer means (returned: the
        body, which may echo the key, is a local of this frame, not of the raising one)."""
        status = response.status_code
        content: bytes = response.content or b""
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
                return TalonDecodeError(
                    self.redact(
                        f"{call.method} {call.path} -> {status}: body is not JSON "
                        f"({decode_error}); starts with {self._redact_bytes(content)[:80]!r}"
                    ),
                    method=call.method,
                    path=call.path,
                    status=status,
                )
            return Reply(
                status=status,
                body=body,
                headers=dict(response.headers),
                method=call.method,
                path=call.path,
            )
        # The raw text: the message of an answer that is not JSON (a proxy's HTML page), and
        # of a JSON one without a usable ``message`` if its JSON cannot be written back.
        text = content.decode("utf-8", errors="replace")
        error = error_for_status(
            status,
            body,
            method=call.method,
            path=call.path,
            text=text,
            redact=self.redact,
            headers=response.headers,
        )
        if 300 <= status < 400:  # the API does not redirect: a wrong base_url, most likely
            hint = redirect_hint(response.headers.get("Location"), self.base_url)
            error.message = f"{error.message}; {hint}"
        return self._scrub(error)

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
