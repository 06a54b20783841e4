"""The OpenAPI description of the app's endpoints: every status a view can answer, one
error body, one naming scheme for operation ids.

Why a module of its own: the statuses a view can answer come from layers the view does not
spell out (authentication and CSRF: 401/403; the code attempt throttle: 429;
:mod:`django_talon.api.errors`: 502/503), so each view lists them through :func:`responses`
instead of by hand, and the test suite's schemathesis run holds the schema to it (no
undocumented status, no answer that breaks its schema).

Operation ids: ``talon_<what>`` for a read (``talon_promotions``, ``talon_my_referrals``)
and ``talon_<what>_<verb>`` for a write (``talon_coupon_apply``, ``talon_staff_reserve``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from drf_spectacular import utils as spectacular
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from django_talon import __version__
from django_talon.api.authentication import TalonAuthenticationMixin, authentication_classes
from django_talon.api.serializers import ErrorSerializer

__all__ = ["ERRORS", "TalonSchemaView", "extend_schema", "info_defaults", "responses"]

F = TypeVar("F", bound=Callable[..., Any])

#: The error answers, by status; the body is DRF's (``{"detail": ...}``) except for 400.
ERRORS: dict[int, str] = {
    400: "Invalid input: DRF's validation error body, {field: [messages]}.",
    401: "Credentials refused by an authentication scheme that asks for them (WWW-Authenticate).",
    403: "Not allowed: not signed in, a missing permission, refused credentials, or no valid "
    "CSRF token on a write made with the session cookie.",
    404: "Not found.",
    429: "Too many code attempts; Retry-After says when to try again.",
    502: "Talon.One answered with an error.",
    503: "Talon.One is not reachable right now (or calls are switched off).",
}


def extend_schema(**kwargs: Any) -> Callable[[F], F]:
    """drf-spectacular's ``@extend_schema`` for a view method, built on drf-spectacular's
    ``AutoSchema`` whatever ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` says.

    Why: ``@extend_schema`` subclasses the ``DEFAULT_SCHEMA_CLASS`` of the moment the module
    is imported. With DRF's default (DRF's own OpenAPI ``AutoSchema``, docs/installation.md
    does not set it) every annotated operation inherited DRF's ``get_operation()``, and
    ``GET schema/`` answered a 500 ("takes 3 positional arguments but 6 were given"): the
    view's own ``schema = AutoSchema()`` does not reach the annotation's class. A method that
    carries no schema yet is given drf-spectacular's class as the base, the one
    ``@extend_schema`` takes first; an annotation stacked on another keeps its base."""
    decorate = spectacular.extend_schema(**kwargs)

    def decorator(f: F) -> F:
        if getattr(f, "schema", None) or getattr(f, "kwargs", {}).get("schema"):
            return decorate(f)
        f.schema = AutoSchema  # type: ignore[attr-defined]
        try:
            return decorate(f)
        finally:
            del f.schema  # type: ignore[attr-defined]

    return decorator


def _error(status: int, description: str | None) -> OpenApiResponse:
    body: Any = OpenApiTypes.OBJECT if status == 400 else ErrorSerializer
    return OpenApiResponse(body, description=description or ERRORS[status])


def responses(
    success: dict[int, Any], *errors: int, **descriptions: str
) -> dict[int, OpenApiResponse | Any]:
    """``success`` plus the error answers ``errors`` (401 and 403 always: every view
    authenticates and checks CSRF). ``descriptions`` (``e404="No open cart"``) say what a
    status means on this endpoint."""
    out: dict[int, Any] = dict(success)
    for status in sorted({401, 403, *errors}):
        out[status] = _error(status, descriptions.get(f"e{status}"))
    return out


def info_defaults() -> dict[str, str]:
    """The schema's ``TITLE`` and ``VERSION`` where the project's ``SPECTACULAR_SETTINGS``
    sets none: ``django-talon`` and this package's version (the distribution's, which
    hatchling reads from ``__version__``).

    Why: drf-spectacular's defaults are an empty title and version ``0.0.0``, so a client
    generator or the API browser named django-talon's API nothing, at a version it never
    had. A key the project sets is its choice and stays; the defaults patch this view only
    (drf-spectacular's ``custom_settings``), so the shop's own schema views are unchanged."""
    configured = getattr(settings, "SPECTACULAR_SETTINGS", None) or {}
    defaults = {"TITLE": "django-talon", "VERSION": __version__}
    return {key: value for key, value in defaults.items() if key not in configured}


class TalonEndpoints(EndpointEnumerator):
    """The endpoints of django-talon's own views, wherever the project mounts them."""

    def should_include_endpoint(self, path: str, callback: Any) -> bool:
        view = getattr(callback, "cls", None)
        if view is None or not view.__module__.startswith("django_talon."):
            return False
        return bool(super().should_include_endpoint(path, callback))


class TalonSchemaGenerator(SchemaGenerator):
    """drf-spectacular's generator over django-talon's views only.

    Why: ``schema/`` describes this API (docs/rest-api.md lists its operation ids). The
    default generator walks the project's whole root URLconf, so a shop's own DRF views
    were described too, and under DRF's default ``DEFAULT_SCHEMA_CLASS`` each of them
    (DRF's own OpenAPI ``AutoSchema``) stopped drf-spectacular with "Incompatible AutoSchema"
    and ``GET schema/`` answered a 500."""

    endpoint_inspector_cls = TalonEndpoints


class TalonSchemaView(TalonAuthenticationMixin, SpectacularAPIView):
    """``GET schema/``: drf-spectacular's schema view, named like the other operations, and
    authenticated like them (``TALON["REST_AUTHENTICATION_CLASSES"]``, unusable credentials
    a 403, never a 500): with the project's default classes a NUL byte in a Basic-auth user
    name was a database error, and the schema listed Basic although no view of the app took
    it.

    ``schema`` is drf-spectacular's whatever ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` says
    (like :class:`~django_talon.api.views.TalonAPIView`): the generator describes this view
    too, and with DRF's default class (DRF's own OpenAPI ``AutoSchema``) ``GET schema/``
    answered a 500 ("get_operation() takes 3 positional arguments"), although the setting
    is documented as optional."""

    schema = AutoSchema()
    generator_class = TalonSchemaGenerator

    def get_authenticators(self) -> list[BaseAuthentication]:
        return [auth() for auth in authentication_classes()]

    @extend_schema(
        **{
            **SCHEMA_KWARGS,
            "operation_id": "talon_schema",
            "responses": responses(dict(SCHEMA_KWARGS["responses"])),
        }
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # as_view(custom_settings=...) still wins over the defaults
        self.custom_settings = {**info_defaults(), **(self.custom_settings or {})}
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        return response
