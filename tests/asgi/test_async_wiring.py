"""What docs/async.md says an async shop must do, pinned.

* django-talon's ``user_logged_in`` receiver is sync and kept last among the *sync*
  receivers; an async receiver runs after every sync one (``Signal.send``: ``login()``) or
  alongside them (``Signal.asend``: ``alogin()``), so it cannot run before django-talon's:
  a guest-cart merge belongs in a sync receiver.
* Fail-closed order placement needs ``transaction.atomic()``, which has no async form:
  ``await Order.objects.acreate(...)`` is refused, a sync function run with
  ``sync_to_async`` places the order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import django
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.test import AsyncClient, Client

from django_talon.services import (
    FailClosedOutsideTransactionError,
    remembered_session,
    session_for_cart,
)
from tests.core.shop import ESPRESSO, SHOP_WIRING, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

#: (receiver, did the guest's session already belong to the customer?)
SEEN: list[tuple[str, bool]] = []


def _attached(request: Any) -> bool:
    session = remembered_session(request)
    return session is not None and session.profile_id is not None


def shop_sync_receiver(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    SEEN.append(("sync", _attached(request)))


async def shop_async_receiver(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    await asyncio.sleep(0.2)  # e.g. awaits the shop's own cart store
    SEEN.append(("async", await sync_to_async(_attached)(request)))


@pytest.fixture
def shop_receivers(session_shop: Any, django_user_model: Any) -> Iterator[None]:
    django_user_model.objects.create_user("ann", password="pw")
    SEEN.clear()
    receivers = [shop_sync_receiver]
    if django.VERSION >= (5, 0):  # async receivers: Django 5.0
        receivers.append(shop_async_receiver)  # type: ignore[arg-type]
    for receiver in receivers:
        user_logged_in.connect(receiver, dispatch_uid=receiver.__name__)
    yield
    for receiver in receivers:
        user_logged_in.disconnect(dispatch_uid=receiver.__name__)


def test_sync_login_runs_a_sync_receiver_before_django_talons_and_async_ones_after(
    shop_receivers: None,
) -> None:
    client = Client()
    client.post("/cart/add/", {"sku": ESPRESSO[0]})
    client.post("/login/", {"u": "ann", "p": "pw"})
    expected = [("sync", False)]  # the guest's session, as the shop's merge needs it
    if django.VERSION >= (5, 0):
        expected.append(("async", True))  # django-talon attached it already
    assert SEEN == expected


def test_alogin_runs_async_receivers_alongside_the_sync_ones(shop_receivers: None) -> None:
    if django.VERSION < (5, 0):
        assert not hasattr(user_logged_in, "asend")  # no alogin(), no async receivers
        return

    async def scenario() -> None:
        client = AsyncClient()
        await client.post("/a/cart/add/", {"sku": ESPRESSO[0]})
        await client.post("/a/login/", {"u": "ann", "p": "pw"})

    async_to_sync(scenario)()
    assert sorted(SEEN) == [("async", True), ("sync", False)]


def test_fail_closed_placement_needs_a_sync_function_for_its_transaction(
    settings: Any, talon_settings: dict[str, Any]
) -> None:
    settings.TALON = {**settings.TALON, **SHOP_WIRING, "ORDER_PLACEMENT": "fail_closed"}
    cart = make_cart(items=[ESPRESSO])

    async def naive() -> None:
        await Order.objects.acreate(cart=cart, status="paid")  # no transaction around it

    with pytest.raises(FailClosedOutsideTransactionError):
        async_to_sync(naive)()
    session = session_for_cart(cart, create=False)
    assert session is not None and session.state == "open"  # refused before any change

    @sync_to_async
    def place() -> None:
        with transaction.atomic():
            Order.objects.create(cart=cart, status="paid")

    async_to_sync(place)()
    session = session_for_cart(cart, create=False, open_only=False)
    assert session is not None and session.state == "closed"
