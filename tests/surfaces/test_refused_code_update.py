"""A code whose cart update Talon.One refused for good (a dead letter) is not "pending".

A Talon.One 400 on the session update is permanent: the outbox row is dead after its first
(immediate) attempt and nothing delivers it later. The REST API then answers 502 (not 202,
"queued"), ``GET promotions/`` shows the code ``rejected`` (not ``pending`` forever) and the
HTML form says the code could not be applied. A code that is genuinely queued (Talon.One
unreachable, 5xx) still answers 202 / ``pending``. Over HTTP against the emulator, with its
fault injection.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from django_talon.models import OutboxMessage
from tests.surfaces.conftest import ESPRESSO, GRINDER, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

API = "/api/talon/"
SESSIONS = "/v2/customer_sessions/*"


def shopper(django_user_model: Any, name: str = "ann") -> Client:
    user = django_user_model.objects.create_user(name, password="pw")
    cart = make_cart(user, [ESPRESSO, GRINDER])
    client = Client()
    client.force_login(user)
    session = client.session
    session["cart_id"] = cart.pk
    session.save()
    return client


def post(client: Client, path: str, code: str) -> Any:
    return client.post(API + path, {"code": code}, content_type="application/json")


@pytest.mark.parametrize(
    ("path", "code", "kind"),
    [("coupons/", "WELCOME10", "coupons"), ("referral/", "REF-NOSUCH", "referrals")],
)
def test_a_refused_update_is_a_502_and_never_pending(
    shop: Any, django_user_model: Any, path: str, code: str, kind: str
) -> None:
    client = shopper(django_user_model)
    shop.control.add_fault(kind="error", status=400, path=SESSIONS, times=1)
    response = post(client, path, code)
    assert response.status_code == 502, response.content
    assert response.json()["detail"].startswith("Talon.One refused the cart update with ")
    assert code in response.json()["detail"]
    dead = OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD)
    assert dead.count() == 1  # the refusal is what the answer says: nothing delivers it later

    data = client.get(API + "promotions/").json()
    results = [(c["code"], c["status"], c["reason"]) for c in data[kind]]
    assert results == [(code, "rejected", "")]
    assert data[kind][0]["message"].endswith(f"{code} could not be applied.")
    assert data["quote"]["status"] == "unavailable"  # no discount promised for this cart


def test_a_refused_update_after_a_retry_that_is_answered_is_the_verdict(
    shop: Any, django_user_model: Any
) -> None:
    client = shopper(django_user_model)
    shop.control.add_fault(kind="error", status=400, path=SESSIONS, times=1)
    assert post(client, "coupons/", "WELCOME10").status_code == 502
    response = post(client, "coupons/", "WELCOME10")  # Talon.One answers now
    assert response.status_code == 200, response.content
    assert response.json()["result"]["status"] == "accepted"
    statuses = [c["status"] for c in client.get(API + "promotions/").json()["coupons"]]
    assert statuses == ["accepted"]


@pytest.mark.parametrize("status", [500, 503])
def test_a_queued_code_is_still_202_pending(shop: Any, django_user_model: Any, status: int) -> None:
    client = shopper(django_user_model)
    shop.control.add_fault(kind="error", status=status, path=SESSIONS, times=1)
    response = post(client, "coupons/", "WELCOME10")
    assert response.status_code == 202, response.content
    assert response.json()["result"]["status"] == "pending"
    assert not OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).exists()
    coupons = client.get(API + "promotions/").json()["coupons"]
    assert [(c["code"], c["status"]) for c in coupons] == [("WELCOME10", "pending")]


def test_the_html_form_says_a_refused_code_could_not_be_applied(
    shop: Any, django_user_model: Any
) -> None:
    client = shopper(django_user_model)
    shop.control.add_fault(kind="error", status=400, path=SESSIONS, times=1)
    response = client.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    assert response.status_code == 302
    shown = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert shown == [("error", "Coupon WELCOME10 could not be applied.")]
    # Entering it again re-sends the refused cart state (nothing else would): now answered.
    response = client.post("/talon/coupon/apply/", {"code": "WELCOME10", "next": "/cart/"})
    shown = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert shown[-1] == ("success", "Code WELCOME10 applied.")  # (the first one is still kept)
