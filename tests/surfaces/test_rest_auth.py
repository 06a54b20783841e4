"""The app's REST views authenticate with TALON["REST_AUTHENTICATION_CLASSES"], not with the
project's DEFAULT_AUTHENTICATION_CLASSES: a project's Basic auth cannot turn bad credentials
(a NUL byte, which PostgreSQL refuses) into a 500 on them (docs/rest-api.md#authentication).
"""

from __future__ import annotations

import base64
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from django_talon.api.views import TalonAPIView
from django_talon.checks import check_settings
from tests.resources import REPO_ROOT, require_postgres

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"
BASIC = "rest_framework.authentication.BasicAuthentication"
SESSION = "rest_framework.authentication.SessionAuthentication"
ME = API + "me/reserved-coupons/"


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def project_basic_auth(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project whose REST_FRAMEWORK default is Basic auth.

    DRF reads ``DEFAULT_AUTHENTICATION_CLASSES`` into ``APIView.authentication_classes`` when
    the class is created, so the attribute is set too (what the project's import did).
    """
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_AUTHENTICATION_CLASSES": [BASIC]}
    monkeypatch.setattr(APIView, "authentication_classes", [BasicAuthentication])


def _never_500(django_user_model: Any, *, expect_basic: bool) -> None:
    django_user_model.objects.create_user("ann", password="pw")
    client = Client(raise_request_exception=False)
    bad = [("ann", "p\x00w"), ("a\x00nn", "pw"), ("\x00", "\x00"), ("ann", "wrong")]
    for username, password in bad:
        for path in (ME, API + "staff/reservations/VIP20/"):
            response = client.get(path, **basic(username, password))
            assert response.status_code in (401, 403), (username, password, path)
            if expect_basic:
                assert response.status_code == 401
                assert response["WWW-Authenticate"].startswith("Basic")
        response = client.post(API + "coupons/", {"code": "X"}, **basic(username, password))
        assert response.status_code in (200, 202, 400, 401, 403, 404), response.status_code
        # anonymous reads work when Basic is not the app's scheme; the schema view too
        # (it used the project's classes: a NUL byte was a 500 on PostgreSQL)
        for path in (API + "promotions/", API + "schema/"):
            response = client.get(path, **basic(username, password))
            assert response.status_code == (401 if expect_basic else 200), path


def test_project_basic_auth_is_not_used_nor_a_500(
    shop: Any, project_basic_auth: None, django_user_model: Any
) -> None:
    _never_500(django_user_model, expect_basic=False)
    schema = Client().get(API + "schema/", {"format": "json"}).json()
    assert "basicAuth" not in schema["components"]["securitySchemes"]  # no view takes it
    assert {"401", "403"} <= set(schema["paths"][API + "schema/"]["get"]["responses"])
    # good Basic credentials are not a way in either: the app's views use sessions only
    assert Client().get(ME, **basic("ann", "pw")).status_code == 403
    client = Client()
    client.login(username="ann", password="pw")
    assert client.get(ME).status_code == 200


@pytest.mark.postgres
def test_project_basic_auth_nul_bytes_on_postgresql(
    shop: Any, project_basic_auth: None, django_user_model: Any
) -> None:
    require_postgres()
    _never_500(django_user_model, expect_basic=False)


def test_setting_is_honoured(shop: Any, settings: Any, django_user_model: Any) -> None:
    settings.TALON = {**settings.TALON, "REST_AUTHENTICATION_CLASSES": [BASIC]}
    _never_500(django_user_model, expect_basic=True)
    assert Client().get(ME, **basic("ann", "pw")).status_code == 200
    client = Client()
    client.login(username="ann", password="pw")
    assert client.get(ME).status_code == 401  # the session is not a listed scheme now

    settings.TALON = {**settings.TALON, "REST_AUTHENTICATION_CLASSES": [SESSION, BASIC]}
    assert client.get(ME).status_code == 200
    assert Client().get(ME, **basic("ann", "pw")).status_code == 200


@pytest.mark.postgres
def test_listed_basic_auth_nul_bytes_on_postgresql(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    """Even a listed class that lets a NUL byte reach PostgreSQL answers 401, not 500."""
    require_postgres()
    settings.TALON = {**settings.TALON, "REST_AUTHENTICATION_CLASSES": [BASIC]}
    _never_500(django_user_model, expect_basic=True)


def test_schema_lists_the_configured_schemes(settings: Any, client: Client) -> None:
    def schemes() -> set[str]:
        data = client.get(API + "schema/", {"format": "json"}).json()
        operation = data["paths"][ME]["get"]
        return {name for requirement in operation["security"] for name in requirement}

    assert schemes() == {"cookieAuth"}
    settings.TALON = {**settings.TALON, "REST_AUTHENTICATION_CLASSES": [SESSION, BASIC]}
    assert schemes() == {"cookieAuth", "basicAuth"}


class OwnClassesView(TalonAPIView):
    """A shop's view on the app's base that chooses its own classes."""

    authentication_classes = [BasicAuthentication]

    def get(self, request: Any) -> Response:
        return Response({"user": str(request.user)})


def test_a_subclass_keeps_its_own_classes(django_user_model: Any) -> None:
    django_user_model.objects.create_user("bob", password="pw")
    request = APIRequestFactory().get("/", **basic("bob", "pw"))
    assert OwnClassesView.as_view()(request).data == {"user": "bob"}
    view = TalonAPIView()
    assert [type(a) for a in view.get_authenticators()] == [SessionAuthentication]


@pytest.mark.parametrize(
    "value",
    [
        ["nope.Missing"],
        ["django_talon.conf.TalonSettings"],
        ["rest_framework.authentication"],  # a module, not a class
    ],
)
def test_e012_unusable_authentication_class(value: list[str]) -> None:
    good = {"BASE_URL": "https://acme.talon.one", "API_KEY": "k"}
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:6379/9"}}  # fmt: skip
    with override_settings(TALON={**good, "REST_AUTHENTICATION_CLASSES": value}, CACHES=caches):
        assert [m.id for m in check_settings()] == ["django_talon.E012"]
    with override_settings(TALON={**good, "REST_AUTHENTICATION_CLASSES": [BASIC]}, CACHES=caches):
        assert [m.id for m in check_settings()] == []


NO_DRF_CHECK = """
import importlib.abc, sys

class NoDRF(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("rest_framework", "drf_spectacular"):
            raise ImportError(f"{name} is not installed (simulated)")
        return None

sys.meta_path.insert(0, NoDRF())
import django
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django_talon"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TALON={"BASE_URL": "https://acme.talon.one", "API_KEY": "k", "DEBUG": 1,
           "REST_AUTHENTICATION_CLASSES": ["anything.at.All"]},
    DEBUG=True,
)
django.setup()
from django_talon.checks import check_settings
print(sorted({m.id for m in check_settings()}))
"""


def test_e012_is_not_raised_without_drf() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_DRF_CHECK],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['django_talon.W001']"  # only the unknown "DEBUG" key
