"""Errors the Django layer raises to shops (the client's own errors live in ``client.errors``)."""

from __future__ import annotations


class TalonUnavailable(Exception):
    """Talon.One could not be reached (disabled, circuit open, timeout, connection refused)."""


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
