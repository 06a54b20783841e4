"""The errors the Django layer raises to shops: one hierarchy, like anymail's.

The client (``django_talon.client.errors``) speaks HTTP: a 404, a timeout, an answer that
does not decode. A shop speaks outcomes: "Talon.One is not there right now" and "Talon.One
said no". Every service call that reaches Talon.One goes through
:func:`django_talon.resilience.guarded`, which turns the first kind into the second, so a shop
catches these and never has to import the client::

    TalonServiceError                 base of everything below
    ├── TalonUnavailableError         disabled, circuit open, timeout, refused, 5xx
    │   ├── TalonRequestFailedError   Talon.One answered an error that is not an outage
    │   │                             (400/401/403/404/409/429, or an answer we cannot read,
    │   │                             or a request we refused to send); ``status``, ``errors``
    │   └── OrderRefusedError         fail-closed placement refused (message for the customer)

:class:`TalonRequestFailedError` is a subclass of :class:`TalonUnavailableError` on purpose:
a shop page that only catches "unavailable" still shows its "not available right now"
fallback; the REST API tells the two apart (503 for an outage, 502 or 4xx for a refusal).

The names without the ``Error`` suffix (``TalonUnavailable``, ``TalonRequestFailed``,
``OrderRefused``) are kept as aliases of the same classes.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "OrderRefused",
    "OrderRefusedError",
    "TalonRequestFailed",
    "TalonRequestFailedError",
    "TalonServiceError",
    "TalonUnavailable",
    "TalonUnavailableError",
]


class TalonServiceError(Exception):
    """Base of every error the Django side of django-talon raises about Talon.One."""


class TalonUnavailableError(TalonServiceError):
    """Talon.One could not be reached (disabled, circuit open, timeout, connection refused, 5xx)."""


class TalonRequestFailedError(TalonUnavailableError):
    """Talon.One answered with an error that is not an outage, or answered nothing usable.

    ``status`` is the HTTP status (``None`` when no status applies: a request refused before
    sending, or an undecodable answer without one); ``api_message`` is Talon.One's own message
    and ``errors`` its ``errors`` list; ``permanent`` says that retrying the same request
    cannot help (400, 404, a request refused before sending), which the outbox uses to
    dead-letter at once.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        api_message: str = "",
        errors: list[dict[str, Any]] | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.api_message = api_message
        self.errors: list[dict[str, Any]] = list(errors or [])
        self.permanent = permanent


class OrderRefusedError(TalonUnavailableError):
    """Fail-closed order placement: the order was refused because Talon.One did not confirm.

    ``str(exc)`` is a message safe to show to the customer; ``cause`` is the (redacted)
    technical reason for logs and staff.
    """

    default_message = (
        "We could not confirm your discounts right now, so the order was not placed. "
        "Please try again in a moment."
    )

    def __init__(self, message: str | None = None, *, cause: str = "") -> None:
        super().__init__(message or self.default_message)
        self.cause = cause


#: Aliases: the names the first release used.
TalonUnavailable = TalonUnavailableError
TalonRequestFailed = TalonRequestFailedError
OrderRefused = OrderRefusedError
