"""The default ``cart_items`` finds a cart's lines through the foreign key from a
``CART_ITEM_MODELS`` model, whatever its name (tests/basketshop: ``CrateLine.crate``,
``related_name="lines"``); the check W011 warns when it cannot (docs/adapters.md, Hooks).

Before, the default read only ``cart.items``: such a shop sent every cart to Talon.One
empty, with no SyncProblem, no outbox row and a clean ``manage.py check``.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import override_settings

from django_talon import services
from django_talon.adapters import AdapterValueError, TalonAdapter, get_adapter
from django_talon.cart_links import cart_line_links
from django_talon.checks import check_settings
from django_talon.models import SyncProblem
from tests.basketshop.models import Crate, CrateLine
from tests.core.test_checks import GOOD, SHARED_CACHE

CRATE_WIRING: dict[str, Any] = {
    "DELIVERY": "sync",
    "SYNC_RELAY_INTERVAL": 0,
    "ADAPTER": "django_talon.adapters.TalonAdapter",
    "CART_MODELS": ["basketshop.Crate"],
    "CART_ITEM_MODELS": ["basketshop.CrateLine"],
}


@pytest.fixture
def crate_shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:
    """tests/basketshop's Crate wired with the default adapter, delivering to the emulator."""
    settings.TALON = {**settings.TALON, **CRATE_WIRING}
    return talon_emulator


@pytest.mark.django_db(transaction=True)
def test_lines_under_another_name_reach_talon_one_with_the_default_cart_items(
    crate_shop: Any,
) -> None:
    crate = Crate.objects.create()
    CrateLine.objects.create(
        crate=crate, sku="ESPRESSO-250", name="Espresso", price=Decimal("8.50"), quantity=2
    )
    line = CrateLine.objects.create(crate=crate, sku="GRINDER-X", name="Grinder", price=89)
    session = services.session_for_cart(crate, create=False)
    assert session is not None, "the line's save updated no session"
    remote = crate_shop.control.state()["sessions"][session.integration_id]
    assert [(i["sku"], i["quantity"]) for i in remote["cartItems"]] == [
        ("ESPRESSO-250", 2),
        ("GRINDER-X", 1),
    ]
    line.delete()
    remote = crate_shop.control.state()["sessions"][session.integration_id]
    assert [i["sku"] for i in remote["cartItems"]] == ["ESPRESSO-250"]
    assert not SyncProblem.objects.exists()


@pytest.mark.django_db
def test_the_lines_link_is_the_one_foreign_key_from_a_line_model(settings: Any) -> None:
    settings.TALON = {**settings.TALON, **CRATE_WIRING, "ENABLED": False}
    crate = Crate.objects.create()
    CrateLine.objects.create(crate=crate, sku="S", name="S", price=Decimal("1.25"))
    assert [f.name for f in cart_line_links(Crate)] == ["crate"]
    assert [i["sku"] for i in get_adapter().cart_items(crate)] == ["S"]
    # Not listed in CART_ITEM_MODELS: no lines relation, as before (W011 says so).
    settings.TALON = {**settings.TALON, "CART_ITEM_MODELS": []}
    assert cart_line_links(Crate) == []
    assert get_adapter().cart_items(crate) == []


def test_a_line_without_the_fields_the_default_reads_is_named() -> None:
    class Line:
        quantity = 1  # the SKU and price live on line.product

    cart = SimpleNamespace(items=SimpleNamespace(all=lambda: [Line()]))
    with pytest.raises(AdapterValueError, match=r"cart_items\[0\]: the line Line has no 'sku'"):
        TalonAdapter().cart_items(cart)


def ids(**talon: Any) -> list[str]:
    with override_settings(TALON={**GOOD, **talon}, CACHES=SHARED_CACHE):
        return [m.id for m in check_settings() if m.id != "django_talon.W005"]


class CrateItems(TalonAdapter):
    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        return []


def test_w011_a_cart_model_whose_lines_the_default_cannot_find() -> None:
    assert ids(**CRATE_WIRING) == []  # CrateLine.crate is found
    unwired = {**CRATE_WIRING, "CART_ITEM_MODELS": []}
    with override_settings(TALON={**GOOD, **unwired}, CACHES=SHARED_CACHE):
        found = [m for m in check_settings() if m.id == "django_talon.W011"]
    assert len(found) == 1
    assert "'basketshop.Crate', which has no 'items'" in found[0].msg
    assert "sent to Talon.One empty" in found[0].msg
    assert "Override cart_items()" in (found[0].hint or "")
    assert ids(**{**unwired, "ADAPTER": f"{__name__}.CrateItems"}) == []
    # A cart with ``items`` (shopapp.Cart, basketshop.Basket) needs no line model listed.
    assert ids(CART_MODELS=["shopapp.Cart", "basketshop.Basket"]) == []
    assert ids(**{**unwired, "CART_MODELS": ["nope.Crate"]}) == ["django_talon.E006"]
