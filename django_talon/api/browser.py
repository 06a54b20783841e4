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

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView

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
    """Swagger UI over ``GET schema/``, its files from the shop's own static files."""

    url_name = "django_talon_api:schema"
    title = "django-talon API"

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return _sidecar(filename)

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return _sidecar("favicon-32x32.png")


app_name = "django_talon_api_browser"

urlpatterns = [path("", TalonAPIBrowserView.as_view(), name="browser")]
