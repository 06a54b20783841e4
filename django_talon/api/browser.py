"""An API browser page (Swagger UI) for the app's endpoints that works offline.

Optional: ``pip install "django-talon[apibrowser]"`` (drf-spectacular's sidecar, which ships
Swagger UI's files as Django static files), ``"drf_spectacular_sidecar"`` in
``INSTALLED_APPS``, and next to the API's URLs::

    path("api/talon/", include("django_talon.api.urls")),
    path("api/talon/browser/", include("django_talon.api.browser")),

Why not drf-spectacular's view as it is: by default it loads Swagger UI from a CDN, which a
shop's content security policy, an intranet or a laptop on a train does not reach. This page
always takes the files from the sidecar (``{% static %}``, so from the shop itself, whatever
``SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"]`` says) and reads the schema of
``django_talon_api:schema``. Requests made from the page send the CSRF token (the app's views
ask for it on every write with the session cookie).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import path
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.views import SpectacularSwaggerView

from django_talon.api.schema import extend_schema

__all__ = ["TalonAPIBrowserView", "urlpatterns"]

if not apps.is_installed("drf_spectacular_sidecar"):
    raise ImproperlyConfigured(
        "django_talon.api.browser serves Swagger UI from drf-spectacular's sidecar: "
        'pip install "django-talon[apibrowser]" and add "drf_spectacular_sidecar" to '
        "INSTALLED_APPS."
    )


def _sidecar(filename: str) -> str:
    return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")


class TalonAPIBrowserView(SpectacularSwaggerView):
    """Swagger UI over ``GET schema/``, its files from the shop's own static files.

    The page is in the URLs the schema generator walks, so its ``schema`` and its ``get``
    annotation are drf-spectacular's whatever ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``
    says: with DRF's default class the generator refused the page ("Incompatible
    AutoSchema") and ``GET schema/`` answered a 500 as soon as the page was included."""

    schema = AutoSchema()

    url_name = "django_talon_api:schema"
    title = "django-talon API"

    @extend_schema(exclude=True)
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """drf-spectacular's page, left out of the schema by an annotation built on
        drf-spectacular's schema class (:func:`~django_talon.api.schema.extend_schema`):
        the parent's is built on the project's default class, which the generator refuses."""
        response: HttpResponse = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        return response

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return _sidecar(filename)

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return _sidecar("favicon-32x32.png")


app_name = "django_talon_api_browser"

urlpatterns = [path("", TalonAPIBrowserView.as_view(), name="browser")]
