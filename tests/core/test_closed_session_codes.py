"""A code change that arrives after the order closed the session (the shopper's other tab
paid meanwhile) is refused, never applied to the closed session: its codes stay what
Talon.One closed with (and redeemed), and no update Talon.One would refuse for a closed
session is queued (it became a dead letter). Against the emulator over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import include, path

from django_talon import services
from django_talon.adapters import REQUEST_SESSION_KEY
from django_talon.models import CustomerSession, OutboxMessage
from tests.core.conftest import ESPRESSO, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

urlpatterns = [path("talon/", include("django_talon.urls"))]


def last_message(response: Any) -> str:
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def paid_meanwhile(shop: Any) -> tuple[Any, CustomerSession]:
    """A cart with WELCOME10, its session read by this tab, then paid by the other tab."""
    cart = make_cart(items=[ESPRESSO])
    services.apply_coupon(cart, "WELCOME10")
    this_tab = services.session_for_cart(cart, create=False)
    assert this_tab is not None and this_tab.state == "open"
    Order.objects.create(cart=cart, status="paid")  # the other tab
    return cart, this_tab


@pytest.mark.parametrize(
    "change",
    [
        lambda s: services.remove_coupon(s, "WELCOME10"),
        lambda s: services.apply_coupon(s, "VIP20"),
        lambda s: services.apply_referral(s, "FRIEND-1"),
        lambda s: services.remove_referral(s),
    ],
    ids=["remove_coupon", "apply_coupon", "apply_referral", "remove_referral"],
)
def test_a_code_change_on_a_session_closed_meanwhile_is_refused(shop: Any, change: Any) -> None:
    _, this_tab = paid_meanwhile(shop)
    rows = OutboxMessage.objects.count()
    with pytest.raises(services.SessionStateError, match="is closed"):
        change(this_tab)
    closed = CustomerSession.objects.get(pk=this_tab.pk)
    assert closed.state == "closed" and closed.coupon_codes == ["WELCOME10"]
    assert OutboxMessage.objects.count() == rows  # nothing queued
    remote = shop.control.state()["sessions"][closed.integration_id]
    assert remote["state"] == "closed" and remote["couponCodes"] == ["WELCOME10"]


def test_the_form_views_say_the_cart_is_checked_out(shop: Any, settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    _, this_tab = paid_meanwhile(shop)
    browser = Client()
    web = browser.session
    web[REQUEST_SESSION_KEY] = this_tab.integration_id
    web.save()
    for url, code in [("/talon/coupon/remove/", "WELCOME10"), ("/talon/coupon/apply/", "VIP20")]:
        response = browser.post(url, {"code": code})
        assert response.status_code == 302
        assert last_message(response) == "This cart is already checked out."
    assert CustomerSession.objects.get(pk=this_tab.pk).coupon_codes == ["WELCOME10"]
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).exists()


def test_removing_a_code_that_is_not_applied_says_so(shop: Any, settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    cart = make_cart(items=[ESPRESSO])
    session = services.apply_coupon(cart, "WELCOME10")
    browser = Client()
    web = browser.session
    web[REQUEST_SESSION_KEY] = session.integration_id
    web.save()
    response = browser.post("/talon/coupon/remove/", {"code": "NEVER-APPLIED"})
    assert last_message(response) == "Code NEVER-APPLIED is not applied."
    response = browser.post("/talon/coupon/remove/", {"code": "welcome10"})  # any case
    assert last_message(response) == "Code welcome10 removed."
    assert CustomerSession.objects.get(pk=session.pk).coupon_codes == []
