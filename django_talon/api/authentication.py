"""How the app's REST views authenticate: their own classes, not the project's defaults.

DRF views inherit ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` unless they say
otherwise, so a project that enables Basic auth for its own API would expose the app's
views to it too, with its failure modes: a Basic-auth username holding a NUL byte reaches
PostgreSQL, which refuses the string (psycopg's ``DataError``, before any query is sent),
and DRF answers 500. The app's views therefore authenticate with
``TALON["REST_AUTHENTICATION_CLASSES"]`` (session authentication by default), and answer a
``ValueError`` or database ``DataError`` raised while authenticating (input in credentials
no backend can look up, whichever class is listed) as failed authentication (401/403).

CSRF: DRF's ``SessionAuthentication`` checks the CSRF token only for a *signed-in* user,
and DRF views are otherwise CSRF-exempt; but an anonymous visitor's cart is found by the
session cookie too, so a forged cross-site ``POST coupons/`` would change it. The app's
views therefore check CSRF on every write (POST/PUT/PATCH/DELETE) that a credentials
header did not authenticate (:func:`enforce_csrf`): signed-in with the session cookie and
anonymous alike. A client authenticated by a listed token scheme (``TokenAuthentication``,
JWT, ...) sends its credentials in a header a forged request cannot carry, and needs no
token.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication, CSRFCheck, SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.views import APIView

from django_talon.conf import talon_settings

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _import_classes(paths: tuple[str, ...]) -> tuple[type[BaseAuthentication], ...]:
    classes = []
    for path in paths:
        cls = import_string(path)
        if not (isinstance(cls, type) and issubclass(cls, BaseAuthentication)):
            raise TypeError(f"{path} is not a rest_framework BaseAuthentication subclass")
        classes.append(cls)
    return tuple(classes)


def authentication_classes() -> tuple[type[BaseAuthentication], ...]:
    """The classes ``TALON["REST_AUTHENTICATION_CLASSES"]`` names (imported once per value)."""
    return _import_classes(tuple(talon_settings.REST_AUTHENTICATION_CLASSES))


def _no_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    """What the CSRF check is handed as the view and the next middleware: it calls neither
    (the app's views are not ``csrf_exempt`` for it)."""
    return HttpResponse(status=500)


def enforce_csrf(request: Request) -> None:
    """Refuse (403) a write without a valid CSRF token unless a credentials header (a
    listed scheme other than session authentication) authenticated it."""
    if request.method in SAFE_METHODS:
        return
    authenticator = request.successful_authenticator
    if authenticator is not None and not isinstance(authenticator, SessionAuthentication):
        return
    check = CSRFCheck(_no_view)  # DRF's: answers the reason, not Django's 403 page
    check.process_request(request._request)
    reason = check.process_view(request._request, _no_view, (), {})
    if reason:
        raise PermissionDenied(_("CSRF Failed: %(reason)s") % {"reason": reason})


class TalonAuthenticationMixin:
    """For the app's views: ``TALON["REST_AUTHENTICATION_CLASSES"]`` instead of the project's
    default classes (a subclass that sets ``authentication_classes`` itself keeps its own),
    and CSRF checked on writes not authenticated by a credentials header."""

    def get_authenticators(self) -> list[BaseAuthentication]:
        own: Any = type(self).authentication_classes  # type: ignore[attr-defined]
        if own is not APIView.authentication_classes:  # chosen by a subclass
            return [auth() for auth in own]
        return [auth() for auth in authentication_classes()]

    def perform_authentication(self, request: Request) -> None:
        try:
            request.user  # noqa: B018  (runs the authenticators, as DRF's own version does)
        except (ValueError, DataError) as exc:
            # Credentials no backend can even look up (a NUL byte for PostgreSQL, ...):
            # they are wrong credentials, not a server error. (The error's text is not
            # logged: it may quote the credentials.)
            logger.info("Unusable credentials on %s (%s)", request.path, type(exc).__name__)
            request._not_authenticated()  # type: ignore[attr-defined]
            raise AuthenticationFailed(_("Invalid credentials.")) from None
        enforce_csrf(request)
