"""Fixtures of the Oscar shop tests: the emulator wiring, a catalogue, shoppers, staff.

Run with ``DJANGO_SETTINGS_MODULE=tests.oscar.settings`` (tests/conftest.py ignores this
folder under any other settings). The tests use ``transactional_db``: django-talon's
immediate attempt runs after commit, which never happens inside pytest-django's per-test
transaction, and ``ATOMIC_REQUESTS`` requests commit for real.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

if os.environ.get("DJANGO_SETTINGS_MODULE") != "tests.oscar.settings":
    raise pytest.UsageError(
        "tests/oscar is a django-oscar shop with settings of its own: run it with "
        "DJANGO_SETTINGS_MODULE=tests.oscar.settings (make pytest does)"
    )
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from oscar.test import factories

from django_talon import resilience
from django_talon.models import CustomerSession
from django_talon.testing.django import talon_settings  # noqa: F401  (re-exported fixture)

PASSWORD = "oscar-test-pass"


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """Breaker, kill switch and throttling budgets live in the cache: start every test clean."""
    cache.clear()
    resilience.breaker.reset()
    yield
    cache.clear()


@pytest.fixture
def shop(talon_settings: dict[str, Any], talon_emulator: Any) -> Any:  # noqa: F811
    """The Oscar shop wired to the emulator (demo campaigns); returns the emulator handle."""
    return talon_emulator


@pytest.fixture
def catalogue(transactional_db: None) -> dict[str, Any]:
    """Two products with stock and prices (tax-free strategy: incl = excl), a shipping
    country."""
    factories.CountryFactory(
        iso_3166_1_a2="DE", printable_name="Germany", name="Germany", is_shipping_country=True
    )
    mug = factories.create_product(
        upc="MUG-1", title="Mug", price=Decimal("12.50"), num_in_stock=50
    )
    tea = factories.create_product(upc="TEA-1", title="Tea", price=Decimal("8.00"), num_in_stock=50)
    return {"mug": mug, "tea": tea}


def make_user(email: str, *, staff: bool = False) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        username=email.split("@")[0], email=email, password=PASSWORD, is_staff=staff
    )
    return user


@pytest.fixture
def staff(transactional_db: None) -> Any:
    """A staff member allowed to reserve and release coupons and to manage orders (Oscar's
    order dashboard asks for the order model permissions)."""
    user = make_user("staff@example.com", staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_couponreservation", "delete_couponreservation"]
        ),
        *Permission.objects.filter(
            content_type__app_label="order", codename__in=["view_order", "change_order"]
        ),
    )
    return user


def staff_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_to_basket(client: Client, product: Any, quantity: int = 1) -> Any:
    """Oscar's own add-to-basket view (POST /basket/add/<pk>/)."""
    response = client.post(f"/basket/add/{product.pk}/", {"quantity": quantity})
    assert response.status_code == 302, response.content[:500]
    return response


def enter_code(client: Client, code: str) -> str:
    """Oscar's voucher form path; returns the last message shown after the redirect (the
    code's; Oscar's basket messages come before it)."""
    response = client.post("/basket/vouchers/add/", {"code": code}, follow=True)
    assert response.status_code == 200
    return str(list(response.context["messages"])[-1]).strip()


def log_in(client: Client, email: str) -> Any:
    """Oscar's own login form (``/accounts/login/``)."""
    response = client.post(
        "/accounts/login/",
        {"login-username": email, "login-password": PASSWORD, "login_submit": "1"},
    )
    assert response.status_code == 302, response.content[:2000]
    return response


def check_out(client: Client) -> Any:
    """Oscar's checkout, step by step: shipping address, method, payment, place the order."""
    response = client.get("/checkout/", follow=True)
    assert response.status_code == 200
    response = client.post(
        "/checkout/shipping-address/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "line1": "1 Main Street",
            "line4": "Berlin",
            "postcode": "10115",
            "country": "DE",
        },
        follow=True,
    )
    assert response.status_code == 200
    # Oscar's default payment step has no form: the next page is payment details.
    assert response.request["PATH_INFO"] == "/checkout/payment-details/"
    assert client.get("/checkout/preview/").status_code == 200
    response = client.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 302, response.content[:3000]
    assert response["Location"].endswith("/checkout/thank-you/")
    return response


def basket_of(client: Client) -> Any:
    """The visitor's basket as Oscar's basket page hands it to its template."""
    response = client.get("/basket/")
    assert response.status_code == 200
    return response.context["basket"], response


def sessions_of(basket: Any) -> list[CustomerSession]:
    return list(CustomerSession.objects.filter(cart_key=f"basket.basket:{basket.pk}"))


def money_in(html: bytes) -> list[str]:
    return re.findall(r"€\s?([0-9]+\.[0-9]{2})", html.decode())


def set_quantities(client: Client, quantities: dict[str, int]) -> Any:
    """Oscar's basket formset (POST /basket/), as the shopper submits it: each line's
    quantity, changed for the UPCs in ``quantities``."""
    page = client.get("/basket/")
    formset = page.context["formset"]
    prefix = formset.prefix
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": formset.total_form_count(),
        f"{prefix}-INITIAL_FORMS": formset.initial_form_count(),
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for index, form in enumerate(formset.forms):
        line = form.instance
        data[f"{prefix}-{index}-id"] = line.pk
        data[f"{prefix}-{index}-quantity"] = quantities.get(line.product.upc, line.quantity)
    response = client.post("/basket/", data)
    assert response.status_code == 302, response.content[:2000]
    return response
