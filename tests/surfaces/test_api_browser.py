"""The optional API browser page renders Swagger UI from the shop's own static files (the
sidecar), never from a CDN, over the app's schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

WITH_SIDECAR = [*settings.INSTALLED_APPS, "drf_spectacular_sidecar"]


@pytest.fixture
def browser_site() -> Iterator[None]:
    with override_settings(INSTALLED_APPS=WITH_SIDECAR, ROOT_URLCONF="tests.surfaces.browser_urls"):
        finders.get_finder.cache_clear()
        yield
    finders.get_finder.cache_clear()


def test_the_page_renders_with_local_static_files_only(browser_site: None, client: Client) -> None:
    response = client.get("/api/talon/browser/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and "/api/talon/schema/" in html
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(referenced) >= 4  # stylesheet, favicon, two scripts
    for url in referenced:
        assert url.startswith(settings.STATIC_URL), url  # nothing from another host
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url  # and it is there
    assert "//cdn" not in html and "https://" not in html.split("<script>")[0]


def test_the_page_reads_a_schema_that_is_served(browser_site: None, client: Client) -> None:
    schema = client.get("/api/talon/schema/", {"format": "json"})
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")


def test_without_the_sidecar_the_include_says_what_to_install(settings: Any) -> None:
    import importlib
    import sys

    sys.modules.pop("django_talon.api.browser", None)
    with pytest.raises(ImproperlyConfigured, match=r"django-talon\[apibrowser\]"):
        importlib.import_module("django_talon.api.browser")
