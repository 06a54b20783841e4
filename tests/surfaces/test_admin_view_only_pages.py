"""Who is offered which admin action, the view-only sync problem page, odd stored carts.

* Actions declare their permissions (``@admin.action(permissions=...)``): a view-only
  support user is offered none (it used to see every action, then got a bare 403), and a
  user with one permission is offered that action.
* The sync problem's change page offered "Save" with every field read-only: saving moved
  ``last_seen_at`` (``auto_now``, it read as a recurrence) and full-saved the row (a
  concurrent count bump could be lost). It is view-only; "mark as resolved" still works.
* A stored cart item with quantity "1.5", an item that is not an object, or a cart that is
  not a list made the sessions list a 500.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    Discrepancy,
    LedgerEntry,
    OutboxMessage,
    SyncProblem,
)
from tests.surfaces.helpers import make_session

pytestmark = pytest.mark.django_db

ADMIN = "/admin/django_talon/"
VIEW = [
    "view_customerprofile",
    "view_couponreservation",
    "view_outboxmessage",
    "view_discrepancy",
    "view_syncproblem",
]


def staff(django_user_model: Any, name: str, *codenames: str) -> Client:
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_talon", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


def offered(client: Client, model: str) -> list[str]:
    listing = client.get(f"{ADMIN}{model}/")
    assert listing.status_code == 200
    form = listing.context["action_form"]
    return [] if form is None else [name for name, _ in form.fields["action"].choices if name]


@pytest.fixture
def rows() -> dict[str, Any]:
    profile = CustomerProfile.objects.create(integration_id="cust-1")
    reservation = CouponReservation.objects.create(profile=profile, coupon_code="VIP20")
    dead = OutboxMessage.objects.create(
        operation="session.update", key="session:gone", state=OutboxMessage.State.DEAD,
        payload={"session_id": "gone", "customerSession": {}}, last_error="gave up", attempts=8,
    )  # fmt: skip
    charged = LedgerEntry.objects.create(session_id="s-1", kind="charged", discount_total=1)
    booked = LedgerEntry.objects.create(session_id="s-1", kind="booked")
    discrepancy = Discrepancy.objects.create(
        session_id="s-1", charged_entry=charged, entry=booked, reason="unknown"
    )
    problem = SyncProblem.objects.create(stage="cart", subject="shopapp.cart:1", error="x")
    return {
        "customerprofile": profile,
        "couponreservation": reservation,
        "outboxmessage": dead,
        "discrepancy": discrepancy,
        "syncproblem": problem,
    }


def test_view_only_staff_are_offered_no_action(
    rows: dict[str, Any], django_user_model: Any
) -> None:
    viewer = staff(django_user_model, "support", *VIEW)
    for model in rows:
        assert offered(viewer, model) == [], model


@pytest.mark.parametrize(
    ("codename", "model", "actions"),
    [
        ("change_customerprofile", "customerprofile", ["resync"]),
        ("add_couponreservation", "customerprofile", ["reserve_coupon"]),
        ("add_datadeletionrequest", "customerprofile", ["request_erasure"]),
        ("delete_couponreservation", "couponreservation", ["release_selected"]),
        ("add_couponreservation", "couponreservation", ["reserve_for_same_customers"]),
        ("change_outboxmessage", "outboxmessage", ["retry_dead_letters"]),
        ("change_discrepancy", "discrepancy", ["recheck"]),
        ("change_syncproblem", "syncproblem", ["mark_resolved"]),
        ("delete_syncproblem", "syncproblem", ["delete_selected"]),
    ],
)
def test_each_permission_offers_its_action(
    rows: dict[str, Any], django_user_model: Any, codename: str, model: str, actions: list[str]
) -> None:
    operator = staff(django_user_model, "operator", *VIEW, codename)
    assert offered(operator, model) == actions


def test_a_superuser_is_offered_every_action(rows: dict[str, Any], admin_client: Client) -> None:
    assert offered(admin_client, "customerprofile") == [
        "reserve_coupon",
        "resync",
        "request_erasure",
    ]
    assert offered(admin_client, "couponreservation") == [
        "release_selected",
        "reserve_for_same_customers",
    ]
    assert offered(admin_client, "syncproblem") == ["delete_selected", "mark_resolved"]


# --------------------------------------------------------------------------- sync problems


def test_the_sync_problem_page_is_view_only(rows: dict[str, Any], admin_client: Client) -> None:
    problem = rows["syncproblem"]
    old = timezone.now() - timedelta(days=3)
    SyncProblem.objects.filter(pk=problem.pk).update(last_seen_at=old, count=5)
    url = f"{ADMIN}syncproblem/{problem.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin_client.post(url, {"_save": "Save"}).status_code == 403
    problem.refresh_from_db()
    assert (problem.last_seen_at, problem.count) == (old, 5)  # not a recurrence, count kept


def test_mark_resolved_still_works_and_keeps_last_seen(
    rows: dict[str, Any], django_user_model: Any
) -> None:
    problem = rows["syncproblem"]
    old = timezone.now() - timedelta(days=3)
    SyncProblem.objects.filter(pk=problem.pk).update(last_seen_at=old)
    operator = staff(django_user_model, "operator", "view_syncproblem", "change_syncproblem")
    data = {"action": "mark_resolved", ACTION_CHECKBOX_NAME: [str(problem.pk)]}
    answer = operator.post(f"{ADMIN}syncproblem/", data, follow=True)
    assert "1 problem resolved." in answer.content.decode()
    problem.refresh_from_db()
    assert problem.resolved and problem.resolved_at is not None and problem.last_seen_at == old


def test_a_view_only_user_cannot_resolve(rows: dict[str, Any], django_user_model: Any) -> None:
    problem = rows["syncproblem"]
    viewer = staff(django_user_model, "support", "view_syncproblem")
    data = {"action": "mark_resolved", ACTION_CHECKBOX_NAME: [str(problem.pk)]}
    assert viewer.post(f"{ADMIN}syncproblem/", data).status_code in (200, 302)
    problem.refresh_from_db()
    assert not problem.resolved


# --------------------------------------------------------------------------- odd carts


@pytest.mark.parametrize(
    ("cart", "count"),
    [
        ([{"sku": "A", "quantity": "1.5"}, {"sku": "B", "quantity": 2}], "3.5"),
        ([{"sku": "A", "quantity": "lots"}, "not an item", 7, None], "0"),
        ([{"sku": "A", "quantity": None}, {"sku": "B"}, {"sku": "C", "quantity": True}], "0"),
        ([{"sku": "A", "quantity": [1]}, {"sku": "B", "quantity": {"n": 1}}], "0"),
        ([{"sku": "A", "quantity": "NaN"}, {"sku": "B", "quantity": "1e999999999"}], "0"),
        ({"sku": "A", "quantity": 1}, "?"),
        ("ESPRESSO x2", "?"),
    ],
)
def test_odd_stored_carts_render(admin_client: Client, cart: Any, count: str) -> None:
    session = make_session("odd-1", cart=[])
    CustomerSession.objects.filter(pk=session.pk).update(cart_items=cart)
    listing = admin_client.get(f"{ADMIN}customersession/")
    assert listing.status_code == 200
    assert f'<td class="field-item_count">{count}</td>'.encode() in listing.content
    assert admin_client.get(f"{ADMIN}customersession/{session.pk}/change/").status_code == 200
