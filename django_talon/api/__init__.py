"""Optional REST API (install the ``drf`` extra: djangorestframework + drf-spectacular).

Nothing outside this package imports it, so ``django_talon`` works without DRF; include
``django_talon.api.urls`` in your URLconf to enable the endpoints (see docs/rest-api.md).
"""
