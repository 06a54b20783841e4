"""``TALON_OSCAR = {...}``: the settings of the django-oscar integration (docs/oscar.md).

A dict of its own, next to ``TALON``: these keys only mean something in an Oscar shop, and
the core's unknown-key check (``django_talon.W001``) stays strict. Read at call time, so
``override_settings(TALON_OSCAR=...)`` takes effect at once. A value outside its choices is
reported by ``django_talon_oscar.E001``, one of the wrong type by ``E004``, a
``TALON_OSCAR`` that is not a dict by ``E005``; the default is used meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

#: Prices sent to Talon.One (and discounts charged) including or excluding tax.
INCL_TAX = "incl_tax"
EXCL_TAX = "excl_tax"
#: Oscar's own offers: never applied next to Talon.One's ("off") or applied too ("coexist").
OFFERS_OFF = "off"
OFFERS_COEXIST = "coexist"

CHOICES: dict[str, tuple[str, ...]] = {
    "TAX_MODE": (INCL_TAX, EXCL_TAX),
    "OSCAR_OFFERS": (OFFERS_OFF, OFFERS_COEXIST),
}

#: Oscar order statuses -> Talon.One session state. Statuses not listed map to
#: ``DEFAULT_ORDER_STATE`` (a placed order is closed); ``None`` leaves the session alone.
DEFAULT_STATUS_MAP: dict[str, str | None] = {"Cancelled": "cancelled"}

SESSION_STATES = ("closed", "cancelled", None)


@dataclass(frozen=True)
class OscarConfig:
    """Every ``TALON_OSCAR`` key with its default (docs/oscar.md#settings)."""

    TAX_MODE: str = INCL_TAX
    OSCAR_OFFERS: str = OFFERS_OFF
    ORDER_STATUS_MAP: dict[str, str | None] = field(
        default_factory=lambda: dict(DEFAULT_STATUS_MAP)
    )
    DEFAULT_ORDER_STATE: str | None = "closed"
    OFFER_NAME: str = "Talon.One promotions"
    OFFER_PRIORITY: int = 1_000_000

    @property
    def incl_tax(self) -> bool:
        return self.TAX_MODE != EXCL_TAX

    @property
    def oscar_offers_off(self) -> bool:
        return self.OSCAR_OFFERS != OFFERS_COEXIST


KNOWN_KEYS = frozenset(OscarConfig.__dataclass_fields__)

#: Oscar's ``ConditionalOffer.priority`` is an ``IntegerField`` (a 32-bit column).
PRIORITY_RANGE = range(-(2**31), 2**31)
#: Oscar's ``ConditionalOffer.name`` is a ``CharField(max_length=128)``.
NAME_MAX_LENGTH = 128


def _is_priority(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in PRIORITY_RANGE


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= NAME_MAX_LENGTH


#: Keys written to the offer row: a value of the wrong type would make ``migrate`` fail
#: (``ensure_talon_offer``), so ``django_talon_oscar.E004`` names it and the default is used.
TYPED: dict[str, tuple[Callable[[Any], bool], str]] = {
    "OFFER_PRIORITY": (_is_priority, "an integer (a 32-bit offer priority)"),
    "OFFER_NAME": (_is_name, f"a non-empty string of at most {NAME_MAX_LENGTH} characters"),
}


def raw_settings() -> dict[str, Any]:
    """``settings.TALON_OSCAR`` as given (an empty dict when unset or not a dict: every
    default is used, and ``django_talon_oscar.E005`` says so)."""
    value = getattr(settings, "TALON_OSCAR", None)
    return dict(value) if isinstance(value, dict) else {}


def settings_shape_error() -> str:
    """Why ``settings.TALON_OSCAR`` cannot be read (not a dict), or empty."""
    value = getattr(settings, "TALON_OSCAR", None)
    if value is None or isinstance(value, dict):
        return ""
    return f"a {type(value).__name__}"


def oscar_settings() -> OscarConfig:
    """The effective settings: defaults, then the keys the shop set (bad choices ignored)."""
    given = {k: v for k, v in raw_settings().items() if k in KNOWN_KEYS}
    for key, allowed in CHOICES.items():
        if key in given and given[key] not in allowed:
            del given[key]  # E001 names it; the default keeps the shop working
    if "DEFAULT_ORDER_STATE" in given and given["DEFAULT_ORDER_STATE"] not in SESSION_STATES:
        del given["DEFAULT_ORDER_STATE"]
    if "ORDER_STATUS_MAP" in given and not isinstance(given["ORDER_STATUS_MAP"], dict):
        del given["ORDER_STATUS_MAP"]
    for key, (valid, _what) in TYPED.items():
        if key in given and not valid(given[key]):
            del given[key]  # E004 names it
    return OscarConfig(**given)
