"""System checks of the django-oscar integration (``django_talon_oscar.*``, docs/checks.md).

They read settings only (no database): they run before ``migrate`` and in every
``manage.py`` command.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks

from django_talon.contrib.oscar import conf

ADAPTER_PATH = "django_talon.contrib.oscar.adapter.OscarAdapter"
OUR_MIDDLEWARE = "django_talon.contrib.oscar.middleware.BasketMiddleware"
OSCAR_MIDDLEWARE = "oscar.apps.basket.middleware.BasketMiddleware"
APP_NAME = "django_talon.contrib.oscar"


def _shape() -> list[checks.CheckMessage]:
    shape = conf.settings_shape_error()
    if not shape:
        return []
    return [
        checks.Error(
            f"TALON_OSCAR is {shape}, not a dict: it is ignored and every default is used.",
            hint='Write it as a dict, e.g. TALON_OSCAR = {"TAX_MODE": "excl_tax"} '
            "(docs/oscar.md#settings).",
            id="django_talon_oscar.E005",
        )
    ]


def _types() -> list[checks.CheckMessage]:
    raw = conf.raw_settings()
    return [
        checks.Error(
            f"TALON_OSCAR[{key!r}] is {raw[key]!r}; it must be {what}. The default "
            f"{getattr(conf.OscarConfig, key)!r} is used instead.",
            hint="migrate writes it to the Talon.One offer's row, where a value of another "
            "type cannot go (docs/oscar.md#settings).",
            id="django_talon_oscar.E004",
        )
        for key, (valid, what) in conf.TYPED.items()
        if key in raw and not valid(raw[key])
    ]


def _choices() -> list[checks.CheckMessage]:
    raw = conf.raw_settings()
    errors: list[checks.CheckMessage] = []
    for key, allowed in conf.CHOICES.items():
        if key in raw and raw[key] not in allowed:
            errors.append(
                checks.Error(
                    f"TALON_OSCAR[{key!r}] is {raw[key]!r}; the default "
                    f"{getattr(conf.OscarConfig, key)!r} is used instead.",
                    hint=f"Use one of: {', '.join(allowed)} (docs/oscar.md#settings).",
                    id="django_talon_oscar.E001",
                )
            )
    states = conf.SESSION_STATES
    mapping = raw.get("ORDER_STATUS_MAP", {})
    bad_map = not isinstance(mapping, dict) or any(v not in states for v in mapping.values())
    if bad_map or raw.get("DEFAULT_ORDER_STATE", "closed") not in states:
        errors.append(
            checks.Error(
                "TALON_OSCAR['ORDER_STATUS_MAP'] must map Oscar order statuses to 'closed', "
                "'cancelled' or None, and DEFAULT_ORDER_STATE must be one of those.",
                hint="e.g. {'Cancelled': 'cancelled', 'Pending': None}; the defaults are "
                "used meanwhile (docs/oscar.md#order-statuses).",
                id="django_talon_oscar.E001",
            )
        )
    unknown = sorted(set(raw) - conf.KNOWN_KEYS)
    if unknown:
        errors.append(
            checks.Warning(
                f"TALON_OSCAR has keys django-talon does not know: {', '.join(unknown)}.",
                hint=f"Known keys: {', '.join(sorted(conf.KNOWN_KEYS))}.",
                id="django_talon_oscar.W005",
            )
        )
    return errors


def _labels(value: Any) -> set[str]:
    return {str(label).lower() for label in value or ()}


def _wiring() -> list[checks.CheckMessage]:
    """TALON names the adapter and Oscar's models, so the core receivers see them."""
    from oscar.core.loading import get_model

    talon = getattr(settings, "TALON", {})
    if not isinstance(talon, dict):
        return []  # django_talon.E007 reports it
    wanted = {
        "CART_MODELS": get_model("basket", "Basket")._meta.label_lower,
        "CART_ITEM_MODELS": get_model("basket", "Line")._meta.label_lower,
        "ORDER_MODELS": get_model("order", "Order")._meta.label_lower,
    }
    missing = [
        f"{key}: {label!r}" for key, label in wanted.items() if label not in _labels(talon.get(key))
    ]
    errors: list[checks.CheckMessage] = []
    adapter = str(talon.get("ADAPTER", ""))
    if missing or not _is_oscar_adapter(adapter):
        errors.append(
            checks.Error(
                "TALON does not wire django-oscar: "
                + "; ".join(
                    [
                        *missing,
                        *([] if _is_oscar_adapter(adapter) else [f"ADAPTER: {ADAPTER_PATH!r}"]),
                    ]
                )
                + " missing.",
                hint="TALON = {**TALON, **django_talon.contrib.oscar.TALON_WIRING} "
                "(docs/oscar.md step 3).",
                id="django_talon_oscar.E002",
            )
        )
    return errors


