"""Admin actions that call Talon.One need their model permission, not just staff status.

A staff user who may only *view* the django-talon pages (e.g. support staff) must not
reserve or release coupons, resync profiles, request erasures or re-drive dead letters.
The actions declare their permissions, so such a user is not offered them, and an action
posted anyway is not run (Django shows the list again; the actions' own checks stay, for
a subclass that offers them).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client

from django_talon.models import CouponReservation, DataDeletionRequest, OutboxMessage
from django_talon.services import profile_for_user, reserve_coupon

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "/admin/django_talon/"
VIEW_ONLY = [
    "view_customerprofile",
    "view_couponreservation",
    "view_outboxmessage",
    "view_customersession",
    "view_datadeletionrequest",
]


@pytest.fixture
def viewer(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("support", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_talon", codename__in=VIEW_ONLY)
    )
    client = Client()
    client.force_login(user)
    return client


def test_view_only_staff_cannot_run_actions_that_call_talon(
    shop: Any, viewer: Client, django_user_model: Any
) -> None:
    customer = django_user_model.objects.create_user("cust", password="pw")
    profile = profile_for_user(customer)
    reserve_coupon("VIP20", [customer])
    reservation = CouponReservation.objects.get()
    dead = OutboxMessage.objects.create(
        operation="session.update", key="session:gone", state=OutboxMessage.State.DEAD,
        payload={"session_id": "gone", "customerSession": {}}, last_error="gave up", attempts=8,
    )  # fmt: skip
    assert viewer.get(ADMIN + "customerprofile/").status_code == 200  # may look
    shop.control.clear_requests()

    posts = [
        ("customerprofile/", "resync", profile.pk, {}),
        ("customerprofile/", "reserve_coupon", profile.pk, {"apply": "1", "code": "WELCOME10"}),
        ("customerprofile/", "request_erasure", profile.pk, {"confirm": "yes"}),
        ("couponreservation/", "release_selected", reservation.pk, {}),
        ("couponreservation/", "reserve_for_same_customers", reservation.pk, {"apply": "1"}),
        ("outboxmessage/", "retry_dead_letters", dead.pk, {}),
    ]
    for page, action, pk, extra in posts:
        listing = viewer.get(ADMIN + page)
        assert listing.context["action_form"] is None, page  # no action offered at all
        data = {"action": action, ACTION_CHECKBOX_NAME: [str(pk)], **extra}
        response = viewer.post(ADMIN + page, data)
        assert response.status_code == 200, (action, response.status_code)  # the list again

    assert shop.control.requests() == [], "no Talon.One call for a view-only user"
    assert not DataDeletionRequest.objects.exists()
    assert CouponReservation.objects.count() == 1
    dead.refresh_from_db()
    assert dead.state == OutboxMessage.State.DEAD
