"""The order ledger against the emulator: what was charged, what Talon.One answered.

Charged entries come from the quote the shop charged (``services.record_order``, or the order
receiver for shops wired through ``ORDER_MODELS``); the close, returns, the cancel and a
reopen append Talon.One's answers. Nothing is ever overwritten.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from django_talon import services
from django_talon.models import CustomerSession, Discrepancy, LedgerEntry, LedgerEntryUpdateError
from django_talon.services.quotes import quote_for_cart
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(session_id: str) -> list[str]:
    return list(
        LedgerEntry.objects.filter(session_id=session_id)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def placed(user: Any = None, code: str = "WELCOME10") -> tuple[Order, CustomerSession]:
    cart = make_cart(user=user, items=[ESPRESSO, GRINDER])
    services.apply_coupon(cart, code)
    order = Order.objects.create(cart=cart, user=user, status="paid")
    session = services.session_for_order(order)
    assert session is not None and session.state == "closed"
    return order, session


def test_order_receiver_records_charged_then_booked_and_they_agree(shop: Any) -> None:
    order, session = placed()

    charged, booked = LedgerEntry.objects.filter(session_id=session.integration_id)
    assert (charged.kind, booked.kind) == ("charged", "booked")
    assert charged.order_key == booked.order_key == f"shopapp.order:{order.pk}"
    assert charged.quote_status == "confirmed"
    # 2 x 8.50 + 89.00 = 106.00; coffee 1 off each (campaign 4) = 2.00; 10% (campaign 1).
    assert charged.subtotal == Decimal("106.00")
    assert charged.discounts_by_campaign == {"1": "10.60", "4": "2.00"}
    assert charged.coupon_codes == ["WELCOME10"]
    assert Decimal(charged.quote["total"]) == charged.total == Decimal("93.40")
    assert [line["sku"] for line in charged.quote["lines"]] == ["ESPRESSO-250", "GRINDER-X"]
    # Booked: Talon.One's answer at the close, summed by the same summary code.
    assert booked.discounts_by_campaign == charged.discounts_by_campaign
    assert booked.coupon_codes == ["WELCOME10"]
    assert any(e["effectType"] == "acceptCoupon" for e in booked.effects)
    assert booked.outbox_message_id is not None
    assert not Discrepancy.objects.exists()


def test_entries_are_append_only_and_hold_no_personal_data(
    shop: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    _, session = placed(user=user)
    entry = LedgerEntry.objects.filter(session_id=session.integration_id).first()
    assert entry is not None
    entry.note = "changed"
    with pytest.raises(LedgerEntryUpdateError):
        entry.save()
    entry.refresh_from_db()
    assert entry.note == ""
    for stored in LedgerEntry.objects.all():
        text = repr(
            [stored.quote, stored.effects, stored.cart_items, stored.note, stored.order_key]
        )
        assert "ann" not in text and "@" not in text


def test_shop_records_its_own_quote_once(shop: Any) -> None:
    cart = make_cart(items=[ESPRESSO])
    services.apply_coupon(cart, "WELCOME10")
    quote = quote_for_cart(cart)
    with transaction.atomic():
        order = Order.objects.create(cart=cart, status="pending")
        services.record_order(order, quote)
        order.status = "paid"
        order.save()  # the receiver finds the charged entry and records no second one
    session = services.session_for_order(order)
    assert session is not None
    assert kinds(session.integration_id) == ["charged", "booked"]
    charged = LedgerEntry.objects.get(kind="charged")
    assert charged.total == quote.total and charged.quote == quote.to_dict()


def test_return_and_cancel_append_without_overwriting(shop: Any) -> None:
    order, session = placed()
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    before = {f.name: getattr(charged, f.name) for f in LedgerEntry._meta.fields}

    services.return_items(session, [{"position": 0, "quantity": 1}])
    order.status = "cancelled"
    order.save()

    assert kinds(session.integration_id) == ["charged", "booked", "returned", "cancelled"]
    returned = LedgerEntry.objects.get(session_id=session.integration_id, kind="returned")
    assert returned.returned_items == [{"position": 0, "quantity": 1}]
    assert any(e["effectType"].startswith("rollback") for e in returned.effects)
    assert returned.discount_total > 0  # the returned unit's share is taken back
    cancelled = LedgerEntry.objects.get(session_id=session.integration_id, kind="cancelled")
    assert any(e["effectType"] == "rollbackCoupon" for e in cancelled.effects)
    charged.refresh_from_db()
    assert {f.name: getattr(charged, f.name) for f in LedgerEntry._meta.fields} == before
    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    assert booked.discounts_by_campaign == charged.discounts_by_campaign
    # Everything booked is rolled back by the return plus the cancel: reconciled.
    assert not Discrepancy.objects.exists()


def test_reopen_appends_the_rollback_answer(shop: Any) -> None:
    _, session = placed()
    services.reopen_session(session)
    assert kinds(session.integration_id) == ["charged", "booked", "reopened"]
    reopened = LedgerEntry.objects.get(session_id=session.integration_id, kind="reopened")
    assert reopened.discounts_by_campaign == {"1": "10.60", "4": "2.00"}
    assert not Discrepancy.objects.exists()


def test_a_change_after_a_reopen_is_closed_as_it_is_and_a_difference_is_recorded(
    shop: Any,
) -> None:
    """Reopened, a code added, closed again without recording the new charge: the close sent
    the cart and codes of the charged entry from before the reopen (the new code silently
    dropped, and the old entry agreed with the new booking). It is closed as it is now, and
    the booking is reconciled with the latest charged entry: the difference is recorded."""
    cart = make_cart(items=[ESPRESSO, GRINDER])
    order = Order.objects.create(cart=cart, status="paid")  # charged without a code
    session = services.session_for_order(order)
    assert session is not None
    services.reopen_session(session)
    services.apply_coupon(session, "WELCOME10")
    services.close_session(session)
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed" and remote["couponCodes"] == ["WELCOME10"]
    assert kinds(session.integration_id) == ["charged", "booked", "reopened", "booked"]
    (discrepancy,) = Discrepancy.objects.all()
    assert discrepancy.booked_discount > discrepancy.charged_discount


def test_an_order_saved_after_a_reopen_records_what_it_is_charged_now(shop: Any) -> None:
    """Shops wired through ORDER_MODELS: the order's save after the reopen records a new
    charged entry (the receiver recorded one per order and session, ever), and the close
    matches it."""
    cart = make_cart(items=[ESPRESSO, GRINDER])
    order = Order.objects.create(cart=cart, status="paid")
    session = services.session_for_order(order)
    assert session is not None
    services.reopen_session(session)
    services.apply_coupon(session, "WELCOME10")
    order.save()  # still paid: the receiver closes the reopened session again
    session.refresh_from_db()
    assert session.state == "closed" and session.coupon_codes == ["WELCOME10"]
    assert kinds(session.integration_id) == ["charged", "booked", "reopened", "charged", "booked"]
    recharged = LedgerEntry.objects.filter(kind="charged").order_by("-id")[0]
    assert recharged.coupon_codes == ["WELCOME10"] and recharged.discount_total > 0
    assert not Discrepancy.objects.exists()


def test_close_without_a_recorded_quote_is_unchanged(shop: Any) -> None:
    """A shop that records nothing (close_session on a cart) closes as before."""
    cart = make_cart(items=[ESPRESSO])
    services.apply_coupon(cart, "WELCOME10")
    session = services.close_session(cart)
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed" and remote["couponCodes"] == ["WELCOME10"]
    assert kinds(session.integration_id) == ["booked"]
    assert not Discrepancy.objects.exists()


def test_a_charged_code_removed_before_payment_is_closed_with_the_order(shop: Any) -> None:
    """Tab A places the order (charged with WELCOME10), tab B removes the code before the
    payment: the close sends the codes the order was charged, so Talon.One redeems the
    coupon it paid for. Before, the close went with ``couponCodes: []`` and nothing was
    redeemed (a limited coupon could be used again), the difference a "campaign changed"."""
    cart = make_cart(items=[ESPRESSO, GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    with transaction.atomic():  # placed: the quote shown is what the order is charged
        order = Order.objects.create(cart=cart, status="pending")
        services.record_order(order, quote_for_cart(cart))
    session = services.session_for_order(order)
    assert session is not None
    charged = LedgerEntry.objects.get(session_id=session.integration_id, kind="charged")
    assert charged.coupon_codes == ["WELCOME10"]
    services.remove_coupon(cart, "WELCOME10")  # the other tab

    order.status = "paid"
    order.save()

    booked = LedgerEntry.objects.get(session_id=session.integration_id, kind="booked")
    assert booked.coupon_codes == ["WELCOME10"]
    assert booked.discounts_by_campaign == charged.discounts_by_campaign
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["state"] == "closed" and remote["couponCodes"] == ["WELCOME10"]
    assert not Discrepancy.objects.exists()
