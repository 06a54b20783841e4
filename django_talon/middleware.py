"""``TalonRequestMiddleware``: lets signal-only wiring know the visitor's request.

Why: the receivers see a saved cart, never the request. A coupon typed into an empty cart
creates a cart-less session remembered in ``request.session``; when the first item is
added, only the request says which visitor's cart-less session the new cart should adopt.
With this middleware, :func:`current_request` returns the request being served (a
``contextvars`` variable: per thread and per asyncio task), and
:func:`django_talon.services.update_cart` uses it when no ``request=`` is passed.

Optional: without it, logged-in customers still get their cart-less session adopted (it
belongs to their profile); only anonymous visitors need the request. Add it after
``SessionMiddleware`` and ``AuthenticationMiddleware`` (docs/adapters.md#empty-carts).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

__all__ = ["TalonRequestMiddleware", "current_request"]

_REQUEST: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "django_talon_request", default=None
)


def current_request() -> HttpRequest | None:
    """The request :class:`TalonRequestMiddleware` is serving in this context, or None."""
    return _REQUEST.get()


class TalonRequestMiddleware:
    """Remember the current request for the receivers (sync views; see the module docs)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _REQUEST.set(request)
        try:
            return self.get_response(request)
        finally:
            _REQUEST.reset(token)
