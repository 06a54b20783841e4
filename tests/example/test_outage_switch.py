"""The demo's staff-only outage switch: inject an outage, watch writes wait, lift it, watch
them drain. Against the emulator over HTTP; ``transactional_db`` because django-talon's
immediate delivery runs after commit."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_talon.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/demo/outage/"


def staff() -> Client:
    client = Client()
    assert client.login(username="staff", password="staff-demo-pass")
    return client


def pending() -> int:
    count: int = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).count()
    return count


def test_customers_cannot_see_or_use_the_switch(shop: Client, talon_emulator: Any) -> None:
    assert shop.get(URL).status_code == 302  # to the admin login
    assert shop.post(URL, {"action": "start"}).status_code == 302
    assert talon_emulator.control.faults() == []


def test_an_outage_keeps_the_shop_working_and_its_writes_drain_after_it(
    shop: Client, talon_emulator: Any
) -> None:
    operator = staff()
    page = operator.get(URL)
    assert b"Talon.One is up." in page.content
    assert b'href="/demo/outage/"' in operator.get("/").content  # the staff link

    operator.post(URL, {"action": "start"})
    assert [f["status"] for f in talon_emulator.control.faults()] == [503]
    assert b"Outage ON" in operator.get(URL).content

    # Fail-open: the customer's cart still works; the write waits in the outbox.
    response = shop.post("/cart/add/", {"sku": "ESPRESSO-250", "quantity": 1})
    assert response.status_code == 302
    assert shop.get("/cart/").status_code == 200
    assert pending() == 1
    assert talon_emulator.control.state()["sessions"] == {}
    page = operator.get(URL)
    assert b'data-test="outbox-pending">1<' in page.content

    operator.post(URL, {"action": "stop"}, follow=True)
    assert talon_emulator.control.faults() == []
    assert pending() == 0
    (session,) = talon_emulator.control.state()["sessions"].values()
    assert [item["sku"] for item in session["cartItems"]] == ["ESPRESSO-250"]


def test_an_unreachable_emulator_is_shown_not_raised(
    shop: Client, talon_emulator: Any, settings: Any
) -> None:
    settings.TALON = {**settings.TALON, "BASE_URL": "http://127.0.0.1:9"}
    page = staff().get(URL)
    assert page.status_code == 200
    assert b"Talon.One unreachable" in page.content
