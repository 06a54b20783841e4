"""Admin: the reservation action through its form ends in the emulator; other admin pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    OutboxMessage,
)
from django_talon.services import apply_coupon, profile_for_user, session_for_cart
from tests.surfaces.conftest import ESPRESSO, GRINDER, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "/admin/django_talon/"


@pytest.fixture
def staff(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def _customers(django_user_model: Any, n: int) -> list[CustomerProfile]:
    return [
        profile_for_user(django_user_model.objects.create_user(f"c{i}", password="pw"))
        for i in range(n)
    ]


def test_reserve_action_through_its_form_reaches_the_emulator(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    profiles = _customers(django_user_model, 3)
    chosen = profiles[:2]
    selected = [str(p.pk) for p in chosen]
    url = ADMIN + "customerprofile/"

    page = staff.post(url, {"action": "reserve_coupon", ACTION_CHECKBOX_NAME: selected})
    assert page.status_code == 200
    assert b"Reserve a coupon code" in page.content and b'name="code"' in page.content

    bad = staff.post(
        url, {"action": "reserve_coupon", ACTION_CHECKBOX_NAME: selected, "apply": "1", "code": " "}
    )
    assert bad.status_code == 200 and b"errorlist" in bad.content
    assert not CouponReservation.objects.exists()

    done = staff.post(
        url,
        {"action": "reserve_coupon", ACTION_CHECKBOX_NAME: selected, "apply": "1", "code": "VIP20"},
        follow=True,
    )
    assert b"Reserved VIP20 for 2 customers." in done.content
    reserved = shop.client().get_reserved_customers("VIP20")
    assert sorted(p.integration_id for p in reserved.data) == sorted(
        p.integration_id for p in chosen
    )
    calls = [c for c in shop.requests("/v1/coupon_reservations/VIP20") if c["method"] == "POST"]
    assert len(calls) == 1  # one API call for the batch
    assert CouponReservation.objects.filter(synced_at__isnull=False).count() == 2

    # the reservation changelist: filters, search, then release through the action
    listing = staff.get(ADMIN + "couponreservation/", {"q": chosen[0].integration_id})
    assert listing.status_code == 200 and b"VIP20" in listing.content
    assert (
        staff.get(ADMIN + "couponreservation/", {"synced_at__isnull": "False"}).status_code == 200
    )
    row = CouponReservation.objects.get(profile=chosen[0])
    staff.post(
        ADMIN + "couponreservation/",
        {"action": "release_selected", ACTION_CHECKBOX_NAME: [str(row.pk)]},
    )
    remaining = shop.client().get_reserved_customers("VIP20")
    assert [p.integration_id for p in remaining.data] == [chosen[1].integration_id]
    assert CouponReservation.objects.count() == 1


def test_reserve_another_code_for_customers_of_existing_reservations(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    from django_talon.services import reserve_coupon

    profiles = _customers(django_user_model, 2)
    rows = reserve_coupon("WELCOME10", profiles)
    url = ADMIN + "couponreservation/"
    selected = [str(rows[1].pk)]
    page = staff.post(url, {"action": "reserve_for_same_customers", ACTION_CHECKBOX_NAME: selected})
    assert page.status_code == 200
    assert f'value="{rows[1].pk}"'.encode() in page.content  # re-posts this changelist's ids
    staff.post(
        url,
        {"action": "reserve_for_same_customers", ACTION_CHECKBOX_NAME: selected, "apply": "1",
         "code": "VIP20"},
    )  # fmt: skip
    reserved = shop.client().get_reserved_customers("VIP20")
    assert [p.integration_id for p in reserved.data] == [profiles[1].integration_id]


def test_reserve_batches_of_at_most_1000_per_call(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    profiles = CustomerProfile.objects.bulk_create(
        CustomerProfile(integration_id=f"bulk-{i}") for i in range(1001)
    )
    assert len(profiles) == 1001
    url = ADMIN + "customerprofile/?q=bulk-"  # "select all 1001" on a filtered changelist
    first = {ACTION_CHECKBOX_NAME: [str(profiles[0].pk)]}  # the ticked row on the page
    page = staff.post(
        url, {"action": "reserve_coupon", "select_across": "1", "index": "0", **first}
    )
    assert page.status_code == 200 and b'name="select_across" value="1"' in page.content
    staff.post(
        url,
        {"action": "reserve_coupon", "select_across": "1", "apply": "1", "code": "VIP20", **first},
    )
    calls = [c for c in shop.requests("/v1/coupon_reservations/VIP20") if c["method"] == "POST"]
    assert sorted(len(c["body"]["integrationIDs"]) for c in calls) == [1, 1000]
    assert shop.client().get_reserved_customers("VIP20").total_result_size == 1001


def test_profile_resync_and_erasure_with_confirmation(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    (profile,) = _customers(django_user_model, 1)
    url = ADMIN + "customerprofile/"
    shop.clear_requests()
    staff.post(url, {"action": "resync", ACTION_CHECKBOX_NAME: [str(profile.pk)]})
    assert [c["path"] for c in shop.requests("/v2/customer_profiles/")] == [
        f"/v2/customer_profiles/{profile.integration_id}"
    ]

    confirm = staff.post(
        url, {"action": "request_erasure", ACTION_CHECKBOX_NAME: [str(profile.pk)]}
    )
    assert confirm.status_code == 200 and b"cannot be undone" in confirm.content
    assert not DataDeletionRequest.objects.exists()
    staff.post(
        url,
        {"action": "request_erasure", ACTION_CHECKBOX_NAME: [str(profile.pk)], "confirm": "yes"},
    )
    audit = DataDeletionRequest.objects.get()
    assert audit.integration_id == profile.integration_id
    assert audit.requested_by.startswith("staff:")
    assert [c["method"] for c in shop.requests("/v1/customer_data/")] == ["DELETE"]

    page = staff.get(ADMIN + f"datadeletionrequest/{audit.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # read-only audit
    assert staff.get(ADMIN + "datadeletionrequest/add/").status_code == 403


def test_session_outbox_pages_and_no_api_key_anywhere(
    shop: Any, staff: Client, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ann", password="pw")
    cart = make_cart(user, [ESPRESSO, GRINDER])
    session = apply_coupon(session_for_cart(cart), "WELCOME10")
    # A server (or a proxy in front of it) that echoes the request's key into its error
    # message: the real failure path stores the error (outbox row, session, profile) and
    # the admin shows it, but never the key (two layers redact it: the client's transport
    # and resilience.describe()).
    echo = f"upstream refused Authorization: ApiKey-v1 {shop.api_key}"
    shop.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*", message=echo)
    shop.control.add_fault(kind="error", status=400, path="/v2/customer_profiles/*", message=echo)
    apply_coupon(session, "VIP20")
    user.first_name, user.last_name = "Ann", "Lee"
    user.save()
    shop.control.clear_faults()
    stored = [
        *OutboxMessage.objects.values_list("last_error", flat=True),
        *CustomerSession.objects.values_list("last_error", flat=True),
        *CustomerProfile.objects.values_list("last_error", flat=True),
    ]
    assert sum("upstream refused" in e for e in stored) >= 4, stored  # the failures happened
    assert not [e for e in stored if shop.api_key in e]
    failed = OutboxMessage.objects.filter(last_error__contains="upstream refused")
    failed_write = failed.get(key=f"session:{session.integration_id}", state="pending")
    failed_profile = failed.get(key__startswith="profile:", state="dead")

    dead = OutboxMessage.objects.create(
        operation="session.update", key="session:nope", state=OutboxMessage.State.DEAD,
        payload={"session_id": "nope", "customerSession": {}}, last_error="gave up", attempts=8,
    )  # fmt: skip
    pages = [
        ADMIN + "customersession/",
        ADMIN + f"customersession/{session.pk}/change/",
        ADMIN + "outboxmessage/?state__exact=dead",
        ADMIN + f"outboxmessage/{dead.pk}/change/",
        ADMIN + "customerprofile/",
        ADMIN + f"customerprofile/{session.profile_id}/change/",
        ADMIN + "couponreservation/",
        ADMIN + "datadeletionrequest/",
        "/admin/",
    ]
    showing_the_error = [
        ADMIN + f"customersession/{session.pk}/change/",
        ADMIN + "outboxmessage/",
        ADMIN + f"outboxmessage/{failed_write.pk}/change/",
        ADMIN + f"outboxmessage/{failed_profile.pk}/change/",
        ADMIN + f"customerprofile/{session.profile_id}/change/",
    ]
    for page in pages + showing_the_error:
        response = staff.get(page)
        assert response.status_code == 200, page
        assert shop.api_key.encode() not in response.content, page
        if page in showing_the_error:
            assert b"upstream refused" in response.content, page  # the data is shown

    detail = staff.get(ADMIN + f"customersession/{session.pk}/change/").content.decode()
    assert "WELCOME10" in detail and "setDiscount" in detail  # raw effects readable
    assert "93.40" in detail  # promotions summary
    assert "503" in detail  # the session's last error
    assert "ESPRESSO-250" in detail  # cart

    listing = staff.get(ADMIN + "outboxmessage/?state__exact=dead").content.decode()
    assert "session:nope" in listing
    staff.post(
        ADMIN + "outboxmessage/",
        {"action": "retry_dead_letters", ACTION_CHECKBOX_NAME: [str(dead.pk)]},
    )
    dead.refresh_from_db()
    assert dead.attempts < 8  # queued again with a fresh attempt budget
