"""Reads about one customer against the emulator: inventory, referral codes, forced profile sync.

``services.customer_inventory`` is a live read: every failure must arrive as the app's own
``TalonUnavailable`` (or its subclass ``TalonRequestFailed``) so a page can fall back instead
of answering a 500. ``sync_profile(force=True)`` must reach Talon.One even when the same
payload was delivered before (a Talon.One that forgot it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from django_talon import resilience, services
from django_talon.exceptions import TalonRequestFailed, TalonUnavailable
from django_talon.promotions import known_loyalty_balances
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def inventory_calls(emulator: Any) -> list[dict[str, Any]]:
    return [
        r for r in emulator.control.requests("/v1/customer_profiles/") if "inventory" in r["path"]
    ]


def test_inventory_has_coupons_referrals_and_loyalty_balance(
    shop: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ada", password="pw")
    services.reserve_coupon("VIP20", [user])
    referral = services.create_referral(user, 5)
    cart = make_cart(user, [ESPRESSO, GRINDER])  # subtotal 106.00 -> 106 points when paid
    Order.objects.create(cart=cart, user=user, status="paid")
    shop.control.clear_requests()

    inventory = services.customer_inventory(user)

    assert isinstance(inventory, services.CustomerInventory)
    assert inventory.found and inventory.integration_id == f"user-{user.pk}"
    assert "VIP20" in [c["value"] for c in inventory.coupons]
    assert referral.code in [r["code"] for r in inventory.referrals]
    (balance,) = inventory.loyalty_balances
    assert (balance.program_id, balance.current) == (1, Decimal(106))
    assert len(inventory_calls(shop)) == 1
    # remembered for {% talon_loyalty %}, which never calls the API
    assert known_loyalty_balances(inventory.integration_id) == inventory.loyalty_balances


def test_inventory_asks_only_for_the_requested_parts(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("ada", password="pw")
    shop.control.clear_requests()
    inventory = services.customer_inventory(user, coupons=False, referrals=False, timeout=1.0)
    (call,) = inventory_calls(shop)
    assert set(call["query"]) == {"loyalty"}
    assert inventory.coupons == [] and inventory.referrals == []


def test_inventory_of_unknown_customers_is_empty_without_error(
    shop: Any, django_user_model: Any
) -> None:
    assert services.customer_inventory(AnonymousUser()).found is False
    with_profile = django_user_model.objects.create_user("ada", password="pw")
    shop.control.reset()  # Talon.One forgot the profile: 404 -> an empty inventory
    inventory = services.customer_inventory(with_profile)
    assert inventory.found is False and inventory.loyalty_balances == []
    assert len(inventory_calls(shop)) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "drop"}, TalonUnavailable),
        ({"kind": "error", "status": 503}, TalonUnavailable),
        ({"kind": "error", "status": 401}, TalonRequestFailed),
    ],
)
def test_inventory_errors_become_the_apps_exceptions(
    shop: Any, django_user_model: Any, fault: dict[str, Any], error: type[Exception]
) -> None:
    user = django_user_model.objects.create_user("ada", password="pw")
    shop.control.add_fault(path="/v1/customer_profiles/*", **fault)
    with pytest.raises(error) as raised:
        services.customer_inventory(user, timeout=1.0)
    assert shop.api_key not in str(raised.value)
    if error is TalonRequestFailed:
        assert raised.value.status == 401  # type: ignore[attr-defined]
    else:
        assert not isinstance(raised.value, TalonRequestFailed)


def test_inventory_is_not_called_while_switched_off(shop: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("ada", password="pw")
    shop.control.clear_requests()
    resilience.set_kill_switch(True)
    try:
        with pytest.raises(TalonUnavailable):
            services.customer_inventory(user)
    finally:
        resilience.set_kill_switch(False)
    assert inventory_calls(shop) == []


def test_referrals_for_user_lists_only_their_own_codes(
    shop: Any, django_user_model: Any, django_assert_num_queries: Any
) -> None:
    ada = django_user_model.objects.create_user("ada", password="pw")
    bob = django_user_model.objects.create_user("bob", password="pw")
    first = services.create_referral(ada, 5)
    second = services.create_referral(ada, 5)
    services.create_referral(bob, 5)
    shop.control.clear_requests()
    with django_assert_num_queries(1):
        codes = [r.code for r in services.referrals_for_user(ada)]
    assert codes == [second.code, first.code]  # newest first
    assert services.referrals_for_user(AnonymousUser()) == []
    assert shop.control.requests() == []  # a mirror read


def test_create_referral_raises_the_apps_exception_for_a_400(
    shop: Any, django_user_model: Any
) -> None:
    """Talon.One's real 400 (not a referral campaign) is a TalonRequestFailedError with its
    status, never the client's own error; nothing is stored."""
    from django_talon.client.errors import TalonError

    user = django_user_model.objects.create_user("ada", password="pw")
    with pytest.raises(TalonRequestFailed) as raised:
        services.create_referral(user, 999)
    error = raised.value
    assert not isinstance(error, TalonError)
    assert (error.status, error.permanent) == (400, True)
    assert "not a referral campaign" in error.api_message
    assert isinstance(error.__cause__, TalonError)
    assert shop.api_key not in str(error)
    assert not services.referrals_for_user(user)
    assert resilience.breaker.state() == "closed"  # a refusal is not an outage


def test_create_referral_outage_and_kill_switch_are_unavailable(
    shop: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ada", password="pw")
    shop.control.add_fault(path="/v1/referrals", kind="drop")
    with pytest.raises(TalonUnavailable) as raised:
        services.create_referral(user, 5)
    assert not isinstance(raised.value, TalonRequestFailed)
    shop.control.clear_faults()
    shop.control.clear_requests()
    resilience.set_kill_switch(True)
    try:
        with pytest.raises(TalonUnavailable, match="switched off"):
            services.create_referral(user, 5)
    finally:
        resilience.set_kill_switch(False)
    assert shop.control.requests("/v1/referrals") == []  # refused before anything was sent
    assert services.create_referral(user, 5).code


def test_forced_profile_sync_reaches_a_talon_that_forgot_it(
    shop: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ada", password="pw")
    integration_id = f"user-{user.pk}"
    assert integration_id in shop.control.state()["profiles"]
    shop.control.reset()  # Talon.One lost the profile; the mirror says it was delivered

    services.sync_profile(user)  # unchanged: nothing to send
    assert integration_id not in shop.control.state()["profiles"]

    services.sync_profile(user, force=True)
    assert integration_id in shop.control.state()["profiles"]
    profile = services.profile_for_user(user)
    profile.refresh_from_db()
    assert profile.pushed_fingerprint == profile.fingerprint  # in step again
    writes = [r for r in shop.control.requests("/v2/customer_profiles/") if r["method"] == "PUT"]
    assert len(writes) == 1
