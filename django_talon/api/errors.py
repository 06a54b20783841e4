"""The one place where the REST API turns django-talon's errors into HTTP answers.

Services raise only :mod:`django_talon.exceptions` errors; views do not catch them. Every view
of this app returns :func:`exception_handler` from ``get_exception_handler()`` (see
:class:`TalonErrorHandlingMixin`), so the mapping holds whatever the project's
``REST_FRAMEWORK["EXCEPTION_HANDLER"]`` is, and the project's handler still formats the
answer (it is called with the translated DRF exception)::

    AlreadyPlacedRefusedError  409  order_already_placed (the cart was ordered already)
    OrderRefusedError          503  order_refused       (the customer-safe message)
    TalonRequestFailedError    502  talon_error         unless the view gives the status a
                                                        4xx meaning (talon_refused())
    TalonUnavailableError      503  talon_unavailable
    SessionStateError          404  not_found           (the order was placed meanwhile)

A project that wants the same mapping for its own views can set
``REST_FRAMEWORK = {"EXCEPTION_HANDLER": "django_talon.api.errors.exception_handler"}``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from django_talon.exceptions import (
    OrderRefusedError,
    TalonRequestFailedError,
    TalonUnavailableError,
)

__all__ = [
    "AlreadyPlacedAPIError",
    "BadGateway",
    "OrderRefusedAPIError",
    "ServiceUnavailable",
    "TalonErrorHandlingMixin",
    "api_exception",
    "exception_handler",
]


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("Talon.One is not reachable right now; please try again shortly.")
    default_code = "talon_unavailable"


class BadGateway(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = gettext_lazy("Talon.One answered with an error.")
    default_code = "talon_error"


class OrderRefusedAPIError(APIException):
    """Fail-closed placement refused: the detail is the message meant for the customer."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = OrderRefusedError.default_message
    default_code = "order_refused"


class AlreadyPlacedAPIError(APIException):
    """Fail-closed placement refused because another order already placed the cart (a
    double click, a second tab): a conflict, not an outage, so no "try again" status. The
    detail is the refusal's message for the customer."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This cart has already been ordered.")
    default_code = "order_already_placed"


def api_exception(exc: BaseException, view: Any = None) -> BaseException:
    """The DRF exception for a django-talon error (any other exception is returned as is).

    ``view.talon_refused(exc)`` may give a :class:`TalonRequestFailedError` a 4xx meaning
    for that endpoint (e.g. a refused campaign id is the caller's 400); without one it is
    Talon.One's error, a 502. The new exception chains the original (``__cause__``).
    """
    mapped: APIException
    from django_talon.services.placement import AlreadyPlacedRefusedError
    from django_talon.services.sessions import SessionStateError

    if isinstance(exc, AlreadyPlacedRefusedError):
        mapped = AlreadyPlacedAPIError(str(exc))
    elif isinstance(exc, OrderRefusedError):
        mapped = OrderRefusedAPIError(str(exc))
    elif isinstance(exc, SessionStateError):  # the order was placed meanwhile (another tab)
        mapped = NotFound(gettext_lazy("The cart is already checked out."))
    elif isinstance(exc, TalonRequestFailedError):
        refused = getattr(view, "talon_refused", None)
        mapped = (refused(exc) if refused is not None else None) or BadGateway()
    elif isinstance(exc, TalonUnavailableError):
        mapped = ServiceUnavailable()
    else:
        return exc
    mapped.__cause__ = exc
    return mapped


def exception_handler(
    exc: Exception, context: dict[str, Any], *, fallback: Any = None
) -> Response | None:
    """DRF exception handler: django-talon's errors as above, then ``fallback`` formats.

    ``fallback`` is the handler the view would have used (the project's
    ``EXCEPTION_HANDLER``); DRF's own when it is missing or is this function.
    """
    handler = fallback
    if handler is None or handler is exception_handler:
        handler = drf_exception_handler
    translated = api_exception(exc, context.get("view"))
    response: Response | None = handler(translated, context)
    return response


class TalonErrorHandlingMixin:
    """For every view of the app: use :func:`exception_handler` around the configured one."""

    def get_exception_handler(self) -> Any:
        configured = super().get_exception_handler()  # type: ignore[misc]

        def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
            return exception_handler(exc, context, fallback=configured)

        return handle

    def talon_refused(self, exc: TalonRequestFailedError) -> APIException | None:
        """A 4xx for a Talon.One refusal that means "your input" on this endpoint (or None)."""
        return None
