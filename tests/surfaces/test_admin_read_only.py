"""The admin pages docs/admin.md calls read-only cannot delete rows, superusers included.

A pending outbox row deleted by hand is a write to Talon.One that is never delivered and
leaves no trace; a session row is the mirror the cart's promotions are read from. Through
the admin's HTTP views: no "Delete selected" action on the list, the bulk action posted
anyway deletes nothing, and the delete view answers 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from django_talon import outbox, resilience, services
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    Discrepancy,
    LedgerEntry,
    OutboxMessage,
    SyncProblem,
)
from tests.surfaces.conftest import ESPRESSO, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "/admin/django_talon/"
READ_ONLY = [
    OutboxMessage,
    CustomerSession,
    CouponReservation,
    CustomerProfile,
    DataDeletionRequest,
    LedgerEntry,
    Discrepancy,
]


@pytest.fixture
def rows(shop: Any, django_user_model: Any) -> dict[type[Any], Any]:
    """One row of every model, and a pending outbox row (Talon.One switched off)."""
    user = django_user_model.objects.create_user("shopper", "shopper@example.com", "pw")
    resilience.set_kill_switch(True)
    cart = make_cart(user=user, items=[ESPRESSO])
    resilience.set_kill_switch(False)
    session = services.session_for_cart(cart, create=False)
    services.reserve_coupon("VIP20", [user])
    gone = django_user_model.objects.create_user("gone", "gone@example.com", "pw")
    services.erase_customer(gone, requested_by="test")
    charged = LedgerEntry.objects.create(session_id="s-1", kind="charged", discount_total=1)
    booked = LedgerEntry.objects.create(session_id="s-1", kind="booked")
    Discrepancy.objects.create(
        session_id="s-1", charged_entry=charged, entry=booked, reason="unknown",
        charged_discount=Decimal("1"),
    )  # fmt: skip
    SyncProblem.objects.create(stage="cart", subject="shopapp.cart:1", error="ValueError: x")
    pending = OutboxMessage.objects.filter(state="pending").first()
    assert pending is not None and session is not None
    found = {model: model.objects.first() for model in READ_ONLY}
    found[OutboxMessage] = pending
    found[SyncProblem] = SyncProblem.objects.get()
    return found


@pytest.fixture
def superuser(django_user_model: Any) -> Client:
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(admin_user)
    return client


def url(model: type[Any]) -> str:
    return f"{ADMIN}{model._meta.model_name}/"


def actions_offered(client: Client, model: type[Any]) -> list[str]:
    """The bulk actions the list page offers (none: no action form at all)."""
    listing = client.get(url(model))
    assert listing.status_code == 200
    form = listing.context["action_form"]
    return [] if form is None else [name for name, _ in form.fields["action"].choices]


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_read_only_pages_cannot_delete(
    model: type[Any], rows: dict[type[Any], Any], superuser: Client
) -> None:
    row = rows[model]
    assert "delete_selected" not in actions_offered(superuser, model)

    superuser.post(
        url(model),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(row.pk)], "post": "yes"},
    )
    assert model.objects.filter(pk=row.pk).exists()

    assert superuser.get(f"{url(model)}{row.pk}/delete/").status_code == 403
    assert superuser.post(f"{url(model)}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_a_pending_write_survives_and_is_delivered(
    rows: dict[type[Any], Any], superuser: Client, shop: Any
) -> None:
    pending = rows[OutboxMessage]
    superuser.post(
        url(OutboxMessage),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(pending.pk)], "post": "yes"},
    )
    outbox.deliver_key(pending.key, force=True)
    pending.refresh_from_db()
    assert pending.state == "done"


def test_sync_problems_can_still_be_deleted(rows: dict[type[Any], Any], superuser: Client) -> None:
    """Not a mirror: staff resolve and delete them (docs/admin.md, "Sync problems")."""
    problem = rows[SyncProblem]
    assert "delete_selected" in actions_offered(superuser, SyncProblem)
    superuser.post(f"{url(SyncProblem)}{problem.pk}/delete/", {"post": "yes"})
    assert not SyncProblem.objects.filter(pk=problem.pk).exists()
