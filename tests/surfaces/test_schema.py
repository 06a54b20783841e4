"""The app's own OpenAPI schema: served, valid, and a schemathesis run finds no 500s."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.surfaces.conftest import ESPRESSO, GRINDER, make_cart

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CSRF = "a" * 32  # a fixed token: SessionAuthentication enforces CSRF for signed-in POSTs


def _schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/talon/schema/", {"format": "json"})
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def test_schema_is_served_and_lists_every_endpoint(client: Client) -> None:
    import schemathesis

    data = _schema(client)
    assert data["openapi"].startswith("3.")
    paths = set(data["paths"])
    assert {
        "/api/talon/promotions/",
        "/api/talon/coupons/",
        "/api/talon/coupons/{code}/",
        "/api/talon/referral/",
        "/api/talon/me/reserved-coupons/",
        "/api/talon/me/inventory/",
        "/api/talon/me/referrals/",
        "/api/talon/me/referrals/{code}/",
        "/api/talon/staff/reservations/",
        "/api/talon/staff/reservations/release/",
        "/api/talon/staff/reservations/{code}/",
    } <= paths
    schemathesis.openapi.from_dict(data).validate()


def test_schema_generates_without_warnings() -> None:
    """drf-spectacular warns when it has to guess a type; the API leaves nothing to guess."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    SchemaGenerator(urlconf="tests.urls").get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache


def test_schemathesis_finds_no_server_errors(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    import schemathesis

    settings.TALON = {**settings.TALON, "CODE_ATTEMPT_RATE": None}
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    make_cart(staff, [ESPRESSO, GRINDER])
    browser = Client()
    browser.force_login(staff)
    session = browser.session
    session["cart_id"] = make_cart(staff, [ESPRESSO]).pk
    session.save()
    cookies = {"sessionid": session.session_key, "csrftoken": CSRF}

    schema = schemathesis.openapi.from_dict(_schema(browser))
    schema.app = get_wsgi_application()
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 12
    failures: list[str] = []
    seen: set[tuple[str, int]] = set()

    for operation in operations:
        if operation.path.endswith("/schema/"):
            continue

        @settings_for_operation
        @given(case=operation.as_strategy(), signed_in=st.booleans())
        def check(case: Any, signed_in: bool) -> None:
            response = case.call(
                headers={"X-CSRFToken": CSRF}, cookies=cookies if signed_in else None
            )
            seen.add((f"{case.method} {case.operation.path}", response.status_code))
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

        check()
    assert failures == []
    statuses = {status for _, status in seen}
    # the run really reached the views: successes, validation errors and permission checks
    assert {200, 400, 403} <= statuses, sorted(seen)
    assert ("POST /api/talon/coupons/", 200) in seen, sorted(seen)


settings_for_operation = hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
