"""JSON values from a custom adapter, and what is recorded when a hook fails
(docs/adapters.md#json-values, #what-is-recorded), against the emulator over HTTP."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils.translation import gettext_lazy

from django_talon import services
from django_talon.adapters import AdapterValueError, json_value
from django_talon.models import CustomerProfile, OutboxMessage, SyncProblem
from tests.core.conftest import ESPRESSO, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import Cart, CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = datetime.datetime(2026, 5, 4, 12, 30, tzinfo=datetime.timezone.utc)
WHEN_JSON = "2026-05-04T12:30:00Z"
TOKEN = uuid.UUID("12345678-1234-5678-1234-567812345678")


class RichValuesAdapter(ShopAdapter):
    """Everything a shop's own objects naturally hold: Decimals, dates, UUIDs, lazy strings."""

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        return [
            {
                "sku": row.sku,
                "name": gettext_lazy("Espresso beans"),
                "price": row.price,  # Decimal("8.50")
                "quantity": row.quantity,
                "category": row.category,
                "attributes": {"weight": Decimal("0.250"), "sizes": ("S", "M")},
            }
            for row in cart.items.all()
        ]

    def cart_attributes(self, cart: Any) -> dict[str, Any]:
        return {"deliveryDate": datetime.date(2026, 5, 6), "token": TOKEN, "at": WHEN}

    def profile_attributes(self, user: Any) -> dict[str, Any]:
        return {"Name": gettext_lazy("Customer"), "Since": WHEN, "Credit": Decimal("12.30")}


class BrokenItemsAdapter(ShopAdapter):
    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        raise RuntimeError("the shop's adapter has a bug")


class UnconvertibleAdapter(ShopAdapter):
    def cart_attributes(self, cart: Any) -> dict[str, Any]:
        return {"tags": {"a", "b"}}  # a set is not JSON


class BrokenProfileAdapter(ShopAdapter):
    def profile_attributes(self, user: Any) -> dict[str, Any]:
        return {"Since": datetime.time(12, 0, tzinfo=datetime.timezone.utc)}  # JSON cannot


def use_adapter(settings: Any, adapter: type) -> None:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.{adapter.__name__}"}


def test_json_value_converts_and_names_what_it_cannot() -> None:
    assert json_value({"d": Decimal("1.5"), "t": (1, 2), "u": TOKEN, "w": WHEN}) == {
        "d": 1.5,
        "t": [1, 2],
        "u": str(TOKEN),
        "w": "2026-05-04T12:30:00Z",
    }
    with pytest.raises(AdapterValueError, match=r"x\.y: a builtins\.object is not JSON"):
        json_value({"x": {"y": object()}}, "x")


def test_decimal_dates_uuids_and_lazy_strings_reach_talon_one(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    use_adapter(settings, RichValuesAdapter)
    user = django_user_model.objects.create_user("val", "val@example.com", "pw")
    cart = make_cart(user=user, items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.pushed_fingerprint == session.fingerprint
    state = shop.control.state()
    item = state["sessions"][session.integration_id]["cartItems"][0]
    assert item["price"] == 8.5 and item["name"] == "Espresso beans"
    assert item["attributes"] == {"weight": 0.25, "sizes": ["S", "M"]}
    attributes = state["sessions"][session.integration_id]["attributes"]
    assert attributes == {"deliveryDate": "2026-05-06", "token": str(TOKEN), "at": WHEN_JSON}
    profile = state["profiles"][f"user-{user.pk}"]["attributes"]
    assert profile == {"Name": "Customer", "Since": WHEN_JSON, "Credit": 12.3}
    assert not SyncProblem.objects.exists()


def test_a_failing_hook_is_recorded_counted_and_leaves_the_shops_transaction_usable(
    shop: Any, settings: Any
) -> None:
    use_adapter(settings, BrokenItemsAdapter)
    with transaction.atomic():  # the shop's own transaction (ATOMIC_REQUESTS)
        cart = Cart.objects.create()
        CartItem.objects.create(cart=cart, sku="S", name="N", price=Decimal("1.00"), quantity=1)
        CartItem.objects.create(cart=cart, sku="T", name="N", price=Decimal("2.00"), quantity=1)
        assert CartItem.objects.filter(cart=cart).count() == 2  # still usable
    problem = SyncProblem.objects.get()
    assert problem.stage == "cart" and problem.subject == f"shopapp.cart:{cart.pk}"
    assert problem.error == "RuntimeError: the shop's adapter has a bug"
    assert problem.count == 3 and not problem.resolved  # cart save + two item saves
    assert not OutboxMessage.objects.exists()
    out = StringIO()
    with pytest.raises(CommandError, match="1 unresolved sync problem"):
        call_command("talon_check", stdout=out)
    assert "Talon.One configuration OK" not in out.getvalue()
    assert "Problems:  1 unresolved sync problem(s)" in out.getvalue()


def test_an_unconvertible_value_is_recorded_with_where_it_is(shop: Any, settings: Any) -> None:
    use_adapter(settings, UnconvertibleAdapter)
    make_cart(items=[ESPRESSO])
    problem = SyncProblem.objects.get()
    assert problem.error.startswith("AdapterValueError: cart_attributes.tags: a builtins.set")


def test_failed_profile_and_placement_are_recorded(
    shop: Any, settings: Any, django_user_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_adapter(settings, BrokenProfileAdapter)
    user = django_user_model.objects.create_user("bp", "bp@example.com", "pw")
    assert not CustomerProfile.objects.filter(user=user, fingerprint__gt="").exists()
    profile_problem = SyncProblem.objects.get(stage="profile")
    assert profile_problem.subject == f"auth.user:{user.pk}"
    assert "timezone-aware times" in profile_problem.error

    use_adapter(settings, ShopAdapter)
    cart = make_cart(user=user, items=[ESPRESSO])

    def refuse(order: Any) -> None:
        raise ValueError("ledger unavailable")

    monkeypatch.setattr(services, "record_placement", refuse)
    order = Order.objects.create(cart=cart, user=user, status="paid")
    placement = SyncProblem.objects.get(stage="placement")
    assert placement.subject == f"shopapp.order:{order.pk}"
    assert placement.error == "ValueError: ledger unavailable"
    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"  # the close still went out


def test_the_admin_shows_problems_and_resolves_them(
    shop: Any, settings: Any, admin_client: Client
) -> None:
    use_adapter(settings, BrokenItemsAdapter)
    make_cart(items=[ESPRESSO])
    problem = SyncProblem.objects.get()
    page = admin_client.get("/admin/django_talon/syncproblem/")
    assert page.status_code == 200 and "the shop&#x27;s adapter has a bug" in page.content.decode()
    admin_client.post(
        "/admin/django_talon/syncproblem/",
        {"action": "mark_resolved", "_selected_action": [problem.pk]},
    )
    problem.refresh_from_db()
    assert problem.resolved and problem.resolved_at is not None
    call_command("talon_check", stdout=StringIO())  # nothing unresolved: exit 0
