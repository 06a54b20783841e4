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

A discount is money *off*: :func:`discount_amount` refuses a negative one (``-50``) the same
way, because subtracting it would charge the shopper more than the cart costs (a surcharge
Talon.One never meant). A free item's quantity (:func:`free_quantity`) must be a whole
number from 1 to :data:`MAX_FREE_QUANTITY`: more units than a session may hold would make
every later cart update fail the client's validation.
"""

from __future__ import annotations

import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django_talon.client.validation import MAX_TOTAL_QUANTITY

logger = logging.getLogger("django_talon.promotions")

__all__ = [
    "CURRENCY_EXPONENTS",
    "ISO_4217_CODES",
    "MAX_AMOUNT",
    "MAX_FREE_QUANTITY",
    "UnusableAmountError",
    "currency_exponent",
    "discount_amount",
    "free_quantity",
    "int_or_none",
    "money_amount",
    "points",
    "quantize_money",
]

#: Money amounts (in major units) from here on are not money a cart can carry: with 15
#: integer digits plus up to 4 decimals, sums of millions of amounts stay within
#: ``Decimal``'s default precision (28 digits), where ``quantize`` would raise.
MAX_AMOUNT = Decimal(10) ** 15

#: The most units of one free item: what the client lets a whole session hold (its
#: ``MAX_TOTAL_QUANTITY``), so a free line alone can never make the cart unsendable.
MAX_FREE_QUANTITY = MAX_TOTAL_QUANTITY


class UnusableAmountError(ValueError):
    """An amount the shop cannot use: money that is NaN, Infinity or beyond
    :data:`MAX_AMOUNT`, a negative discount, or a free item's quantity outside
    1..:data:`MAX_FREE_QUANTITY`."""


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


#: ISO 4217 codes of the currencies in use (and a few recently replaced ones a shop's
#: old orders may still carry), without the funds, metals and testing codes (XAU, XTS,
#: ...), which no shop prices in. Why a list: a code outside it (``"YEN"``, ``"EURO"``) gets
#: the 2-decimal default of :func:`currency_exponent`, so a typo would round every amount
#: of a yen shop to hundredths; system check E018 refuses it instead.
ISO_4217_CODES: frozenset[str] = frozenset(
    """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV
        BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE
        CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
        HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD
        KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV
        MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
        RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT
        TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
        XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()
)


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


def discount_amount(value: Any, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """:func:`money_amount` for money *off* the cart: a negative amount raises
    :class:`UnusableAmountError` too.

    Subtracted from the total, ``-50`` would charge 50 more than the cart costs. An amount
    that only rounds to zero from below (``-0.001``) is no discount: it is ``0.00``, never a
    ``-0.00`` on the page.
    """
    amount = money_amount(value, currency, rounding)
    if amount.is_signed():
        if amount:
            raise UnusableAmountError(f"discount {value!r} is negative (a surcharge)")
        return amount.copy_abs()
    return amount


def free_quantity(quantity: int | None) -> int:
    """A free item's quantity as the client decoded ``desiredQuantity`` (None: not sent,
    which means 1).

    Anything outside 1..:data:`MAX_FREE_QUANTITY` raises :class:`UnusableAmountError`:
    ``0`` or ``-3`` units cannot be put into a cart, and ``10**12`` would exceed what the API
    lets a session hold, so every later cart update of the session would fail the client's
    validation.
    """
    if quantity is None:
        return 1
    if not 1 <= quantity <= MAX_FREE_QUANTITY:
        raise UnusableAmountError(
            f"free item quantity {quantity!r} is outside 1..{MAX_FREE_QUANTITY} "
            "(the units the API lets a session hold)"
        )
    return quantity


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
