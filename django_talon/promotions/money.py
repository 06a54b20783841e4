"""Money and points as the shop shows them: ``Decimal``, rounded once, never raising.

Talon.One sends amounts as JSON numbers in the Application's currency, sometimes with more
decimals than the currency has (``3.3333``). Each amount is converted with
``Decimal(str(value))`` (never through binary floats) and rounded **once, per effect**, to the
currency's minor unit (2 decimals by default, 0 for JPY/KRW/..., 3 for BHD/KWD/...) using
``ROUND_HALF_UP`` unless another rounding mode is passed. Loyalty points are not money: they
are kept exactly as sent. A malformed number becomes ``0`` with a warning, because one bad
effect must not break a cart page.

An amount the shop cannot represent as money (``NaN``, ``Infinity``, ``1e29``: anything whose
magnitude reaches :data:`MAX_AMOUNT`) is not turned into ``0`` silently by
:func:`money_amount`: it raises :class:`UnusableAmountError`, so the summary lists the whole
effect as unusable (and logs it) instead of showing or charging a made-up number. The bound
keeps every sum of amounts exactly representable in ``Decimal``'s default 28 digits, so no
total, rounding or template filter further down can overflow.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger("django_talon.promotions")

__all__ = [
    "CURRENCY_EXPONENTS",
    "MAX_AMOUNT",
    "UnusableAmountError",
    "currency_exponent",
    "int_or_none",
    "money_amount",
    "points",
    "quantize_money",
]

#: Money amounts (in major units) from here on are not money a cart can carry: with 15
#: integer digits plus up to 4 decimals, sums of millions of amounts stay within
#: ``Decimal``'s default precision (28 digits), where ``quantize`` would raise.
MAX_AMOUNT = Decimal(10) ** 15


class UnusableAmountError(ValueError):
    """A money amount that cannot be represented: NaN, Infinity, or beyond :data:`MAX_AMOUNT`."""


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


def money_amount(value: Any, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """A JSON number/string as a Decimal rounded to ``currency``'s minor unit, strictly.

    Something that is not a number at all (``"abc"``, ``None``) becomes ``0`` with a warning,
    as always; a number the shop cannot represent (NaN, Infinity, magnitude >=
    :data:`MAX_AMOUNT`) raises :class:`UnusableAmountError` for the caller to list.
    """
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        logger.warning("Ignoring non-numeric money amount %r in a Talon.One effect", value)
        amount = Decimal(0)
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise UnusableAmountError(f"money amount {value!r} cannot be represented")
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    return amount.quantize(exponent, rounding=rounding)


def quantize_money(value: Any, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Convert a JSON number/string to a Decimal rounded to ``currency``'s minor unit.

    Never raises: bad and unrepresentable values become ``0`` with a warning (one malformed
    value must not break a cart page). Effects use :func:`money_amount`, which tells an
    unrepresentable amount apart so the effect is listed as unusable.
    """
    try:
        return money_amount(value, currency, rounding)
    except UnusableAmountError:
        logger.warning("Ignoring unrepresentable money amount %r", value)
        return Decimal(0).quantize(Decimal(1).scaleb(-currency_exponent(currency)))


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
