"""An erased advocate's referral codes leave other customers' data, against the emulator.

A referral code names its advocate (docs/gdpr.md treats it as personal), and a friend who
applied it keeps it: in their session's ``referral_code`` (sent with every later cart
change), the stored effects (``acceptReferral``), their queued writes and the order
ledger. After the advocate's erasure none of these holds it and nothing sent to Talon.One
carries it, while the friend's own cart, coupon codes and writes are kept and delivered.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from django_talon import resilience, services
from django_talon.models import CustomerSession, LedgerEntry, OutboxMessage
from django_talon.services.handlers import session_key
from tests.core.shop import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.core.test_erasure_final import customer, stored_rows
from tests.shopapp.models import CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)


def holds(text: str, code: str) -> bool:
    """Does ``text`` hold the code, in any case (Talon.One matches codes so)?"""
    return code.casefold() in text.casefold()


def sent_after(shop: Any, start: int) -> list[dict[str, Any]]:
    return shop.control.requests()[start:]


def friend_with_code(django_user_model: Any) -> tuple[Any, str, Any, Any]:
    """An advocate whose referral code a friend applied (in lower case), then a coupon of
    the friend's queued while Talon.One is switched off: a pending row holding the code."""
    advocate = customer(django_user_model, "advocate")
    code = services.create_referral(advocate, 5).code
    friend = customer(django_user_model, "friend")
    cart = make_cart(user=friend, items=[ESPRESSO])
    session = services.apply_referral(cart, code.lower())
    assert holds(json.dumps(session.effects), code)  # acceptReferral: there is something
    resilience.set_kill_switch(True)
    services.apply_coupon(cart, "WELCOME10")
    resilience.set_kill_switch(False)
    pending = OutboxMessage.objects.get(key=session_key(session.integration_id), state="pending")
    assert holds(json.dumps(pending.payload), code)
    return advocate, code, cart, session


def test_the_friends_session_queued_writes_and_ledger_lose_the_code(
    shop: Any, django_user_model: Any
) -> None:
    advocate, code, cart, session = friend_with_code(django_user_model)
    charged = LedgerEntry.objects.create(
        session_id=session.integration_id,
        kind="charged",
        discount_total=Decimal("2.00"),
        coupon_codes=["WELCOME10"],
        referral_code=code.lower(),
        quote={"referral_code": code.lower(), "total": "15.00"},
        effects=[
            {"effectType": "acceptReferral", "props": {"value": code}},
            {"effectType": "acceptCoupon", "props": {"value": "WELCOME10"}},
        ],
        note=f"codes entered but not given: {code}",
    )
    other = LedgerEntry.objects.create(
        session_id="someone-else", kind="charged", referral_code="REF-NOT-HERS"
    )
    start = len(shop.control.requests())

    services.erase_customer(advocate, requested_by="test")

    session.refresh_from_db()
    assert session.referral_code == ""
    assert not holds(json.dumps(session.effects), code)
    # The friend's own state stays, and was pushed: Talon.One has it without the code.
    assert session.coupon_codes == ["WELCOME10"] and session.cart_items
    remote = shop.control.state()["sessions"][session.integration_id]
    assert remote["referralCode"] == "" and remote["couponCodes"] == ["WELCOME10"]
    assert not OutboxMessage.objects.filter(
        key=session_key(session.integration_id), state="pending"
    ).exists()
    for message in OutboxMessage.objects.all():
        assert not holds(json.dumps(message.payload), code), message
    charged.refresh_from_db()
    assert charged.referral_code == "" and charged.quote == {"referral_code": "", "total": "15.00"}
    assert charged.effects == [{"effectType": "acceptCoupon", "props": {"value": "WELCOME10"}}]
    assert charged.coupon_codes == ["WELCOME10"] and charged.discount_total == Decimal("2.00")
    assert "not given" in charged.note and not holds(charged.note, code)
    other.refresh_from_db()
    assert other.referral_code == "REF-NOT-HERS"

    # The friend shops on and checks out: nothing sent carries the advocate's code.
    CartItem.objects.create(
        cart=cart, sku=GRINDER[0], name=GRINDER[1], price=Decimal(GRINDER[2]), quantity=1
    )
    Order.objects.create(cart=cart, user=session.profile.user, status="paid")
    assert shop.control.state()["sessions"][session.integration_id]["state"] == "closed"
    calls = sent_after(shop, start)
    assert calls and not any(holds(json.dumps(c, default=str), code) for c in calls)
    assert not holds(stored_rows(), code)


def test_a_closed_session_loses_the_code_without_being_sent_again(
    shop: Any, django_user_model: Any
) -> None:
    advocate = customer(django_user_model, "adv2")
    code = services.create_referral(advocate, 5).code
    friend = customer(django_user_model, "friend2")
    cart = make_cart(user=friend, items=[KETTLE])
    session = services.apply_referral(cart, code)
    Order.objects.create(cart=cart, user=friend, status="paid")
    session.refresh_from_db()
    assert session.state == "closed" and session.referral_code == code
    rows_before = OutboxMessage.objects.filter(key=session_key(session.integration_id)).count()

    services.erase_customer(advocate, requested_by="test")

    session.refresh_from_db()
    assert session.state == "closed" and session.referral_code == ""
    assert not holds(json.dumps(session.effects), code)
    # A closed session takes no cart update: nothing queued for it.
    assert OutboxMessage.objects.filter(key=session_key(session.integration_id)).count() == (
        rows_before
    )
    assert not holds(stored_rows(), code)


def test_an_advocate_without_codes_changes_nobody_else(shop: Any, django_user_model: Any) -> None:
    advocate = customer(django_user_model, "nocodes")
    other = customer(django_user_model, "bystander")
    code = services.create_referral(other, 5).code
    friend_session = services.apply_referral(
        make_cart(user=customer(django_user_model, "friend3"), items=[ESPRESSO]), code
    )
    before = CustomerSession.objects.get(pk=friend_session.pk)

    services.erase_customer(advocate, requested_by="test")

    after = CustomerSession.objects.get(pk=friend_session.pk)
    assert after.referral_code == code and after.effects == before.effects
    assert after.fingerprint == before.fingerprint
