"""Per-item discount names and totals, ``{% talon_cart_summary %}`` inside a shop page, and
the REST inventory endpoint built on ``services.customer_inventory``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Engine, Template

from django_talon.promotions import discount_display_name, summarize
from tests.surfaces.conftest import ESPRESSO, GRINDER
from tests.surfaces.helpers import CART, effect, make_session, request_for
from tests.surfaces.test_api import API, customer

EFFECTS = [
    effect("setDiscount", 1, name="Welcome 10%", value=10.6),
    effect("setDiscountPerItem", 4, name="Coffee 1 off each#0", value=1.0, position=0,
           subPosition=0),
    effect("setDiscountPerItem", 4, name="Coffee 1 off each#0.1", value=1.0, position=0,
           subPosition=1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "effect_type", "shown"),
    [
        ("Coffee 1 off each#0", "setDiscountPerItem", "Coffee 1 off each"),
        ("Coffee 1 off each#12.3", "setDiscountPerItem", "Coffee 1 off each"),
        ("Bag fee#2", "setDiscountPerAdditionalCostPerItem", "Bag fee"),
        ("#0", "setDiscountPerItem", "#0"),  # nothing left: keep what was sent
        ("Summer #1", "setDiscount", "Summer #1"),  # cart discounts keep their name
        ("Price#tag", "setDiscountPerItem", "Price#tag"),
    ],
)
def test_discount_display_name(name: str, effect_type: str, shown: str) -> None:
    assert discount_display_name(name, effect_type) == shown


def test_item_discounts_have_display_names_and_their_own_total() -> None:
    summary = summarize(EFFECTS, CART, "EUR")
    assert [d.name for d in summary.item_discounts] == ["Coffee 1 off each"] * 2
    assert [d.raw_name for d in summary.item_discounts] == [
        "Coffee 1 off each#0",
        "Coffee 1 off each#0.1",
    ]
    assert summary.cart_discounts[0].raw_name == summary.cart_discounts[0].name == "Welcome 10%"
    assert summary.item_discount_total == Decimal("2.00")
    assert summary.cart_discount_total == Decimal("10.60")
    assert summary.total_discount == Decimal("12.60")


@pytest.mark.django_db
def test_cart_summary_without_lines_shows_one_item_discount_line() -> None:
    session = make_session(effects=EFFECTS)
    html = Template("{% load talon %}{% talon_cart_summary show_lines=False %}").render(
        Context({"request": request_for(session)})
    )
    assert "talon-lines" not in html
    assert "Item discounts" in html and "-2.00 EUR" in html
    assert "Welcome 10%" in html and "93.40 EUR" in html
    full = Template("{% load talon %}{% talon_cart_summary %}").render(
        Context({"request": request_for(session)})
    )
    assert "talon-lines" in full and "Item discounts" not in full


@pytest.mark.django_db
def test_cart_summary_template_sees_the_page_context() -> None:
    """An overriding template can use the page's own variables next to ``promotions``."""
    engine = Engine(
        loaders=[
            (
                "django.template.loaders.locmem.Loader",
                {
                    "shop/summary.html": "{% load talon %}[{{ shop_name }}|{{ show_lines }}|"
                    "{{ promotions.item_discount_total }}|{{ promotions.total }}]"
                },
            )
        ],
        libraries={"talon": "django_talon.templatetags.talon"},
    )
    session = make_session(effects=EFFECTS)
    html = engine.from_string(
        '{% load talon %}{% talon_cart_summary template="shop/summary.html" show_lines=False %}'
        "{{ show_lines|default:'gone' }}"
    ).render(Context({"request": request_for(session), "shop_name": "Beans"}))
    assert html == "[Beans|False|2.00|93.40]gone"  # the tag's variables do not leak out


@pytest.mark.django_db(transaction=True)
def test_inventory_endpoint_uses_the_service(shop: Any, django_user_model: Any) -> None:
    from tests.shopapp.models import Order

    ann, client, cart = customer(django_user_model, "ann", ESPRESSO, GRINDER)
    Order.objects.create(cart=cart, user=ann, status="paid")
    body = client.get(API + "me/inventory/").json()
    assert set(body) == {"found", "coupons", "referrals", "loyalty"}
    (program,) = body["loyalty"]
    assert program["current_balance"] == "106"
    # {% talon_loyalty %} now shows the remembered balance without calling the API
    shop.control.clear_requests()
    html = Template("{% load talon %}{% talon_loyalty %}").render(
        Context({"request": request_for(None, ann)})
    )
    assert "106 points" in html and shop.control.requests() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("status", "expected"), [(503, 503), (403, 502)])
def test_inventory_endpoint_maps_talon_errors(
    shop: Any, django_user_model: Any, status: int, expected: int
) -> None:
    _, client, _ = customer(django_user_model, "ann")
    shop.control.add_fault(kind="error", status=status, path="/v1/customer_profiles/*")
    response = client.get(API + "me/inventory/")
    assert response.status_code == expected
    assert response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_my_referrals_lists_only_mine(shop: Any, django_user_model: Any) -> None:
    _, ann_client, _ = customer(django_user_model, "ann")
    _, bob_client, _ = customer(django_user_model, "bob")
    made = ann_client.post(API + "me/referrals/", {}, content_type="application/json").json()
    assert [r["code"] for r in ann_client.get(API + "me/referrals/").json()] == [made["code"]]
    assert bob_client.get(API + "me/referrals/").json() == []


@pytest.mark.django_db
def test_staff_reserve_rejects_user_ids_beyond_database_integers(admin_client: Any) -> None:
    """Found by schemathesis: a user id above 2**63 - 1 crashed the query (500)."""
    response = admin_client.post(
        API + "staff/reservations/",
        {"code": "VIP20", "user_ids": [2**64]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "user_ids" in response.json()
