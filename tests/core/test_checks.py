"""Every django_talon system check fires when it should (docs/checks.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_talon.adapters import TalonAdapter
from django_talon.checks import check_settings

GOOD = {"BASE_URL": "https://acme.talon.one", "API_KEY": "k"}


SHARED_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/9",  # never contacted by the checks
    }
}


def ids(**talon: Any) -> list[str]:
    with override_settings(TALON=talon, CACHES=SHARED_CACHE):
        return [m.id for m in check_settings()]


def test_good_settings_are_clean() -> None:
    assert ids(**GOOD) == []


def test_e001_missing_base_url() -> None:
    assert ids(API_KEY="k") == ["django_talon.E001"]


def test_e002_missing_api_key() -> None:
    assert ids(BASE_URL="https://acme.talon.one") == ["django_talon.E002"]


def test_disabled_needs_no_credentials() -> None:
    assert ids(ENABLED=False) == []


def test_e003_celery_mode_without_celery(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "celery" else real(name, *a)
    )
    assert ids(**GOOD, DELIVERY="celery") == ["django_talon.E003"]


def test_w010_celery_delivery_without_a_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Celery app with no broker falls back to amqp://guest@localhost//: every write would
    wait in the outbox with nobody to deliver it, and ``manage.py check`` said nothing."""
    from celery import Celery, _state

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    app = Celery("no_broker_check", set_as_current=False)

    before = _state.get_current_app()
    app.set_current()
    try:
        assert ids(**GOOD, DELIVERY="celery") == ["django_talon.W010"]
        app.conf.broker_url = "redis://127.0.0.1:6379/0"
        assert ids(**GOOD, DELIVERY="celery") == []
        app.conf.broker_url = None
        app.conf.task_always_eager = True  # eager: no broker is used
        assert ids(**GOOD, DELIVERY="celery") == []
        assert ids(**GOOD, DELIVERY="auto") == []
    finally:
        before.set_current()


def test_e004_invalid_adapter_path() -> None:
    assert ids(**GOOD, ADAPTER="nope.Missing") == ["django_talon.E004"]
    assert ids(**GOOD, ADAPTER="django_talon.conf.TalonSettings") == ["django_talon.E004"]


def test_e005_invalid_choice() -> None:
    assert ids(**GOOD, ORDER_PLACEMENT="maybe") == ["django_talon.E005"]
    assert ids(**GOOD, DELIVERY="carrier-pigeon") == ["django_talon.E005"]


def test_e006_unknown_model() -> None:
    assert ids(**GOOD, CART_MODELS=["shop.Nope"]) == ["django_talon.E006"]
    assert ids(**GOOD, ORDER_MODELS=["shopapp.Order"]) == []


class CustomerOwnedCarts(TalonAdapter):
    """A shop whose carts name their owner ``customer``."""

    def cart_user(self, cart: Any) -> Any:
        return cart.customer

    def cart_user_id(self, cart: Any) -> Any:
        return cart.customer_id


def test_w005_cart_model_without_user_and_default_owner_hooks() -> None:
    """``shopapp.CartItem`` stands in for a cart owned by a ``customer``: it has no ``user``
    (nor lines: W011, tests/core/test_cart_lines_link.py)."""
    assert ids(**GOOD, CART_MODELS=["shopapp.Cart"]) == []
    assert ids(**GOOD, CART_MODELS=["shopapp.CartItem"]) == [
        "django_talon.W005",
        "django_talon.W011",
    ]
    adapter = f"{__name__}.CustomerOwnedCarts"
    assert ids(**GOOD, CART_MODELS=["shopapp.CartItem"], ADAPTER=adapter) == ["django_talon.W011"]
    assert ids(**GOOD, CART_MODELS=["shop.Nope"]) == ["django_talon.E006"]  # not twice


def test_e007_talon_not_a_dict() -> None:
    with override_settings(TALON="https://acme.talon.one"):
        assert [m.id for m in check_settings()] == ["django_talon.E007"]


def test_w001_unknown_key_with_suggestion() -> None:
    with override_settings(TALON={**GOOD, "MAX_ATTEMPT": 3}, CACHES=SHARED_CACHE):
        (message,) = check_settings()
    assert message.id == "django_talon.W001"
    assert "MAX_ATTEMPTS" in (message.hint or "")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9100", "http://localhost:9100", "http://talon-emulator:9100"]
)
def test_w002_local_url_without_debug(url: str) -> None:
    with override_settings(DEBUG=False):
        assert ids(BASE_URL=url, API_KEY="k") == ["django_talon.W002"]
    with override_settings(DEBUG=True):
        assert ids(BASE_URL=url, API_KEY="k") == []


def test_e008_unknown_cache_alias() -> None:
    assert ids(**GOOD, CACHE_ALIAS="breaker") == ["django_talon.E008"]


def test_w003_per_process_cache_without_debug() -> None:
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(TALON=GOOD, CACHES=locmem, DEBUG=False):
        assert [m.id for m in check_settings()] == ["django_talon.W003"]
    with override_settings(TALON=GOOD, CACHES=locmem, DEBUG=True):
        assert [m.id for m in check_settings()] == []


