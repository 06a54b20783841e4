"""docs/rest-api.md runs: its request examples are sent to the example shop (its URLs, its
demo catalog and campaigns, the emulator behind it) and the answers must have the page's
JSON shapes (keys, and the values the page quotes for the scenario it describes) and its
statuses; its settings snippets are executed, its endpoint table reversed, its operation
ids compared with the schema's.

Where an example's values are illustrative (the inventory's ids and codes), only the keys
and the value types are compared (``values=False``).
"""

from __future__ import annotations

import re
import sys
import types
from importlib import metadata
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import clear_url_caches, reverse

from django_talon.models import CouponReservation, CustomerProfile
from tests.docs.snippets import (
    assert_shape,
    documented_json,
    page_text,
    section,
    snippet,
    uncovered,
)

PAGE = "rest-api.md"
API = "/api/talon/"
INSTALL = 'INSTALLED_APPS = [..., "rest_framework", "drf_spectacular", "django_talon"]'
BROWSER = (
    'INSTALLED_APPS = [..., "rest_framework", "drf_spectacular", '
    '"drf_spectacular_sidecar", "django_talon"]'
)
UNAVAILABLE = (
    '{"subtotal": "151.00", "total_discount": "0.00", "total": "151.00", "cart_discounts": [],'
)
APPLIED = "200: the code's verdict and the cart's promotions"
INVENTORY = "GET me/inventory/"
APPLY = "POST /api/talon/coupons/"
RESERVE = "POST /api/talon/staff/reservations/"
TOKENS = "TALON = {"


def request_of(key: str) -> tuple[str, str, Any]:
    """An ``http`` block: method, path, JSON body."""
    lines = snippet(PAGE, key).code.strip().splitlines()
    method, path = lines[0].split()
    return method, path, documented_json("\n".join(lines[1:]))


def add(client: Client, sku: str, quantity: int = 1) -> None:
    assert client.post("/cart/add/", {"sku": sku, "quantity": quantity}).status_code == 302


def sign_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=f"{username}-demo-pass")
    return client


def quoted_error(text: str, status: int) -> Any:
    """The body the page quotes after a status, e.g. ``400 {"code": [...]}``."""
    match = re.search(rf"`{status} (\{{.*?\}})`", text.replace("\n", " "))
    assert match, f"no `{status} {{...}}` in the text"
    return documented_json(match[1])


@pytest.mark.django_db(transaction=True)
def test_applying_a_code_answers_the_documented_shape(shop: Client, talon_emulator: Any) -> None:
    guest = Client()
    add(guest, "GRINDER-X")
    add(guest, "ESPRESSO-250", 2)  # 106.00, as the example
    method, path, body = request_of(APPLY)
    assert (method, body) == ("POST", {"code": "WELCOME10"})
    answer = guest.post(path, body, content_type="application/json")
    assert answer.status_code == 200
    assert_shape(documented_json(snippet(PAGE, APPLIED).code), answer.json())

    text = section(PAGE, "Applying a code")
    invalid = guest.post(path, {}, content_type="application/json")
    assert invalid.status_code == 400 and invalid.json() == {"code": ["This field is required."]}
    assert '`{"code": ["This field is required."]}`' in text
    refused = guest.post(path, {"code": "NOPE42"}, content_type="application/json").json()
    assert refused["result"]["status"] == "rejected" and refused["result"]["message"]

    again = guest.post(path, {"code": "welcome10"}, content_type="application/json")
    assert again.status_code == 200 and again.json()["result"]["status"] == "accepted"
    assert "`welcome10` after `WELCOME10`" in page_text(PAGE)
    assert guest.delete(f"{API}coupons/welcome10/").status_code in (200, 204)
    assert "`DELETE coupons/welcome10/` removes `WELCOME10`" in page_text(PAGE)
    assert guest.get(f"{API}promotions/").json()["coupons"] == []


