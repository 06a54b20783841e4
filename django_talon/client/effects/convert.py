"""Tolerant converters for server data: never raise, return ``None`` when a value does not fit.

Effects and response models (:mod:`..models`) read props and fields through these, because
Talon.One has shipped values of the wrong JSON type; the caller picks the neutral default.
Money and points go through ``str`` into ``Decimal`` so ``2.45`` stays ``2.45``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["identity", "to_bool", "to_decimal", "to_dict", "to_int", "to_list", "to_str"]


def to_decimal(value: Any) -> Decimal | None:
    """``Decimal`` from a JSON number or numeric string; ``None`` if it is not one."""
    cls = value.__class__
    if cls is float:  # the JSON number with a fraction: through its shortest repr
        result = Decimal(repr(value))
        return result if result.is_finite() else None
    if cls is int:  # exact as it is, and the same Decimal as from str(value)
        return Decimal(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, (int, float, str)):
        try:
            result = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        return result if result.is_finite() else None
    return None


#: The int64 range: every integer field of Talon.One (ids, counters, indexes) is one.
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
#: ``Decimal.adjusted()`` (the exponent of the leading digit) past which no int64 fits.
_INT64_ADJUSTED = 18


def to_int(value: Any) -> int | None:
    """``int`` from an integral JSON number or digit string; ``None`` otherwise.

    A converted value (string, float, ``Decimal``) must fit an int64, and is checked before
    ``int()`` is called: ``int(Decimal("1e300000"))`` builds a 300,001-digit number, seconds
    of CPU after the answer arrived and past every timeout. A JSON integer is kept as sent
    (as the fast paths of :mod:`.decode` keep it): Python's ``json`` refuses one of more than
    4300 digits, so it costs nothing to convert.
    """
    if value.__class__ is int:
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number is None:
        return None
    if not number:
        return 0  # "0", "0.0", "-0", also "0e999999": zero whatever its exponent
    if number.adjusted() > _INT64_ADJUSTED or number != number.to_integral_value():
        return None  # too large for an int64 (decided from the exponent alone), or a fraction
    result = int(number)  # at most 19 digits here
    return result if _INT64_MIN <= result <= _INT64_MAX else None


def to_str(value: Any) -> str | None:
    """``str`` for strings (numbers are stringified); ``None`` for anything else."""
    if value.__class__ is str or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return None


def to_bool(value: Any) -> bool | None:
    """``bool`` for JSON booleans; ``None`` otherwise."""
    return value if isinstance(value, bool) else None


def to_list(value: Any) -> list[Any] | None:
    """The list itself, or ``None`` when it is not a list."""
    return list(value) if isinstance(value, list) else None


def to_dict(value: Any) -> dict[str, Any] | None:
    """The dict itself, or ``None`` when it is not an object."""
    return dict(value) if isinstance(value, dict) else None


def identity(value: Any) -> Any:
    """The value as sent (for ``Any`` props such as ``updateAttribute.value``)."""
    return value
