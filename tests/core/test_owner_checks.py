"""W005 stays until ``cart_user`` is overridden (it decides the session's customer profile),
and W007 leaves alone an order that records its session in ``talon_session_id``.

Before, overriding ``cart_user_id`` alone silenced W005 while every logged-in cart went to
Talon.One anonymous; and the documented session-cart shop (docs/integrating.md, Carts that
are not models) was told its orders never close their session, though they do.
"""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from django_talon.adapters import TalonAdapter
from django_talon.checks import check_settings
from tests.core.test_checks import GOOD, SHARED_CACHE

CRATES = {"CART_MODELS": ["basketshop.Crate"], "CART_ITEM_MODELS": ["basketshop.CrateLine"]}


def found(**talon: Any) -> list[Any]:
    with override_settings(TALON={**GOOD, **talon}, CACHES=SHARED_CACHE):
        return list(check_settings())


def ids(**talon: Any) -> list[str]:
    return [m.id for m in found(**talon)]


class OwnerIdOnly(TalonAdapter):
    def cart_user_id(self, cart: Any) -> Any:
        return cart.shopper_id


class OwnerOnly(TalonAdapter):
    def cart_user(self, cart: Any) -> Any:
        return cart.shopper


class Owner(OwnerOnly):
    def cart_user_id(self, cart: Any) -> Any:
        return cart.shopper_id


def test_w005_stays_while_cart_user_is_the_default() -> None:
    assert ids(**CRATES) == ["django_talon.W005"]
    messages = found(**CRATES, ADAPTER=f"{__name__}.OwnerIdOnly")
    assert [m.id for m in messages] == ["django_talon.W005"]
    assert "overrides cart_user_id() only" in messages[0].msg
    assert "Override both cart_user() and cart_user_id()" in messages[0].hint
    # cart_user decides the profile; the default cart_user_id then asks it.
    assert ids(**CRATES, ADAPTER=f"{__name__}.OwnerOnly") == []
    assert ids(**CRATES, ADAPTER=f"{__name__}.Owner") == []


def test_w007_not_for_an_order_that_records_its_session_id() -> None:
    assert ids(ORDER_MODELS=["basketshop.SessionOrder"]) == []
    # Without talon_session_id and without a link to a cart, the warning stays.
    assert ids(ORDER_MODELS=["basketshop.Crate"]) == ["django_talon.W007"]
