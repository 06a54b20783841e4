"""The ``django_talon_oscar.*`` system checks (docs/checks.md)."""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.contrib.oscar.checks import OSCAR_MIDDLEWARE, OUR_MIDDLEWARE, check_oscar
from django_talon.contrib.oscar.conf import OscarConfig, oscar_settings
from django_talon.contrib.oscar.middleware import BasketMiddleware


class ShopBasketMiddleware(BasketMiddleware):
    """A shop's own subclass of django-talon's basket middleware (it merges the same way)."""


def ids(settings: Any) -> list[str]:
    return [message.id for message in check_oscar()]


def test_the_test_shop_is_clean(settings: Any) -> None:
    assert ids(settings) == []


def test_bad_choices_and_unknown_keys(settings: Any) -> None:
    settings.TALON_OSCAR = {"TAX_MODE": "gross", "OSCAR_OFFERS": "both", "TAXMODE": 1}
    assert ids(settings) == ["django_talon_oscar.E001"] * 2 + ["django_talon_oscar.W005"]
    settings.TALON_OSCAR = {"ORDER_STATUS_MAP": {"Pending": "paid"}}
    assert ids(settings) == ["django_talon_oscar.E001"]


def test_wiring_missing(settings: Any) -> None:
    settings.TALON = {
        **settings.TALON,
        "CART_MODELS": [],
        "ADAPTER": "django_talon.adapters.TalonAdapter",
    }
    (message,) = check_oscar()
    assert message.id == "django_talon_oscar.E002"
    assert "basket.basket" in message.msg and "OscarAdapter" in message.msg


def test_oscars_own_basket_middleware(settings: Any) -> None:
    settings.MIDDLEWARE = [
        m if m != OUR_MIDDLEWARE else OSCAR_MIDDLEWARE for m in settings.MIDDLEWARE
    ]
    assert ids(settings) == ["django_talon_oscar.W001"]


def test_a_subclass_of_our_basket_middleware_is_ours(settings: Any) -> None:
    settings.MIDDLEWARE = [
        m if m != OUR_MIDDLEWARE else f"{__name__}.ShopBasketMiddleware"
        for m in settings.MIDDLEWARE
    ]
    assert ids(settings) == []
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:-2], "shop.missing.Middleware"]
    assert ids(settings) == ["django_talon_oscar.W001"]  # unimportable: not ours


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("OFFER_PRIORITY", "high"),
        ("OFFER_PRIORITY", True),
        ("OFFER_PRIORITY", 2**31),
        ("OFFER_NAME", ""),
        ("OFFER_NAME", "x" * 129),
        ("OFFER_NAME", 7),
    ],
)
def test_offer_row_values_of_the_wrong_type(
    key: str, value: Any, settings: Any, transactional_db: None
) -> None:
    """``OFFER_PRIORITY: "high"`` passed every check and then crashed ``migrate``."""
    from django_talon.contrib.oscar.offers import ensure_talon_offer

    settings.TALON_OSCAR = {key: value}
    (message,) = check_oscar()
    assert message.id == "django_talon_oscar.E004" and key in message.msg
    assert getattr(oscar_settings(), key) == getattr(OscarConfig, key)
    offer = ensure_talon_offer()  # what migrate runs: the default meanwhile
    assert getattr(offer, key.removeprefix("OFFER_").lower()) == getattr(OscarConfig, key)


def test_talon_oscar_that_is_not_a_dict(settings: Any) -> None:
    """A list was silently ignored."""
    settings.TALON_OSCAR = [("TAX_MODE", "excl_tax")]
    (message,) = check_oscar()
    assert message.id == "django_talon_oscar.E005" and "a list" in message.msg
    assert oscar_settings() == OscarConfig()


def test_coexisting_offers_warn(settings: Any) -> None:
    settings.TALON_OSCAR = {"OSCAR_OFFERS": "coexist"}
    settings.OSCAR_OFFERS_INCL_TAX = True
    assert ids(settings) == ["django_talon_oscar.W002"]
    (message,) = check_oscar()
    # Oscar's vouchers are never looked up (the voucher form sends codes to Talon.One).
    assert "vouchers may" not in message.msg and "vouchers are never looked up" in message.msg
    settings.OSCAR_OFFERS_INCL_TAX = False  # Oscar's default, Talon.One's incl_tax: a crash
    assert ids(settings) == ["django_talon_oscar.E003", "django_talon_oscar.W002"]
    settings.TALON_OSCAR = {"OSCAR_OFFERS": "coexist", "TAX_MODE": "excl_tax"}
    assert ids(settings) == ["django_talon_oscar.W002"]


def test_status_map_outside_the_pipeline(settings: Any) -> None:
    settings.TALON_OSCAR = {"ORDER_STATUS_MAP": {"Canceled": "cancelled"}}
    assert ids(settings) == ["django_talon_oscar.W003"]


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Pending", "closed"),
        ("Being processed", "closed"),
        ("Cancelled", "cancelled"),
        ("", "closed"),
    ],
)
def test_default_status_mapping(status: str, state: str) -> None:
    from types import SimpleNamespace

    from django_talon.contrib.oscar.adapter import OscarAdapter

    assert OscarAdapter().order_session_state(SimpleNamespace(status=status)) == state


def test_status_mapping_setting(settings: Any) -> None:
    from types import SimpleNamespace

    from django_talon.contrib.oscar.adapter import OscarAdapter

    settings.TALON_OSCAR = {
        "ORDER_STATUS_MAP": {"Pending": None, "Cancelled": "cancelled"},
        "DEFAULT_ORDER_STATE": "closed",
    }
    adapter = OscarAdapter()
    assert adapter.order_session_state(SimpleNamespace(status="Pending")) is None
    assert adapter.order_session_state(SimpleNamespace(status="Complete")) == "closed"
