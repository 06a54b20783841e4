"""Errors the Django layer raises to shops (the client's own errors live in ``client.errors``)."""

from __future__ import annotations


class TalonUnavailable(Exception):
    """Talon.One could not be reached (disabled, circuit open, timeout, connection refused)."""


class TalonRequestFailed(TalonUnavailable):
    """Talon.One answered a read with an error that is not an outage (e.g. 400/401/403).

    A subclass of :class:`TalonUnavailable` so that a shop page that only catches
    ``TalonUnavailable`` still shows its "not available right now" fallback; the REST API
    tells the two apart (503 for an outage, 502 for this). ``status`` is the HTTP status.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OrderRefused(TalonUnavailable):
    """Fail-closed order placement: the order was refused because Talon.One did not confirm.

    ``str(exc)`` is a message safe to show to the customer.
    """

    default_message = (
        "We could not confirm your discounts right now, so the order was not placed. "
        "Please try again in a moment."
    )

    def __init__(self, message: str | None = None, *, cause: str = "") -> None:
        super().__init__(message or self.default_message)
        self.cause = cause
