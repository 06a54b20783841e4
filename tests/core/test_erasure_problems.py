"""An erasure deletes the customer's sync problems, against the emulator.

A :class:`~django_talon.models.SyncProblem` keeps its subject (``auth.user:<pk>``, the
customer's cart, cart line or order) and the error an adapter hook raised, which may quote
the customer's e-mail address. After the erasure none of them is left; other customers'
problems stay.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon import services
from django_talon.models import SyncProblem
from django_talon.services.problems import record_problem, subject_of
from tests.core.shop import ESPRESSO, make_cart
from tests.core.test_erasure_final import customer
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broken_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter bug the way one happens: the hooks raise, quoting the customer."""

    def profile_attributes(self: Any, user: Any) -> dict[str, Any]:
        raise ValueError(f"no birthday on file for {user.email}")

    def cart_attributes(self: Any, cart: Any) -> dict[str, Any]:
        if cart.user is not None and cart.user.username.startswith("gone"):
            raise ValueError(f"no loyalty tier for {cart.user.email}")
        return {}

    monkeypatch.setattr(ShopAdapter, "profile_attributes", profile_attributes)
    monkeypatch.setattr(ShopAdapter, "cart_attributes", cart_attributes, raising=False)


def test_the_customers_problems_are_deleted_and_others_kept(
    shop: Any, django_user_model: Any, broken_adapter: None
) -> None:
    user = customer(django_user_model, "gone")
    bystander = customer(django_user_model, "stays")
    cart = make_cart(user=user, items=[ESPRESSO])  # the cart receivers record the problem
    line = cart.items.get()
    order = Order.objects.create(cart=cart, user=user, status="new")
    services.record_order(order, services.quote_for_cart(cart))
    record_problem("cart", subject_of(line), ValueError("line of gone"))
    record_problem("order", subject_of(order), ValueError("order of gone"))
    record_problem("cart", "shopapp.cart:999999", ValueError(f"quotes {user.email}"))
    subjects = set(SyncProblem.objects.values_list("subject", flat=True))
    assert {subject_of(user), subject_of(cart), subject_of(line), subject_of(order)} <= subjects
    assert SyncProblem.objects.filter(error__contains=user.email).exists()
    kept = set(
        SyncProblem.objects.filter(subject=subject_of(bystander)).values_list("pk", flat=True)
    )
    assert kept  # the bystander's own profile problem

    services.erase_customer(user, requested_by="test")

    left = list(SyncProblem.objects.values_list("subject", "error"))
    assert set(SyncProblem.objects.values_list("pk", flat=True)) == kept, left
    assert not any(user.email in error for _subject, error in left)


def test_a_customer_without_profile_loses_their_problems(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    settings.TALON = {**settings.TALON, "SYNC_PROFILES_ON_SAVE": False}
    user = customer(django_user_model, "never")
    record_problem("login", subject_of(user), ValueError(f"cannot attach {user.email}"))

    services.erase_customer(user, requested_by="test")

    assert not SyncProblem.objects.exists()


@pytest.mark.parametrize("blank", [" ", "   ", "\t"])
def test_erasing_a_blank_integration_id_is_refused_before_anything_is_written(
    blank: str, shop_settings: Any
) -> None:
    """The service itself refuses it (the command did; the admin and the shop's own code call
    the service): a tombstone for "   " and a DELETE of /v1/customer_data/%20 helped no one."""
    from django_talon.models import DataDeletionRequest, OutboxMessage
    from django_talon.services import gdpr

    with pytest.raises(ValueError, match="blank integration_id"):
        gdpr.erase_customer(integration_id=blank)
    assert not DataDeletionRequest.objects.exists()
    assert not OutboxMessage.objects.exists()
