"""A cart save that only touches its ``auto_now`` timestamp reuses the lines just mirrored.

The example shop saves a line, then ``cart.save(update_fields=["updated_at"])`` in the same
transaction (docs/performance.md, "A cart change"). The touch cannot change the lines, so
the cart's receiver reuses what the line's receiver read (no second ``cart_items`` query,
issue 13); everything else a plain save announces is still announced: a ``save()`` after a
``QuerySet.update()`` of the lines, a touch in a transaction that mirrored nothing yet, a
touch together with a field the adapter reads. Against the emulator over HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from django_talon.receivers import _touched_only
from django_talon.services import session_for_cart
from example_project import settings as example_settings

pytestmark = pytest.mark.django_db(transaction=True)

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.fixture
def shop_cart(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:
    """An open cart of the example shop (one espresso line), wired as the shop wires it."""
    from example_project.cart.models import Cart, CartItem
    from example_project.catalog.models import Product
    from example_project.demo.data import load_demo_data

    wiring = ("ADAPTER", "CART_MODELS", "CART_ITEM_MODELS", "ORDER_MODELS")
    settings.TALON = {**talon_settings, **{k: example_settings.TALON[k] for k in wiring}}
    load_demo_data()
    cart = Cart.objects.create(session_key="touch-test")
    CartItem.objects.create(cart=cart, product=Product.objects.get(sku="DECAF-250"), quantity=1)
    return cart


def quantities(cart: Any) -> list[int]:
    session = session_for_cart(cart, create=False)
    assert session is not None
    return [item["quantity"] for item in session.cart_items]


def sent_quantities(emulator: Any, cart: Any) -> list[int]:
    session = session_for_cart(cart, create=False)
    assert session is not None
    state = emulator.control.state()["sessions"][session.integration_id]
    return [item["quantity"] for item in state["cartItems"]]


def item_queries(sql: list[str]) -> list[str]:
    return [q for q in sql if 'FROM "cart_cartitem"' in q and q.startswith("SELECT")]


def test_the_touch_after_a_line_save_reads_no_lines(shop_cart: Any, talon_emulator: Any) -> None:
    line = shop_cart.items.get()
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        line.quantity = 4
        line.save(update_fields=["quantity"])
        shop_cart.save(update_fields=["updated_at"])
    sql = [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(CONTROL)]
    assert len(item_queries(sql)) == 1, sql  # the line's receiver; the touch read none
    assert quantities(shop_cart) == [4] == sent_quantities(talon_emulator, shop_cart)


def test_a_plain_save_after_a_queryset_update_still_sends_the_lines(
    shop_cart: Any, talon_emulator: Any
) -> None:
    line = shop_cart.items.get()
    with transaction.atomic():
        line.quantity = 2
        line.save(update_fields=["quantity"])
        shop_cart.items.update(quantity=7)  # no signal: the shop announces it with save()
        shop_cart.save()
    assert quantities(shop_cart) == [7] == sent_quantities(talon_emulator, shop_cart)


def test_a_touch_in_a_transaction_that_mirrored_nothing_reads_the_lines(
    shop_cart: Any, talon_emulator: Any
) -> None:
    with transaction.atomic():
        shop_cart.items.update(quantity=6)
        shop_cart.save(update_fields=["updated_at"])
    assert quantities(shop_cart) == [6] == sent_quantities(talon_emulator, shop_cart)


def test_a_touch_with_a_field_the_adapter_reads_is_a_change(
    shop_cart: Any, talon_emulator: Any
) -> None:
    """Delivery is a cart field the adapter turns into the shipping cost: not a touch."""
    line = shop_cart.items.get()
    with transaction.atomic():
        line.quantity = 3
        line.save(update_fields=["quantity"])
        shop_cart.items.update(quantity=5)
        shop_cart.delivery = "standard" if shop_cart.delivery != "standard" else "pickup"
        shop_cart.save(update_fields=["delivery", "updated_at"])
    assert quantities(shop_cart) == [5] == sent_quantities(talon_emulator, shop_cart)


def test_a_touch_after_a_line_that_failed_to_mirror_reads_the_lines_again(
    shop_cart: Any, talon_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Line one mirrors, line two's mirroring fails (the shop's hook refuses it), then the
    cart's touch: it must not send the lines remembered from before the failure (the quote
    would be ``confirmed`` for a cart without line two). Talon.One gets the state after line
    one (queued by its save); the session stays marked as behind the cart."""
    from django_talon import services
    from django_talon.services import QuoteStatus
    from django_talon.services.carts import UNMIRRORED
    from example_project.catalog.models import Product
    from example_project.talon_adapter import ShopTalonAdapter

    original = ShopTalonAdapter.cart_items

    def cart_items(self: Any, cart: Any) -> list[dict[str, Any]]:
        items = original(self, cart)
        if any(item["sku"] == "ESPRESSO-250" for item in items):
            raise ValueError("no price for ESPRESSO-250")
        return items

    line = shop_cart.items.get()
    with monkeypatch.context() as patched:
        patched.setattr(ShopTalonAdapter, "cart_items", cart_items)
        with transaction.atomic():
            line.quantity = 3
            line.save(update_fields=["quantity"])  # mirrored
            shop_cart.items.create(product=Product.objects.get(sku="ESPRESSO-250"), quantity=1)
            shop_cart.save(update_fields=["updated_at"])
        session = session_for_cart(shop_cart, create=False)
        assert session is not None and session.fingerprint == UNMIRRORED  # still behind
        quote = services.quote_for_cart(shop_cart)
    assert quote.status is QuoteStatus.UNAVAILABLE
    quote = services.quote_for_cart(shop_cart)  # the hook works again: mirrored, answered
    assert quote.confirmed and sorted(line.sku for line in quote.lines) == [
        "DECAF-250",
        "ESPRESSO-250",
    ]


def test_only_auto_now_fields_make_a_touch() -> None:
    from example_project.cart.models import Cart

    assert _touched_only(Cart, frozenset({"updated_at"}))
    assert not _touched_only(Cart, frozenset({"updated_at", "delivery"}))
    assert not _touched_only(Cart, frozenset({"created_at"}))  # auto_now_add: not a touch
    assert not _touched_only(Cart, None) and not _touched_only(Cart, frozenset())
