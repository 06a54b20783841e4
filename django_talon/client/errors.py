"""The one exception hierarchy of the client, and the one function that maps a status to it.

Callers catch by meaning, not by HTTP library: ``TalonConnectionError`` (nothing usable came
back, the call may or may not have reached Talon.One), ``TalonAPIError`` subclasses (Talon.One
answered and said no), ``TalonDecodeError`` (Talon.One answered something we cannot read) and
``TalonValidationError`` (we refused to send the request at all). No message, ``repr`` or
attribute of these exceptions ever contains the API key: the transport redacts it before an
exception is built.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "TalonAPIError",
    "TalonBadRequest",
    "TalonBadRequestError",
    "TalonConflict",
    "TalonConflictError",
    "TalonConnectionError",
    "TalonDecodeError",
    "TalonError",
    "TalonForbidden",
    "TalonForbiddenError",
    "TalonNotFound",
    "TalonNotFoundError",
    "TalonRateLimited",
    "TalonRateLimitedError",
    "TalonServerError",
    "TalonTimeoutError",
    "TalonUnauthorized",
    "TalonUnauthorizedError",
    "TalonValidationError",
    "error_for_status",
    "retry_after_seconds",
]


class TalonError(Exception):
    """Base class of every error raised by :mod:`django_talon.client`."""


class TalonConnectionError(TalonError):
    """No HTTP answer: DNS failure, refused or reset connection, TLS error, or a timeout.

    The request may have reached Talon.One before the connection broke, so for an operation
    that is not safe to repeat the outcome is unknown.
    """

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, method={self.method!r}, path={self.path!r})"
        )


class TalonTimeoutError(TalonConnectionError):
    """The connect or read timeout expired (see ``TalonClient(timeout=...)``)."""


class TalonAPIError(TalonError):
    """Talon.One answered with a non-2xx status.

    ``errors`` is the API's ``errors`` list (``[{title, details, source}]``) as sent, so a
    caller can show which field was rejected; ``body`` is the whole decoded error body
    (or ``None`` when it was not JSON).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        method: str = "",
        path: str = "",
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.errors: list[dict[str, Any]] = list(errors or [])
        self.method = method
        self.path = path
        self.body = body
        #: seconds the server asked to wait (``Retry-After`` of a 429/503), else None
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.method} {self.path} -> {self.status}: {self.message}"
        titles = [str(e.get("title") or e.get("details") or "") for e in self.errors]
        titles = [t for t in titles if t]
        if titles:
            text += " (" + "; ".join(titles) + ")"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, message={self.message!r}, "
            f"method={self.method!r}, path={self.path!r}, errors={self.errors!r})"
        )


class TalonBadRequestError(TalonAPIError):
    """400: the payload or a parameter was rejected (``errors`` says which)."""


class TalonUnauthorizedError(TalonAPIError):
    """401: missing, wrong or expired API key (or a bad Content-Signature)."""


class TalonForbiddenError(TalonAPIError):
    """403: the key may not do this (e.g. a key of another Application)."""


class TalonNotFoundError(TalonAPIError):
    """404: the coupon, profile, session or referral does not exist."""


class TalonConflictError(TalonAPIError):
    """409: a parallel update of the same session or profile is in progress (or a limit hit)."""


class TalonRateLimitedError(TalonAPIError):
    """429: too many requests (not documented by Talon.One, but proxies send it)."""


class TalonServerError(TalonAPIError):
    """5xx: Talon.One (or a proxy in front of it) failed."""


# The names before N818 (issue 9): kept as aliases, so ``except TalonNotFound`` in a shop or a
# test catches exactly what it caught before (same class object, not a subclass).
TalonBadRequest = TalonBadRequestError
TalonUnauthorized = TalonUnauthorizedError
TalonForbidden = TalonForbiddenError
TalonNotFound = TalonNotFoundError
TalonConflict = TalonConflictError
TalonRateLimited = TalonRateLimitedError


class TalonDecodeError(TalonError):
    """A 2xx answer whose body is not the JSON the operation promises."""

    def __init__(self, message: str, *, method: str = "", path: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status


class TalonValidationError(TalonError, ValueError):
    """Input rejected before sending; ``field`` names the offending argument or JSON path."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field


_BY_STATUS: dict[int, type[TalonAPIError]] = {
    400: TalonBadRequestError,
    401: TalonUnauthorizedError,
    403: TalonForbiddenError,
    404: TalonNotFoundError,
    409: TalonConflictError,
    429: TalonRateLimitedError,
}


#: the longest ``Retry-After`` taken at its word (a day): a larger one is a misconfiguration
MAX_RETRY_AFTER = 86_400.0


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header as seconds from now (RFC 9110 10.2.3: delay-seconds or an
    HTTP-date); None when absent or unreadable. Capped at :data:`MAX_RETRY_AFTER`."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _compact_json(body: Any, fallback: str) -> str:
    """``body`` (decoded JSON) as compact JSON text, or ``fallback`` (the raw text) if it
    cannot be written back (nesting past the encoder's recursion limit)."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
    except (RecursionError, ValueError, TypeError):
        return fallback


def error_for_status(
    status: int,
    body: Any,
    *,
    method: str = "",
    path: str = "",
    text: str = "",
    redact: Callable[[str], str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> TalonAPIError:
    """Build the exception for a non-2xx answer: the one place that maps status to class.

    ``body`` is the decoded JSON (or ``None``); ``text`` the raw text used as the message
    when the body carries none (e.g. an HTML page from a proxy), shortened to 200 chars.
    A JSON body without a ``message`` string (a gateway's ``{"error": "..."}``, AWS's
    ``{"Message": "..."}``, a list) is quoted the same way, as compact JSON: the server's
    explanation is all the caller has. ``redact`` (the transport's) runs on the whole text
    *before* it is shortened: a secret echoed across the cut would no longer match
    afterwards and its prefix would stay.
    """
    if status >= 500:
        cls: type[TalonAPIError] = TalonServerError
    else:
        cls = _BY_STATUS.get(status, TalonAPIError)
    message = ""
    errors: list[dict[str, Any]] = []
    if isinstance(body, dict):
        raw_message = body.get("message")
        if isinstance(raw_message, str) and raw_message.strip():
            message = raw_message
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            errors = [e if isinstance(e, dict) else {"title": str(e)} for e in raw_errors]
    if not message:
        if body is not None:
            text = _compact_json(body, text)
        if redact is not None:
            text = redact(text)
        message = " ".join(text.split())[:200] or f"HTTP {status}"
    retry_after = retry_after_seconds(headers.get("Retry-After")) if headers else None
    return cls(
        status,
        message,
        errors=errors,
        method=method,
        path=path,
        body=body,
        retry_after=retry_after,
    )
