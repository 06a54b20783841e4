"""The admin's resync and release say what Talon.One answered, not just "Sent"/"Released".

The outbox never raises for a failed delivery (the row stays pending for a retry, or becomes
a dead letter when Talon.One refused it), so both actions used to report success while
Talon.One refused (400) or was down. Now each outcome has its message: sent, queued (will
retry, with the reason) or refused (with Talon.One's answer and a link to the dead
letters); a refused release keeps its local row, because Talon.One still holds it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import constants
from django.test import Client

from django_talon import resilience, services
from django_talon.models import CouponReservation, CustomerProfile, OutboxMessage
from django_talon.services.outcomes import QUEUED, REFUSED, SENT

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "/admin/django_talon/"


@pytest.fixture
def staff(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def customer(shop: Any, django_user_model: Any) -> CustomerProfile:
    profile = services.profile_for_user(django_user_model.objects.create_user("ann", password="pw"))
    services.sync_profile(profile.user)
    return profile


def shown(response: Any) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in response.context["messages"]]


def act(client: Client, model: str, action: str, pks: list[int]) -> list[tuple[int, str]]:
    data = {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks]}
    response = client.post(f"{ADMIN}{model}/", data, follow=True)
    assert response.status_code == 200
    return shown(response)


# --------------------------------------------------------------------------- resync


def test_resync_sent(shop: Any, staff: Client, customer: CustomerProfile) -> None:
    assert act(staff, "customerprofile", "resync", [customer.pk]) == [
        (constants.SUCCESS, "Sent 1 profile to Talon.One.")
    ]


def test_resync_refused_says_so_and_links_the_dead_letter(
    shop: Any, staff: Client, customer: CustomerProfile
) -> None:
    shop.control.add_fault(kind="error", status=400, path="/v2/customer_profiles/*")
    ((level, text),) = act(staff, "customerprofile", "resync", [customer.pk])
    assert level == constants.ERROR
    assert text.startswith(f"Talon.One refused 1 profile ({customer.integration_id}: ")
    assert "400" in text and "Sent" not in text
    assert "state__exact=dead" in text and "q=profile%3A" in text  # the dead letters' link
    assert OutboxMessage.objects.filter(key__startswith="profile:", state="dead").exists()


def test_resync_queued_when_talon_one_is_down(
    shop: Any, staff: Client, customer: CustomerProfile
) -> None:
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_profiles/*")
    ((level, text),) = act(staff, "customerprofile", "resync", [customer.pk])
    assert level == constants.WARNING
    assert text.startswith("1 profile is queued, not sent:") and "will retry" in text
    assert "503" in text


def test_resync_while_switched_off_says_why(
    shop: Any, staff: Client, customer: CustomerProfile
) -> None:
    resilience.set_kill_switch(True)
    ((level, text),) = act(staff, "customerprofile", "resync", [customer.pk])
    assert level == constants.WARNING and "kill switch" in text


def test_resync_401_names_the_credentials_never_the_key(
    shop: Any, staff: Client, customer: CustomerProfile
) -> None:
    shop.control.add_fault(kind="error", status=401, path="/v2/customer_profiles/*")
    ((level, text),) = act(staff, "customerprofile", "resync", [customer.pk])
    assert level == constants.WARNING
    assert "credentials" in text and "API key" in text
    assert shop.api_key not in text


def test_resync_profile_returns_the_outcome(shop: Any, customer: CustomerProfile) -> None:
    assert services.resync_profile(customer).outcome == SENT
    shop.control.add_fault(kind="error", status=400, path="/v2/customer_profiles/*")
    refused = services.resync_profile(customer)
    assert refused.outcome == REFUSED and "400" in refused.reason
    shop.control.clear_faults()
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_profiles/*")
    assert services.resync_profile(customer).outcome == QUEUED


# --------------------------------------------------------------------------- release


def _reserved(shop: Any, profile: CustomerProfile, code: str = "VIP20") -> CouponReservation:
    (row,) = services.reserve_coupon_checked(code, [profile])
    assert [p.integration_id for p in shop.client().get_reserved_customers(code).data] == [
        profile.integration_id
    ]
    return row


def test_release_sent(shop: Any, staff: Client, customer: CustomerProfile) -> None:
    row = _reserved(shop, customer)
    assert act(staff, "couponreservation", "release_selected", [row.pk]) == [
        (constants.SUCCESS, "Released 1 reservation in Talon.One.")
    ]
    assert not CouponReservation.objects.exists()
    assert shop.client().get_reserved_customers("VIP20").data == []


def test_a_refused_release_keeps_the_row_talon_one_still_holds(
    shop: Any, staff: Client, customer: CustomerProfile
) -> None:
    row = _reserved(shop, customer)
    shop.control.add_fault(kind="error", status=400, path="/v1/coupon_reservations/*")
    ((level, text),) = act(staff, "couponreservation", "release_selected", [row.pk])
    assert level == constants.ERROR
    assert text.startswith("Talon.One refused to release 1 reservation (VIP20: ")
    assert "still holds it" in text and "q=coupon%3AVIP20" in text
    assert "Released" not in text
    shop.control.clear_faults()
    # The mirror tells the truth: Talon.One holds the reservation, the row is still listed.
    assert [p.integration_id for p in shop.client().get_reserved_customers("VIP20").data] == [
        customer.integration_id
    ]
    kept = CouponReservation.objects.get()
    assert kept.pk == row.pk and kept.synced_at is not None
    listing = staff.get(ADMIN + "couponreservation/")
    assert b"VIP20" in listing.content
    dead = OutboxMessage.objects.get(key="coupon:VIP20", operation="coupon.release")
    assert dead.state == "dead"


def test_a_queued_release_says_it_is_not_confirmed(
    shop: Any, staff: Client, customer: CustomerProfile
) -> None:
    row = _reserved(shop, customer)
    shop.control.add_fault(kind="error", status=503, path="/v1/coupon_reservations/*")
    ((level, text),) = act(staff, "couponreservation", "release_selected", [row.pk])
    assert level == constants.WARNING
    assert "queued for Talon.One" in text and "will retry" in text and "503" in text
    # As release_coupon always did: the row goes now, the outbox delivers the DELETE later.
    assert not CouponReservation.objects.exists()
    shop.control.clear_faults()
    services.deliver_pending_now(close_circuit=True)
    assert shop.client().get_reserved_customers("VIP20").data == []


def test_release_coupon_now_refused_only_for_the_refused_batch(
    shop: Any, customer: CustomerProfile, django_user_model: Any
) -> None:
    """Two codes, one refused: each code's rows follow its own DELETE's outcome."""
    from django_talon.services.profiles import release_coupon_now

    _reserved(shop, customer, "VIP20")
    services.reserve_coupon_checked("WELCOME10", [customer])
    shop.control.add_fault(kind="error", status=400, path="/v1/coupon_reservations/WELCOME10")
    refused = release_coupon_now("welcome10", [customer])
    assert (refused.code, refused.released, refused.kept) == ("WELCOME10", 0, 1)
    assert refused.delivery.outcome == REFUSED
    sent = release_coupon_now("vip20", [customer])
    assert (sent.code, sent.released, sent.kept, sent.delivery.outcome) == ("VIP20", 1, 0, SENT)
    assert list(CouponReservation.objects.values_list("coupon_code", flat=True)) == ["WELCOME10"]
