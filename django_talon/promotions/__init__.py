"""One neutral summary of the Talon.One effects stored on a customer session.

Templates, template tags and the REST API all read :class:`PromotionsSummary` (built by
:func:`summarize`) so that the shop shows the same numbers everywhere and no view
re-implements effect logic. The summary is pure: it reads the stored effects (decoded once
by :mod:`django_talon.client.effects`) and a cart snapshot, never the database and never the
API. The package imports neither the services nor the outbox; the summary of "the current
request's cart" needs the services and lives in :mod:`django_talon.services.display`.

Where things are:

* :mod:`~django_talon.promotions.money`: currencies' minor units, rounding, points.
* :mod:`~django_talon.promotions.summary`: the summary dataclasses the pages show.
* :mod:`~django_talon.promotions.codes`: coupon/referral outcomes and rejection messages.
* :mod:`~django_talon.promotions.building`: effects -> summary (one handler per effect class).
* :mod:`~django_talon.promotions.stored`: the summary of a session's stored answer.
* :mod:`~django_talon.promotions.loyalty`: the last known loyalty balance (a cache).

Money and rounding
------------------
Talon.One sends amounts as JSON numbers in the Application's currency, sometimes with more
decimals than the currency has (``3.3333``). Each effect amount is converted with
``Decimal(str(value))`` (never through binary floats) and rounded **once, per effect**, to the
currency's minor unit (2 decimals by default, 0 for JPY/KRW/..., 3 for BHD/KWD/...) using
``ROUND_HALF_UP`` unless another rounding mode is passed. Totals are sums of those rounded
amounts, so the discount lines shown always add up to the total shown. The total after
discount never goes below zero (a discount larger than the cart is capped for display).
Loyalty points are not money: they are kept exactly as sent (as ``Decimal``).
"""

from __future__ import annotations

from django_talon.promotions.building import (
    HANDLERS,
    PER_ITEM_DISCOUNT_TYPES,
    SUMMARISED_TYPES,
    discount_display_name,
    summarize,
)
from django_talon.promotions.codes import CodeResult, CodeStatus
from django_talon.promotions.loyalty import (
    LoyaltyBalance,
    known_loyalty_balances,
    loyalty_balances_from_inventory,
    remember_inventory,
)
from django_talon.promotions.money import CURRENCY_EXPONENTS, currency_exponent, quantize_money
from django_talon.promotions.stored import StoredEffects, decoded_effects, summarize_stored
from django_talon.promotions.summary import (
    CartLine,
    Discount,
    FreeItem,
    LoyaltyPoints,
    Notification,
    PromotionsSummary,
)

__all__ = [
    "CURRENCY_EXPONENTS",
    "HANDLERS",
    "PER_ITEM_DISCOUNT_TYPES",
    "SUMMARISED_TYPES",
    "CartLine",
    "CodeResult",
    "CodeStatus",
    "Discount",
    "FreeItem",
    "LoyaltyBalance",
    "LoyaltyPoints",
    "Notification",
    "PromotionsSummary",
    "StoredEffects",
    "currency_exponent",
    "decoded_effects",
    "discount_display_name",
    "known_loyalty_balances",
    "loyalty_balances_from_inventory",
    "quantize_money",
    "remember_inventory",
    "summarize",
    "summarize_stored",
]
