"""The example shop's cart has a referral field: a friend enters the advocate's code there
and gets the "Refer a friend" discount (against the emulator, through the shop's pages)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_talon.models import CustomerSession
from example_project.demo.data import load_demo_data

pytestmark = pytest.mark.django_db(transaction=True)


def add(client: Client, sku: str, quantity: int = 1) -> Any:
    return client.post("/cart/add/", {"sku": sku, "quantity": quantity})


def test_a_friend_enters_a_referral_code_in_the_cart(shop: Client, talon_emulator: Any) -> None:
    shop.post("/accounts/coupons/referral/")  # alice, the advocate, creates her code
    (code,) = talon_emulator.control.state()["referrals"]

    friend = Client()
    User.objects.create_user("dora", password="dora-pass-123")
    assert friend.login(username="dora", password="dora-pass-123")
    add(friend, "GRINDER-X")
    page = friend.get("/cart/").content.decode()
    assert 'data-test="referral"' in page and 'action="/talon/referral/apply/"' in page

    answer = friend.post("/talon/referral/apply/", {"code": code, "next": "/cart/"})
    assert answer.status_code == 302 and answer["Location"] == "/cart/"
    page = friend.get("/cart/").content.decode()
    assert "Referral code applied." in page
    assert "Refer a friend" in page and "-5.00" in page
    session = CustomerSession.objects.get(profile__user__username="dora")
    assert session.referral_code == code
    assert talon_emulator.control.state()["sessions"][session.integration_id]["referralCode"] == (
        code
    )


def test_an_unknown_referral_code_says_why_in_the_cart(
    shop_talon: dict[str, Any], talon_emulator: Any
) -> None:
    load_demo_data()
    guest = Client()
    add(guest, "ESPRESSO-250")
    guest.post("/talon/referral/apply/", {"code": "REF-NOPE", "next": "/cart/"})
    page = guest.get("/cart/").content.decode()
    assert "REF-NOPE" in page and "talon-referral-rejected" in page
    assert CustomerSession.objects.get().referral_code == ""  # dropped: never sent again