def _is_oscar_adapter(path: str) -> bool:
    from django.utils.module_loading import import_string

    from django_talon.contrib.oscar.adapter import OscarAdapter

    if not path:
        return False
    try:
        cls = import_string(path)
    except ImportError:
        return False  # django_talon.E004 reports it
    return isinstance(cls, type) and issubclass(cls, OscarAdapter)


def _is_ours(path: Any) -> bool:
    """Is ``path`` django-talon's basket middleware or a shop's subclass of it?"""
    from django.utils.module_loading import import_string

    from django_talon.contrib.oscar.middleware import BasketMiddleware

    if path == OUR_MIDDLEWARE:
        return True
    try:
        cls = import_string(str(path))
    except ImportError:
        return False  # Django reports a middleware it cannot import
    return isinstance(cls, type) and issubclass(cls, BasketMiddleware)


def _middleware() -> list[checks.CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if any(_is_ours(path) for path in middleware):
        return []
    return [
        checks.Warning(
            f"MIDDLEWARE uses {OSCAR_MIDDLEWARE!r}"
            if OSCAR_MIDDLEWARE in middleware
            else "MIDDLEWARE has no django-talon basket middleware",
            hint=f"Use {OUR_MIDDLEWARE!r} instead of Oscar's: when Oscar merges a guest's "
            "basket after login, it carries the guest's Talon.One codes along.",
            id="django_talon_oscar.W001",
        )
    ]


def _offers() -> list[checks.CheckMessage]:
    oscar_conf = conf.oscar_settings()
    if oscar_conf.oscar_offers_off:
        return []
    oscar_incl = bool(getattr(settings, "OSCAR_OFFERS_INCL_TAX", False))
    errors: list[checks.CheckMessage] = []
    if oscar_incl != oscar_conf.incl_tax:
        errors.append(
            checks.Error(
                f"TALON_OSCAR['TAX_MODE'] is {oscar_conf.TAX_MODE!r} but OSCAR_OFFERS_INCL_TAX "
                f"is {oscar_incl}: with OSCAR_OFFERS 'coexist' Oscar refuses to discount a line "
                "both including and excluding tax (RuntimeError on the basket page).",
                hint="Use the same mode for both: TAX_MODE 'incl_tax' with "
                "OSCAR_OFFERS_INCL_TAX = True, or 'excl_tax' with False.",
                id="django_talon_oscar.E003",
            )
        )
    return errors + [
        checks.Warning(
            "TALON_OSCAR['OSCAR_OFFERS'] is 'coexist': Oscar's own offers (site, user and "
            "session offers; Oscar's vouchers are never looked up, the voucher form sends "
            "codes to Talon.One) may discount the same basket as Talon.One; the order total "
            "is then Talon.One's quote minus Oscar's discounts, and the ledger records only "
            "Talon.One's.",
            hint="Set 'OSCAR_OFFERS': 'off' to let Talon.One price every basket alone "
            "(docs/oscar.md#oscars-own-offers).",
            id="django_talon_oscar.W002",
        )
    ]


def _statuses() -> list[checks.CheckMessage]:
    pipeline = getattr(settings, "OSCAR_ORDER_STATUS_PIPELINE", None) or {}
    mapping = conf.oscar_settings().ORDER_STATUS_MAP
    if not pipeline:
        return []
    unknown = sorted(status for status in mapping if status not in pipeline)
    if not unknown:
        return []
    return [
        checks.Warning(
            f"TALON_OSCAR['ORDER_STATUS_MAP'] maps statuses that are not in "
            f"OSCAR_ORDER_STATUS_PIPELINE: {', '.join(unknown)}.",
            hint="Use the statuses of your pipeline (their spelling counts); a status not "
            "mapped gets DEFAULT_ORDER_STATE.",
            id="django_talon_oscar.W003",
        )
    ]


def _app_order() -> list[checks.CheckMessage]:
    names = [config.name for config in apps.get_app_configs()]
    if "oscar" not in names or APP_NAME not in names:
        return []
    if names.index(APP_NAME) < names.index("oscar"):
        return []
    return [
        checks.Warning(
            f"{APP_NAME!r} comes after Oscar in INSTALLED_APPS: Oscar's basket templates "
            "win, so the basket and checkout do not show Talon.One's codes and messages.",
            hint=f"List {APP_NAME!r} before 'oscar.config.Shop'.",
            id="django_talon_oscar.W004",
        )
    ]


@checks.register()
def check_oscar(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every ``django_talon_oscar`` check."""
    return [
        *_shape(),
        *_choices(),
        *_types(),
        *_wiring(),
        *_middleware(),
        *_offers(),
        *_statuses(),
        *_app_order(),
    ]
