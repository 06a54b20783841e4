"""The schema's ``info``: ``django-talon`` and the package's version when the project's
``SPECTACULAR_SETTINGS`` sets no ``TITLE``/``VERSION`` (it was drf-spectacular's ``''`` and
``0.0.0``), the project's own values where it sets them, and the shop's own schema view
untouched either way.

In a new process per case: drf-spectacular reads ``SPECTACULAR_SETTINGS`` once, at import,
so overriding it inside the suite would not show what a project without it gets.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import django_talon
from tests.resources import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, types

    import tests.settings as base

    shop = types.ModuleType("schema_info_settings")
    for name, value in vars(base).items():
        if name.isupper() and name != "SPECTACULAR_SETTINGS":
            setattr(shop, name, value)
    configured = json.loads(sys.argv[1])
    if configured is not None:
        shop.SPECTACULAR_SETTINGS = configured
    shop.ROOT_URLCONF = "schema_info_urls"
    urls = types.ModuleType("schema_info_urls")
    sys.modules[urls.__name__] = urls
    sys.modules[shop.__name__] = shop
    os.environ["DJANGO_SETTINGS_MODULE"] = shop.__name__

    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import include, path
    from drf_spectacular.views import SpectacularAPIView

    urls.urlpatterns = [
        path("api/talon/", include("django_talon.api.urls")),
        path("shop/schema/", SpectacularAPIView.as_view()),  # the shop's own schema view
    ]
    setup_test_environment()
    client = Client(raise_request_exception=False)
    infos = {}
    for name, url in (("talon", "/api/talon/schema/"), ("shop", "/shop/schema/")):
        answer = client.get(url, {"format": "json"})
        assert answer.status_code == 200, (url, answer.status_code)
        infos[name] = answer.json()["info"]
    print(json.dumps(infos))
    """
)

#: drf-spectacular's own ``info`` when nothing is set.
SPECTACULAR_DEFAULT = {"title": "", "version": "0.0.0"}


def infos(configured: dict[str, str] | None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(configured)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return got


@pytest.mark.parametrize("configured", [None, {}])
def test_without_settings_the_schema_names_django_talon_and_its_version(
    configured: dict[str, str] | None,
) -> None:
    got = infos(configured)
    assert got["talon"] == {"title": "django-talon", "version": django_talon.__version__}
    assert got["shop"] == SPECTACULAR_DEFAULT  # the defaults patch django-talon's view only


def test_the_projects_title_and_version_are_kept() -> None:
    got = infos({"TITLE": "Bean There API"})
    assert got["talon"] == {"title": "Bean There API", "version": django_talon.__version__}
    assert got["shop"] == {"title": "Bean There API", "version": "0.0.0"}
    got = infos({"TITLE": "Bean There API", "VERSION": "2.1"})
    assert got["talon"] == got["shop"] == {"title": "Bean There API", "version": "2.1"}
