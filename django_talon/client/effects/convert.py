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


def to_int(value: Any) -> int | None:
    """``int`` from an integral JSON number or digit string; ``None`` otherwise."""
    if value.__class__ is int:
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


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
