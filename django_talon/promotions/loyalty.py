"""The last known loyalty balance of a customer, remembered so pages need no API call.

A balance is only known from a customer inventory answer (an API read). Whoever fetches one
(the REST "my inventory" endpoint, ``services.customer_inventory``, or a shop) hands it to
:func:`remember_inventory`; the loyalty template tag then shows it from the
``TALON["CACHE_ALIAS"]`` cache for a day. Unlike the rest of this package this module
touches a cache, but still neither the database nor the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import caches

from django_talon.conf import talon_settings
from django_talon.promotions.money import int_or_none, points

__all__ = [
    "LoyaltyBalance",
    "known_loyalty_balances",
    "loyalty_balances_from_inventory",
    "remember_inventory",
]

_BALANCE_CACHE_KEY = "django_talon:loyalty:{}"


@dataclass(frozen=True)
class LoyaltyBalance:
    """Last known balance of one loyalty programme (from a customer inventory answer)."""

    program_id: int | None
    title: str
    current: Decimal
    pending: Decimal = Decimal(0)


def loyalty_balances_from_inventory(inventory: Mapping[str, Any] | None) -> list[LoyaltyBalance]:
    """Extract per-programme balances from a ``CustomerInventory`` JSON body.

    Parts of the wrong shape are skipped (an answer is data from the network: a page or the
    REST endpoint showing the balance must not fail on it).
    """
    loyalty = inventory.get("loyalty") if isinstance(inventory, Mapping) else None
    programs = loyalty.get("programs") if isinstance(loyalty, Mapping) else None
    out: list[LoyaltyBalance] = []
    if not isinstance(programs, Mapping):
        return out
    for key, program in programs.items():
        if not isinstance(program, Mapping):
            continue
        ledger = program.get("ledger")
        if not isinstance(ledger, Mapping):
            ledger = {}
        out.append(
            LoyaltyBalance(
                program_id=int_or_none(program.get("id", key)),
                title=str(program.get("title") or program.get("name") or key),
                current=points(ledger.get("currentBalance", 0)),
                pending=points(ledger.get("pendingBalance", 0)),
            )
        )
    return out


def remember_inventory(integration_id: str, inventory: Mapping[str, Any] | None) -> None:
    """Keep the loyalty part of an inventory answer so pages can show it without an API call.

    Called by the REST "my inventory" endpoint (and by shops after they fetch an inventory);
    stored in the ``TALON["CACHE_ALIAS"]`` cache for a day.
    """
    if not integration_id:
        return
    balances = loyalty_balances_from_inventory(inventory)
    caches[talon_settings.CACHE_ALIAS].set(
        _BALANCE_CACHE_KEY.format(integration_id), balances, 24 * 3600
    )


def known_loyalty_balances(integration_id: str) -> list[LoyaltyBalance] | None:
    """The balances last remembered for a profile (None when never fetched). No API call."""
    if not integration_id:
        return None
    value = caches[talon_settings.CACHE_ALIAS].get(_BALANCE_CACHE_KEY.format(integration_id))
    return value if isinstance(value, list) else None


# Cached balances are pickled by class path. Pickle them under the package path they always
# had, so processes of an older release sharing the cache (a rolling deploy) still read them.
LoyaltyBalance.__module__ = "django_talon.promotions"
