"""The ``django_talon_oscar.*`` system checks (docs/checks.md)."""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.contrib.oscar.checks import OSCAR_MIDDLEWARE, OUR_MIDDLEWARE, check_oscar


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


def test_coexisting_offers_warn(settings: Any) -> None:
    settings.TALON_OSCAR = {"OSCAR_OFFERS": "coexist"}
    settings.OSCAR_OFFERS_INCL_TAX = True
    assert ids(settings) == ["django_talon_oscar.W002"]
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
