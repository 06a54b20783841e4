"""``GET schema/`` and the API browser work with DRF's default settings (docs/rest-api.md
calls ``DEFAULT_SCHEMA_CLASS`` optional; docs/installation.md does not set it), beside a
shop's own DRF view (DRF's ``AutoSchema``: drf-spectacular refused it, a 500), which the
schema leaves out: it describes django-talon's operations only.

In a new process: ``@extend_schema`` binds to the ``DEFAULT_SCHEMA_CLASS`` of the moment the
views are imported, so overriding ``REST_FRAMEWORK`` inside the suite (whose settings name
drf-spectacular's class) would not show the coreapi default's 500.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

from tests.docs.snippets import section
from tests.resources import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, types

    import tests.settings as base

    shop = types.ModuleType("drf_default_settings")
    for name, value in vars(base).items():
        if name.isupper() and name != "REST_FRAMEWORK":  # DRF's defaults, as a new project
            setattr(shop, name, value)
    shop.INSTALLED_APPS = [*base.INSTALLED_APPS, "drf_spectacular_sidecar"]
    # the API and the browser page, and a shop's own plain DRF view beside them
    shop.ROOT_URLCONF = "drf_default_urls"
    urls = types.ModuleType("drf_default_urls")
    sys.modules[urls.__name__] = urls
    sys.modules[shop.__name__] = shop
    os.environ["DJANGO_SETTINGS_MODULE"] = shop.__name__

    import django

    django.setup()
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from tests.surfaces.browser_urls import urlpatterns

    class ShopOrdersView(APIView):
        def get(self, request):
            return Response([])

    urls.urlpatterns = [*urlpatterns, path("shop/api/orders/", ShopOrdersView.as_view())]
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.settings import api_settings

    setup_test_environment()
    client = Client(raise_request_exception=False)
    schema = client.get("/api/talon/schema/", {"format": "json"})
    browser = client.get("/api/talon/browser/")
    ids = []
    if schema.status_code == 200:
        paths = schema.json()["paths"].values()
        ids = sorted(op["operationId"] for methods in paths for op in methods.values())
    print(json.dumps({
        "schema_class": api_settings.DEFAULT_SCHEMA_CLASS.__module__,
        "schema": schema.status_code,
        "browser": browser.status_code,
        "reads": "/api/talon/schema/" in browser.content.decode(),
        "ids": ids,
    }))
    """
)


def test_schema_and_browser_answer_with_drfs_default_schema_class() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["schema_class"] == "rest_framework.schemas.openapi"  # DRF's, not drf-spectacular's
    assert got["schema"] == 200, done.stderr[-3000:]
    assert got["browser"] == 200 and got["reads"]
    documented = set(re.findall(r"`(talon_[a-z_]+)`", section("rest-api.md", "OpenAPI schema")))
    assert set(got["ids"]) == documented - {"talon_<what>"}