@pytest.mark.django_db(transaction=True)
def test_no_cart_csrf_and_throttling_answer_as_documented(
    shop: Client, talon_emulator: Any, settings: Any
) -> None:
    text = page_text(PAGE).replace("\n", " ")
    nobody = Client()
    answer = nobody.post(f"{API}coupons/", {"code": "WELCOME10"}, content_type="application/json")
    assert answer.status_code == 404
    (detail,) = re.findall(r'`404` \(`(\{"detail": "[^"]+"\})`\)', text)
    assert answer.json() == documented_json(detail)

    forged = Client(enforce_csrf_checks=True)  # anonymous, with a cart, without the token
    add_csrf = forged.get("/")  # a page: the csrftoken cookie is set
    assert add_csrf.status_code == 200
    forged.post(
        "/cart/add/",
        {
            "sku": "GRINDER-X",
            "quantity": 1,
            "csrfmiddlewaretoken": forged.cookies["csrftoken"].value,
        },
    )
    refused = forged.post(f"{API}coupons/", {"code": "WELCOME10"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed: CSRF token missing")
    assert "`... CSRF token missing.`" in text
    with_token = forged.post(
        f"{API}coupons/",
        {"code": "WELCOME10"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=forged.cookies["csrftoken"].value,
    )
    assert with_token.status_code == 200

    settings.TALON = {**settings.TALON, "CODE_ATTEMPT_RATE": "1/minute"}
    throttled = forged.post(
        f"{API}coupons/",
        {"code": "WELCOME10"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=forged.cookies["csrftoken"].value,
    )
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert re.fullmatch(
        r"Request was throttled\. Expected available in \d+ seconds\.", throttled.json()["detail"]
    )


@pytest.mark.django_db(transaction=True)
def test_a_cart_while_talon_one_is_down_answers_the_unavailable_quote(
    shop: Client, talon_emulator: Any
) -> None:
    talon_emulator.control.add_fault(kind="error", status=503, path="/v*")
    guest = Client()
    add(guest, "GRINDER-X")
    add(guest, "KETTLE-GOOSENECK")
    add(guest, "ESPRESSO-250", 2)  # 151.00, as the example
    answer = guest.get(f"{API}promotions/")
    assert answer.status_code == 200
    assert_shape(documented_json(snippet(PAGE, UNAVAILABLE).code), answer.json())


@pytest.mark.django_db(transaction=True)
def test_staff_reserving_answers_as_documented(shop: Client, talon_emulator: Any) -> None:
    for pk in (12, 34, 35):
        User.objects.create_user(f"customer{pk}", id=pk)
    method, path, body = request_of(RESERVE)
    staff = sign_in("staff")
    answer = staff.post(path, body, content_type="application/json")
    assert answer.status_code == 201, answer.content
    text = section(PAGE, "Staff: reserving a code")
    (documented,) = re.findall(r"`201 (\{.*?\})`", text)
    assert_shape(documented_json(documented), answer.json())
    assert CouponReservation.objects.filter(coupon_code="VIP20").count() == 3

    unknown = staff.post(path, {**body, "code": "VIPP20"}, content_type="application/json")
    assert unknown.status_code == 400
    assert unknown.json() == quoted_error(text, 400)
    lower = staff.post(
        path, {"code": "vip20", "integration_ids": ["user-12"]}, content_type="application/json"
    )
    assert lower.status_code == 201 and lower.json()["code"] == "VIP20"
    bad = staff.post(path, {"code": "VIP20", "user_ids": [999]}, content_type="application/json")
    assert bad.status_code == 400 and list(bad.json()) == ["user_ids"]


@pytest.mark.django_db(transaction=True)
def test_the_inventory_answers_the_documented_keys(shop: Client, talon_emulator: Any) -> None:
    staff = sign_in("staff")
    alice = CustomerProfile.objects.get(user__username="alice")
    staff.post(
        f"{API}staff/reservations/",
        {"code": "VIP20", "integration_ids": [alice.integration_id]},
        content_type="application/json",
    )
    shop.post("/accounts/coupons/referral/")  # alice's referral code
    add(shop, "GRINDER-X")
    checkout = shop.get("/orders/checkout/").content.decode()
    (total,) = re.findall(r'data-test="checkout-total">([\d.]+) EUR<', checkout)
    placed = shop.post("/orders/checkout/", {"quoted_total": total})
    shop.post(placed["Location"], {"card_number": "4242 4242 4242 4242"})  # points earned

    answer = shop.get(f"{API}me/inventory/")
    assert answer.status_code == 200
    assert_shape(documented_json(snippet(PAGE, INVENTORY).code), answer.json(), values=False)
    inventory = answer.json()
    assert inventory["found"] is True
    assert [c["value"] for c in inventory["coupons"]] == ["VIP20"]  # each list is compared
    assert len(inventory["referrals"]) == 1
    assert inventory["loyalty"][0]["title"] == "Coffee Club"
    assert Client().get(f"{API}me/inventory/").status_code == 403  # signed in only


def test_the_endpoint_table_names_the_urls() -> None:
    rows = re.findall(
        r"^\| `(GET|POST|DELETE) ([^`]+)`[^|]*\| `([\w:-]+)` \|", section(PAGE, "Endpoints"), re.M
    )
    assert len(rows) >= 15
    for _method, path, name in rows:
        if ":" in name:  # the optional browser page: tests/surfaces/test_api_browser.py
            continue
        kwargs = dict.fromkeys(re.findall(r"\{(\w+)\}", path), "X")
        expected = API + re.sub(r"\{\w+\}", "X", path)
        assert reverse(f"django_talon_api:{name}", kwargs=kwargs) == expected


@pytest.mark.django_db
def test_the_operation_ids_are_the_schemas(client: Client) -> None:
    schema = yaml.safe_load(client.get(f"{API}schema/").content)
    ids = {op["operationId"] for methods in schema["paths"].values() for op in methods.values()}
    text = section(PAGE, "OpenAPI schema")
    documented = set(re.findall(r"`(talon_[a-z_]+)`", text)) - {"talon_<what>"}
    assert documented == ids
    as_json = client.get(f"{API}schema/?format=json")
    assert as_json.status_code == 200 and as_json.json()["openapi"].startswith("3.")


@pytest.mark.django_db
def test_the_install_snippet_and_its_optional_schema_class(client: Client, settings: Any) -> None:
    from django.urls import include, path

    namespace: dict[str, Any] = {"path": path, "include": include}
    exec(compile(snippet(PAGE, INSTALL).code, "docs/rest-api.md install", "exec"), namespace)
    assert set(namespace["INSTALLED_APPS"][1:]) <= set(settings.INSTALLED_APPS)
    assert "# optional" in snippet(PAGE, INSTALL).code
    settings.REST_FRAMEWORK = {}  # without the "optional" schema class the schema still works
    assert client.get(f"{API}schema/").status_code == 200
    extras = set(metadata.metadata("django-talon").get_all("Provides-Extra") or [])
    assert {"drf", "apibrowser"} <= extras
    assert snippet(PAGE, 'pip install "django-talon[drf]"').lang == "bash"
    assert snippet(PAGE, 'pip install "django-talon[apibrowser]"').lang == "bash"


@pytest.mark.django_db
def test_the_api_browser_snippet_serves_the_page(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.contrib.staticfiles import finders
    from django.urls import include, path

    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "drf_spectacular_sidecar"]
    namespace: dict[str, Any] = {"path": path, "include": include}
    exec(compile(snippet(PAGE, BROWSER).code, "docs/rest-api.md browser", "exec"), namespace)
    assert set(namespace["INSTALLED_APPS"][1:]) <= set(settings.INSTALLED_APPS)
    urls = types.ModuleType("docs_rest_browser_urls")
    patterns = [p for p in namespace["urlpatterns"] if p is not Ellipsis]
    urls.urlpatterns = patterns  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, urls.__name__, urls)
    settings.ROOT_URLCONF = urls.__name__
    finders.get_finder.cache_clear()
    clear_url_caches()
    try:
        page = client.get("/api/talon/browser/")
        assert page.status_code == 200 and b"swagger-ui" in page.content
    finally:
        finders.get_finder.cache_clear()
        clear_url_caches()


def test_the_token_settings_pass_the_check(settings: Any) -> None:
    code = snippet(PAGE, TOKENS).code.replace("...,", "")
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/rest-api.md tokens", "exec"), namespace)
    settings.TALON = {**settings.TALON, **namespace["TALON"]}
    call_command("check", "django_talon")  # E012 would raise


def test_every_block_is_run_or_marked() -> None:
    covered = [
        'pip install "django-talon[drf]"',
        INSTALL,
        UNAVAILABLE,
        APPLY,
        APPLIED,
        RESERVE,
        INVENTORY,
        TOKENS,
        'pip install "django-talon[apibrowser]"',
        BROWSER,
    ]
    assert uncovered(PAGE, covered) == []
