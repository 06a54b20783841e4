"""The adapter contract, held by a real Oscar shop: unsaved baskets are no cart, finished
baskets never open a session, a line moved to another basket updates both."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from oscar.core.loading import get_model

from django_talon.models import CustomerSession
from tests.oscar.conftest import add_to_basket, basket_of, enter_code, make_user, sessions_of

pytestmark = pytest.mark.django_db(transaction=True)

Basket = get_model("basket", "Basket")


def test_two_anonymous_visitors_never_share_a_session(shop: Any, catalogue: dict[str, Any]) -> None:
    first, second = Client(), Client()
    enter_code(first, "WELCOME10")  # into an empty basket: it gets its row now
    first_basket, _ = basket_of(first)
    assert first_basket.pk is not None
    (first_session,) = sessions_of(first_basket)
    assert first_session.coupon_codes == ["WELCOME10"]

    second_basket, page = basket_of(second)  # no cookie: Oscar's unsaved Basket()
    assert second_basket.pk is None
    assert b"WELCOME10" not in page.content
    add_to_basket(second, catalogue["tea"])
    second_basket, _ = basket_of(second)
    (second_session,) = sessions_of(second_basket)
    assert second_session.pk != first_session.pk
    assert second_session.coupon_codes == []
    assert "Talon.One" not in str(second_basket.offer_discounts)

    add_to_basket(first, catalogue["mug"])  # the first visitor's code is still theirs
    first_basket, _ = basket_of(first)
    first_session.refresh_from_db()
    assert first_session.coupon_codes == ["WELCOME10"]
    assert [i["sku"] for i in first_session.cart_items] == ["MUG-1"]
    assert first_basket.total_discount > 0 and second_basket.total_discount == 0
    assert not CustomerSession.objects.filter(cart_key__endswith=":None").exists()
    assert CustomerSession.objects.count() == 2


def test_finished_baskets_never_open_a_session(shop: Any, catalogue: dict[str, Any]) -> None:
    user = make_user("cy@example.com")
    client = Client()
    client.force_login(user)
    add_to_basket(client, catalogue["mug"])
    basket, _ = basket_of(client)
    (session,) = sessions_of(basket)
    writes = CustomerSession.objects.get(pk=session.pk).fingerprint

    basket = Basket.objects.get(pk=basket.pk)
    basket.freeze()  # checkout in progress
    basket.thaw()  # back to open: the same session, nothing new to send
    assert sessions_of(basket) == [session]
    session.state = "closed"  # as if its order closed it
    session.save(update_fields=["state"])
    basket.submit()
    basket.save()  # saved again after the order: no phantom open session appears
    assert CustomerSession.objects.filter(cart_key=session.cart_key, state="open").count() == 0
    assert CustomerSession.objects.get(pk=session.pk).fingerprint == writes


def test_a_line_saved_for_later_leaves_the_open_baskets_session(
    shop: Any, catalogue: dict[str, Any]
) -> None:
    user = make_user("di@example.com")
    client = Client()
    client.force_login(user)
    add_to_basket(client, catalogue["mug"])
    add_to_basket(client, catalogue["tea"])
    basket, _ = basket_of(client)
    (session,) = sessions_of(basket)
    assert sorted(i["sku"] for i in session.cart_items) == ["MUG-1", "TEA-1"]

    saved = Basket.saved.create(owner=user)
    saved.merge_line(basket.lines.get(product=catalogue["tea"]))  # Oscar's "save for later"
    session.refresh_from_db()
    assert [i["sku"] for i in session.cart_items] == ["MUG-1"]
    assert sessions_of(saved) == []  # a saved basket is not open: no session of its own
    remote = shop.control.state()["sessions"][session.integration_id]
    assert [i["sku"] for i in remote["cartItems"]] == ["MUG-1"]


def test_login_outside_oscars_views_still_carries_the_guests_code(
    shop: Any, catalogue: dict[str, Any]
) -> None:
    """``client.login()`` (a login without Oscar's middleware: no ``request.basket``): the
    core's login receiver finds the guest's session through ``request.session`` and the
    adapter's ``cart_for_user``; Oscar's merge on the next request moves the lines."""
    guest = Client()
    add_to_basket(guest, catalogue["mug"])
    assert enter_code(guest, "WELCOME10") == "Code WELCOME10 applied."
    guest_basket, _ = basket_of(guest)
    make_user("fay@example.com")
    assert guest.login(username="fay", password="oscar-test-pass")
    basket, page = basket_of(guest)  # Oscar merges the baskets in this very request
    assert basket.pk != guest_basket.pk and basket.owner.username == "fay"
    # The merged cart goes to Talon.One when this request commits (ATOMIC_REQUESTS): this
    # page charges the full price and says why; the next one has Talon.One's answer.
    assert basket.total_incl_tax == Decimal("12.50")
    assert b"still being confirmed" in page.content
    basket, _ = basket_of(guest)
    (session,) = sessions_of(basket)
    assert session.coupon_codes == ["WELCOME10"]
    assert [i["sku"] for i in session.cart_items] == ["MUG-1"]
    assert basket.total_incl_tax == Decimal("11.25")
    holders = [
        s for s in CustomerSession.objects.filter(state="open") if "WELCOME10" in s.coupon_codes
    ]
    assert holders == [session]  # no code is held by two sessions


def test_the_basket_owner_is_read_without_loading_the_user(shop: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_talon.adapters import get_adapter

    owner = make_user("owner@example.com")
    basket = Basket.objects.get(pk=Basket.objects.create(owner=owner).pk)
    with CaptureQueriesContext(connection) as ctx:
        assert get_adapter().cart_user_id(basket) == owner.pk
        assert get_adapter().cart_user_id(Basket()) is None
    assert ctx.captured_queries == []
