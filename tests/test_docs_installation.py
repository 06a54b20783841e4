"""docs/installation.md runs: its ``settings.py`` and ``shop/talon.py`` snippets are taken
from the page and executed against the example shop's models and the emulator, so the page
cannot drift from the code (it once used ``os`` without importing it, listed no
``rest_framework``, and its adapter's Decimal prices silently stopped every cart sync). The
``manage.py`` commands, the URLs and the template of the page run too; the other blocks are
marked ``<!-- not-run: reason -->`` (tests/docs/snippets.py).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
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
from tests.docs.snippets import page_text, snippet, uncovered

PAGE = "installation.md"
COMMANDS = "python manage.py migrate"
TALON_CHECK = (
    "python manage.py talon_check  # calls Talon.One (or the emulator) with your key and reports"
    " (also: sync problems)"
)
URLS = "from django.urls import include, path"
TEMPLATE = "{% load talon %}"

#: Stands in for the shop's own ``cart.services`` the adapter snippet imports.
CART_SERVICES = "from example_project.cart.services import get_cart  # noqa: F401\n"


def snippets() -> dict[str, str]:
    return {key: snippet(PAGE, key).code for key in ("settings.py", "shop/talon.py")}


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
    # Step 4's commands (the test database is migrated): check raises on any error.
    assert [line.split()[2] for line in snippet(PAGE, COMMANDS).code.splitlines()] == [
        "migrate",
        "check",
    ]
    call_command("check")
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
    out = StringIO()
    assert snippet(PAGE, TALON_CHECK).code.split()[2] == "talon_check"  # step 6
    call_command("talon_check", stdout=out)  # no dead letter, no sync problem
    assert "Talon.One configuration OK" in out.getvalue()

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
    """``check`` imports the adapter (``django_talon.E004``): it comes after step 3.
    ``talon_check`` calls ``BASE_URL``: it comes after the emulator is started (it once
    came two steps before)."""
    text = page_text(PAGE)
    assert text.index('title="shop/talon.py"') < text.index("manage.py check")
    assert text.index("manage.py talon_emulator") < text.index("manage.py talon_check")
    assert textwrap.dedent(snippets()["settings.py"]).startswith("import os\n")


def test_the_urls_snippet_includes_what_exists() -> None:
    namespace: dict[str, Any] = {}
    code = "from django.urls import include, path\n" + snippet(PAGE, URLS).code
    exec(compile(code, "docs/installation.md urls", "exec"), namespace)
    assert [str(p.pattern) for p in namespace["urlpatterns"]] == ["talon/", "api/talon/"]
    assert all(p.url_patterns for p in namespace["urlpatterns"])  # the modules import


@pytest.mark.django_db
def test_the_template_snippet_renders(talon_settings: dict[str, Any]) -> None:  # noqa: F811
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.template import Context, Template

    request = RequestFactory().get("/cart/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    html = Template(snippet(PAGE, TEMPLATE).code).render(Context({"request": request}))
    assert "<form" in html  # the coupon form, for a visitor without a cart too


def test_every_block_of_the_page_runs_or_says_why_not() -> None:
    covered = ["settings.py", "shop/talon.py", COMMANDS, URLS, TEMPLATE, TALON_CHECK]
    assert uncovered(PAGE, covered) == []
