"""Optional REST API (install the ``drf`` extra: djangorestframework + drf-spectacular).

Nothing outside this package imports it, so ``django_talon`` works without DRF; include
``django_talon.api.urls`` in your URLconf to enable the endpoints (see docs/rest-api.md).

Why the imports below: without the extra, ``include("django_talon.api.urls")`` stopped the
project with a bare ``No module named 'rest_framework'`` from deep inside the views, which
says neither what needs it nor how to get it.
"""

from django.core.exceptions import ImproperlyConfigured

try:
    import drf_spectacular  # noqa: F401
    import rest_framework  # noqa: F401
except ImportError as missing:
    raise ImproperlyConfigured(
        "django_talon.api needs djangorestframework and drf-spectacular "
        f"({missing}): pip install 'django-talon[drf]'"
    ) from missing
