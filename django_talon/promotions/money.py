"""Money and points as the shop shows them: ``Decimal``, rounded once, never raising.

Talon.One sends amounts as JSON numbers in the Application's currency, sometimes with more
decimals than the currency has (``3.3333``). Each amount is converted with
``Decimal(str(value))`` (never through binary floats) and rounded **once, per effect**, to the
currency's minor unit (2 decimals by default, 0 for JPY/KRW/..., 3 for BHD/KWD/...) using
``ROUND_HALF_UP`` unless another rounding mode is passed. Loyalty points are not money: they
are kept exactly as sent. A malformed number becomes ``0`` with a warning, because one bad
effect must not break a cart page.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger("django_talon.promotions")

__all__ = ["CURRENCY_EXPONENTS", "currency_exponent", "int_or_none", "points", "quantize_money"]

#: Currencies whose minor unit is not 1/100 (ISO 4217). Everything else uses 2 decimals.
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def currency_exponent(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (2 when unknown)."""
    return CURRENCY_EXPONENTS.get((currency or "").upper(), 2)


def quantize_money(value: Any, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Convert a JSON number/string to a Decimal rounded to ``currency``'s minor unit.

    Bad values become ``0`` with a warning: one malformed effect must not break a cart page.
    """
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation(str(value))
    except (InvalidOperation, ValueError, TypeError):
        logger.warning("Ignoring non-numeric money amount %r in a Talon.One effect", value)
        amount = Decimal(0)
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    return amount.quantize(exponent, rounding=rounding)


def points(value: Any) -> Decimal:
    """Loyalty points as sent; whole numbers sent as JSON floats (``106.0``) show as ``106``.

    Bad values become ``0`` (with a warning when they are not numbers at all).
    """
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            return Decimal(0)
        return amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount
    except (InvalidOperation, ValueError, TypeError):
        logger.warning("Ignoring non-numeric loyalty points %r in a Talon.One effect", value)
        return Decimal(0)


def int_or_none(value: Any) -> int | None:
    """``int(value)``, or None when there is no value or it is not a number."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
