"""docs/installation.md runs: its ``settings.py`` and ``shop/talon.py`` snippets are taken
from the page and executed against the example shop's models and the emulator, so the page
cannot drift from the code (it once used ``os`` without importing it, listed no
``rest_framework``, and its adapter's Decimal prices silently stopped every cart sync).

A snippet is a fenced block ```` ```python title="<file>" ````; the page's other blocks are
shell or template code.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import RequestFactory
from django.utils.module_loading import import_string

from django_talon.adapters import TalonAdapter, _load_adapter, get_adapter
from django_talon.conf import DEFAULTS
from django_talon.models import CustomerSession, OutboxMessage, SyncProblem
from django_talon.testing.django import talon_settings  # noqa: F401  (fixture)

PAGE = Path(__file__).resolve().parent.parent / "docs" / "installation.md"
FENCE = re.compile(r'^```python title="(?P<title>[^"]+)"\n(?P<code>.*?)^```$', re.M | re.S)

#: Stands in for the shop's own ``cart.services`` the adapter snippet imports.
CART_SERVICES = "from example_project.cart.services import get_cart  # noqa: F401\n"


def snippets() -> dict[str, str]:
    found = {m["title"]: m["code"] for m in FENCE.finditer(PAGE.read_text(encoding="utf-8"))}
    assert {"settings.py", "shop/talon.py"} <= set(found), sorted(found)
    return found


def run_settings(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TALON_API_KEY", "from-the-environment")
    namespace: dict[str, Any] = {}
    exec(compile(snippets()["settings.py"], "docs/installation.md settings.py", "exec"), namespace)
    return namespace


@pytest.fixture
def shop_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``shop/talon.py`` written from the page, ``cart/services.py`` from the example shop."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "talon.py").write_text(snippets()["shop/talon.py"])
    (tmp_path / "cart").mkdir()
    (tmp_path / "cart" / "__init__.py").write_text("")
    (tmp_path / "cart" / "services.py").write_text(CART_SERVICES)
    monkeypatch.syspath_prepend(str(tmp_path))
    _load_adapter.cache_clear()
    yield
    _load_adapter.cache_clear()
    for name in ("shop.talon", "shop", "cart.services", "cart"):
        sys.modules.pop(name, None)


def test_the_settings_snippet_runs_and_names_what_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = run_settings(monkeypatch)
    for app in namespace["INSTALLED_APPS"]:
        assert app in django_settings.INSTALLED_APPS, app
    assert {"rest_framework", "drf_spectacular", "django_talon"} <= set(namespace["INSTALLED_APPS"])
    for middleware in namespace["MIDDLEWARE"]:
        import_string(middleware)
    talon = namespace["TALON"]
    assert talon["API_KEY"] == "from-the-environment"
    assert set(talon) <= set(DEFAULTS)
    for key in ("CART_MODELS", "CART_ITEM_MODELS", "ORDER_MODELS"):
        for label in talon[key]:
            apps.get_model(label)  # the example shop's app labels: cart, orders


@pytest.mark.django_db(transaction=True)
def test_the_adapter_snippet_syncs_the_example_shops_carts(
    shop_package: None,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    talon_settings: dict[str, Any],  # noqa: F811
    talon_emulator: Any,
) -> None:
    from example_project.cart.models import Cart
    from example_project.cart.services import SESSION_KEY, add_product
    from example_project.catalog.models import Category, Product

    documented = run_settings(monkeypatch)["TALON"]
    settings.TALON = {
        **documented,
        "BASE_URL": talon_emulator.url,
        "API_KEY": talon_emulator.api_key,
        "DELIVERY": "sync",
        "SYNC_RELAY_INTERVAL": 0,
    }
    call_command("check", "django_talon")  # raises on any error of the documented settings
    adapter = get_adapter()
    assert type(adapter).__module__ == "shop.talon" and isinstance(adapter, TalonAdapter)

    coffee = Category.objects.create(slug="coffee", name="Coffee")
    beans = Product.objects.create(
        sku="BEANS", name="Beans", category=coffee, price=Decimal("8.50")
    )
    cart = Cart.objects.create()
    add_product(cart, beans, 2)  # the shop's own code; the receivers do the rest

    session = CustomerSession.objects.get(cart_key=f"cart.cart:{cart.pk}")
    assert session.cart_items[0]["price"] == 8.5  # the Decimal, converted
    assert session.pushed_fingerprint == session.fingerprint  # delivered
    remote = talon_emulator.control.state()["sessions"][session.integration_id]
    assert remote["cartItems"][0]["sku"] == "BEANS"
    assert not SyncProblem.objects.exists()
    assert not OutboxMessage.objects.filter(state="dead").exists()

    request = RequestFactory().get("/")
    request.session = {SESSION_KEY: cart.pk}  # type: ignore[assignment]
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert adapter.cart_for_request(request) == cart

    cart.status = Cart.Status.ORDERED  # finished: never a new session
    cart.save()
    add_product(cart, beans, 1)
    assert CustomerSession.objects.filter(cart_key=session.cart_key).count() == 1
    order = type("Order", (), {"status": "paid"})()
    assert adapter.order_session_state(order) == "closed"


def test_the_page_checks_after_the_adapter_exists() -> None:
    """``check`` imports the adapter (``django_talon.E004``): it comes after step 3."""
    text = PAGE.read_text(encoding="utf-8")
    assert text.index('title="shop/talon.py"') < text.index("manage.py check")
    assert textwrap.dedent(snippets()["settings.py"]).startswith("import os\n")
