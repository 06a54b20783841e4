"""System checks of ``TALON["APPLICATIONS"]`` (E016-E020, W004; docs/checks.md).

A shop with several Talon.One Applications (one per currency, say) must name each one
usably: a mistake here sends a customer's cart to the wrong Application with the wrong
currency, which no later error would reveal. Kept apart from :mod:`django_talon.checks`
because it is one idea: the mapping and the adapter hooks that choose from it.
"""

from __future__ import annotations

import re
from typing import Any

from django.core import checks
from django.utils.module_loading import import_string

from django_talon.conf import APPLICATION_KEYS, TalonConfig
from django_talon.promotions.money import ISO_4217_CODES

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
HOOKS = ("application_for_cart", "application_for_user")


def _error(msg: str, hint: str, id_: str) -> checks.CheckMessage:
    return checks.Error(msg, hint=hint, id=f"django_talon.{id_}")


def check_applications(config: TalonConfig) -> list[checks.CheckMessage]:
    """E016-E020 and W004; for a shop without ``APPLICATIONS``, E018 of the top-level
    ``CURRENCY`` (its one Application's)."""
    if not config.APPLICATIONS:
        return _currency("TALON['CURRENCY']", config.CURRENCY)
    messages: list[checks.CheckMessage] = []
    for name, entry in config.APPLICATIONS.items():
        messages.extend(_entry(config, name, entry))
    messages.extend(_shared_keys(config))
    messages.extend(_hooks(config))
    return messages


def _entry(config: TalonConfig, name: str, entry: dict[str, Any]) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    app = config.applications[name]
    missing = [key for key in ("BASE_URL", "API_KEY", "CURRENCY") if not getattr(app, key).strip()]
    unknown = sorted(set(entry) - set(APPLICATION_KEYS))
    if config.ENABLED and missing:
        messages.append(
            _error(
                f"TALON['APPLICATIONS'][{name!r}] has no {', '.join(missing)}.",
                "Each Application needs its Integration API key and currency; BASE_URL may "
                "be the top-level TALON['BASE_URL'].",
                "E016",
            )
        )
    if unknown:
        messages.append(
            _error(
                f"TALON['APPLICATIONS'][{name!r}] has unknown keys: {', '.join(unknown)}.",
                f"An Application knows {', '.join(APPLICATION_KEYS)}; other settings are global.",
                "E016",
            )
        )
    if not _SLUG.match(name):
        messages.append(
            _error(
                f"TALON['APPLICATIONS'] name {name!r} is not a slug.",
                "Use lower-case letters, digits, '-' and '_' (it is stored on every session, "
                "profile and outbox row), e.g. 'eur'.",
                "E017",
            )
        )
    if app.CURRENCY:
        messages.extend(_currency(f"TALON['APPLICATIONS'][{name!r}]['CURRENCY']", app.CURRENCY))
    return messages


def _currency(label: str, currency: str) -> list[checks.CheckMessage]:
    """E018: a currency that is not an ISO 4217 code would get the 2-decimal default minor
    unit (a typo of ``"JPY"`` would round yen to hundredths in every quote and ledger)."""
    if currency in ISO_4217_CODES:
        return []
    why = "a 3-letter currency code" if not _CURRENCY.match(currency) else "an ISO 4217 code"
    return [
        _error(
            f"{label} {currency!r} is not {why}.",
            "Use the ISO 4217 code the Application is set up with, e.g. 'EUR' (its minor "
            "unit decides how every amount is rounded).",
            "E018",
        )
    ]


def _shared_keys(config: TalonConfig) -> list[checks.CheckMessage]:
    """Two names for one key would be one Application counted twice (two breakers, two
    currencies for the same Talon.One data): refused."""
    by_key: dict[str, list[str]] = {}
    for name, app in config.applications.items():
        if app.API_KEY:
            by_key.setdefault(app.API_KEY, []).append(name)
    return [
        _error(
            f"TALON['APPLICATIONS'] {', '.join(map(repr, names))} have the same API_KEY.",
            "Each Application has its own Integration API key; one key is one Application.",
            "E019",
        )
        for names in by_key.values()
        if len(names) > 1
    ]


def _hooks(config: TalonConfig) -> list[checks.CheckMessage]:
    """E020: the adapter has both hooks; W004: several Applications but the default hooks
    (everything would go to the first one)."""
    from django_talon.adapters import TalonAdapter

    try:
        adapter_cls = import_string(config.ADAPTER)
    except ImportError:
        return []  # E004 reports it
    messages: list[checks.CheckMessage] = []
    missing = [hook for hook in HOOKS if not callable(getattr(adapter_cls, hook, None))]
    if missing:
        messages.append(
            _error(
                f"TALON['ADAPTER'] {config.ADAPTER!r} has no {', '.join(missing)}.",
                "Subclass django_talon.adapters.TalonAdapter (it has both hooks).",
                "E020",
            )
        )
    elif len(config.APPLICATIONS) > 1 and all(
        getattr(adapter_cls, hook) is getattr(TalonAdapter, hook) for hook in HOOKS
    ):
        messages.append(
            checks.Warning(
                f"TALON['APPLICATIONS'] has {len(config.APPLICATIONS)} Applications but the "
                f"adapter does not choose: everything goes to {config.default_application!r}.",
                hint="Override adapter.application_for_cart (and application_for_user).",
                id="django_talon.W004",
            )
        )
    return messages
