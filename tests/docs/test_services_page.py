"""docs/services.md, "Testing your integration": the test it shows passes as written.

The page's block is a shop's test module; here it runs against the test shop
(tests/shopapp, whose ``Cart``/``CartItem`` have the fields the block uses) with the
emulator, its ``from shop.models import Cart`` pointed at that shop. Both its fixture and
its test come from the block, so a change to either is what runs.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from tests.core.shop import SHOP_WIRING
from tests.docs.snippets import snippet

PAGE = "services.md"
KEY = "tests/test_promotions.py"

pytestmark = pytest.mark.django_db(transaction=True)


def _block_namespace(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The block's module, executed with ``shop.models`` standing for the test shop."""
    from tests.shopapp import models as shop_models

    shop = types.ModuleType("shop")
    shop.models = shop_models  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shop", shop)
    monkeypatch.setitem(sys.modules, "shop.models", shop_models)
    namespace: dict[str, Any] = {"__name__": "docs_services_block"}
    exec(compile(snippet(PAGE, KEY).code, f"docs/{PAGE}", "exec"), namespace)
    return namespace


def test_the_testing_block_passes_as_written(
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    talon_settings: dict[str, Any],
    talon_emulator: Any,
) -> None:
    settings.TALON = {**talon_settings, **SHOP_WIRING}
    namespace = _block_namespace(monkeypatch)
    # The fixture as pytest calls it: its function under the decorator, then the test.
    cart = namespace["cart"].__wrapped__(settings.TALON)
    before = len(talon_emulator.control.requests("/v2/customer_sessions/"))
    assert before >= 1  # the block's comment: the line's save was sent already
    namespace["test_welcome_coupon"](settings.TALON, talon_emulator, cart)
    assert len(talon_emulator.control.requests("/v2/customer_sessions/")) == before + 1