def test_checks_are_registered() -> None:
    from django.core import checks

    with override_settings(TALON={"API_KEY": "k"}):
        found = [m.id for m in checks.run_checks()]
    assert "django_talon.E001" in found


# -- several databases (E021, W008, W009; docs/adapters.md#several-databases) -----------------
# The routers only answer aliases: the checks never open a connection, so the test settings'
# one database is enough ("shopdb", "talondb" and "replica" are not in DATABASES).
SHOP_MODELS = {
    "CART_MODELS": ["shopapp.Cart"],
    "CART_ITEM_MODELS": ["shopapp.CartItem"],
    "ORDER_MODELS": ["shopapp.Order"],
}


class ShopOnItsOwnDatabase:
    """The shop's app (carts, lines, orders) on 'shopdb', everything else on default."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "shopdb" if model._meta.app_label == "shopapp" else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return self.db_for_read(model)


class TalonOnItsOwnDatabase:
    """django-talon's own models on 'talondb'."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return "talondb" if model._meta.app_label == "django_talon" else None

    db_for_write = db_for_read


class ReadReplica:
    """Django's primary/replica pattern: every read from 'replica', every write to default."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"


class ShopReadReplica(ReadReplica):
    """The same, with django-talon's reads on default, as docs/adapters.md says."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "default" if model._meta.app_label == "django_talon" else "replica"


def routed(router: type, **talon: Any) -> list[Any]:
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.{router.__name__}"]):
        with override_settings(TALON=talon, CACHES=SHARED_CACHE):
            return list(check_settings())


def test_e021_shop_models_written_to_another_alias() -> None:
    """The cart's rollback is not django-talon's: each model is named with its alias."""
    messages = routed(ShopOnItsOwnDatabase, **GOOD, **SHOP_MODELS)
    assert [m.id for m in messages] == ["django_talon.E021"] * 3
    for message, label in zip(
        messages, ["shopapp.Cart", "shopapp.CartItem", "shopapp.Order"], strict=True
    ):
        assert f"{label!r}" in message.msg and "'shopdb'" in message.msg
        assert "'default'" in message.hint
    # One database, and reads elsewhere only: nothing.
    assert ids(**GOOD, **SHOP_MODELS) == []
    assert [m.id for m in routed(ShopReadReplica, **GOOD, **SHOP_MODELS)] == []


def test_e021_django_talon_models_written_to_another_alias() -> None:
    """One message for the app's models (not one per model); W009 is not said again."""
    (message,) = routed(TalonOnItsOwnDatabase, **GOOD)
    assert message.id == "django_talon.E021"
    assert "'talondb'" in message.msg and "django_talon.CustomerSession" in message.msg


def test_w009_django_talon_models_read_from_a_replica() -> None:
    (message,) = routed(ReadReplica, **GOOD)
    assert message.id == "django_talon.W009"
    assert "'replica'" in message.msg and "django_talon.CustomerSession" in message.msg
    assert "app_label == 'django_talon': return 'default'" in message.hint


@pytest.mark.parametrize(
    ("vendor", "reason"),
    [("mysql", "Specified key was too long"), ("oracle", "tested for PostgreSQL and SQLite")],
)
def test_e022_a_database_django_talon_does_not_support(
    monkeypatch: pytest.MonkeyPatch, vendor: str, reason: str
) -> None:
    """Said by ``check`` and before ``migrate``, which stopped half-way on MySQL/MariaDB
    ("Specified key was too long": 1,000-character ids, indexed, in utf8mb4). Only the
    backend's ``vendor`` is read, no connection opened (as here: the SQLite one)."""
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", vendor)
    with override_settings(TALON=GOOD, CACHES=SHARED_CACHE):
        (message,) = check_settings()
    assert message.id == "django_talon.E022"
    assert f"is {vendor}" in message.msg and reason in message.msg
    assert "PostgreSQL" in message.hint


class LinesOfTheirOwn(TalonAdapter):
    """docs/installation.md's shape: the shop's own query reads the lines."""

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        return [{"sku": row.sku, "quantity": row.quantity} for row in cart.items.all()]


def test_w008_replica_reads_with_the_shops_own_line_query(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = f"{__name__}.LinesOfTheirOwn"
    (message,) = routed(ShopReadReplica, **GOOD, **SHOP_MODELS, ADAPTER=adapter)
    assert message.id == "django_talon.W008"
    assert "'shopapp.CartItem'" in message.msg and "'replica'" in message.msg
    assert ".using(router.db_for_write(CartItem, instance=cart))" in message.hint
    # The default cart_items reads on the write alias itself: nothing to warn about ...
    assert [m.id for m in routed(ShopReadReplica, **GOOD, **SHOP_MODELS)] == []
    # ... unless the cart hands over its own lines.
    from tests.shopapp.models import Cart

    monkeypatch.setattr(Cart, "talon_cart_items", lambda self: [], raising=False)
    (message,) = routed(ShopReadReplica, **GOOD, **SHOP_MODELS)
    assert message.id == "django_talon.W008" and "talon_cart_items()" in message.msg
    # One database: the override reads where it writes.
    assert ids(**GOOD, **SHOP_MODELS, ADAPTER=adapter) == []
