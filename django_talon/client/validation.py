"""Input checks done before a request is sent, and the JSON encoding of request bodies.

Talon.One rejects these with a 400 anyway, but only after a network round trip, often
deep inside a retry loop or an outbox relay where the message is hard to read. Checking
here turns them into a :class:`~django_talon.client.errors.TalonValidationError` that names
the field. Limits are the API's own (see docs/client.md, "Input limits").

Encoding converts the types a Django shop naturally has (``Decimal`` prices, ``datetime``
timestamps, ``date``, ``UUID``, tuples and sets) instead of rejecting them.

Naive datetimes are sent as UTC. The client runs without Django, so it knows no
``TIME_ZONE`` to read them in; UTC is Talon.One's own zone and the only reading that does
not depend on the machine. A Django caller whose naive datetimes are local time
(``USE_TZ = False``) must make them aware first: django-talon's services do
(:func:`django_talon.moments.for_talon`, i.e. ``django.utils.timezone.make_aware`` in the
current time zone).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from .errors import TalonValidationError

__all__ = [
    "MAX_BATCH",
    "MAX_CART_ITEMS",
    "MAX_CODE_LENGTH",
    "MAX_IDENTIFIERS",
    "MAX_INTEGRATION_ID_LENGTH",
    "batched",
    "check_batch",
    "check_cart_items",
    "check_code",
    "check_customer_session",
    "check_integration_id",
    "check_sequence_of_mappings",
    "check_session_id",
    "encode_json",
    "to_jsonable",
]

T = TypeVar("T")

#: Coupon and referral codes: ``couponCodes`` items, ``referralCode``, v1 ``coupon``/``referral``.
MAX_CODE_LENGTH = 100
#: ``integrationId`` of profiles (and other entities).
MAX_INTEGRATION_ID_LENGTH = 1000
#: Profiles per bulk update, audience actions, integration ids per reservation call.
MAX_BATCH = 1000
#: Cart items per session update.
MAX_CART_ITEMS = 1000
#: Sum of cart item quantities per session update.
MAX_TOTAL_QUANTITY = 10_000
#: ``identifiers`` per session.
MAX_IDENTIFIERS = 5


def to_jsonable(value: Any, field: str = "body") -> Any:
    """Return ``value`` with every non-JSON type converted, or raise ``TalonValidationError``.

    ``Decimal`` becomes a JSON number (exact for money-sized values), an aware ``datetime``
    an RFC 3339 string; a naive ``datetime`` is taken to be UTC (Talon.One needs an offset,
    and the client has no time zone setting: make local times aware before calling).
    NaN and infinities are rejected because JSON has no spelling for them, and so is nesting
    deeper than ``MAX_DEPTH`` (in practice a reference cycle, which would otherwise end in a
    ``RecursionError``).
    """
    return _jsonable(value, field, 0)


#: Attribute values nested deeper than this are refused (no real attribute comes close).
MAX_DEPTH = 100


#: What :func:`_scalar` answers for a value it does not convert (a container or a stranger).
_NOT_SCALAR: Any = object()


def _scalar(value: Any, field: str) -> Any:
    """A JSON scalar for ``value`` (Decimal, datetime, date, UUID converted), or ``_NOT_SCALAR``."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TalonValidationError("NaN and infinity are not valid JSON numbers", field=field)
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TalonValidationError("NaN and infinity are not valid JSON numbers", field=field)
        # Integral values stay integers; others become the nearest float, whose repr is the
        # shortest decimal that round-trips (exact for prices with up to 15 digits).
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, _dt.datetime):
        if value.utcoffset() is None:  # naive: UTC, see the module's docstring
            value = value.replace(tzinfo=_dt.timezone.utc)
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return _NOT_SCALAR


def _jsonable(value: Any, field: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        shown = field if len(field) <= 120 else field[:120] + "..."
        raise TalonValidationError(
            f"nested deeper than {MAX_DEPTH} levels (a reference cycle?)", field=shown
        )
    scalar = _scalar(value, field)
    if scalar is not _NOT_SCALAR:
        return scalar
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TalonValidationError(
                    f"object keys must be strings, got {type(key).__name__}", field=field
                )
            out[key] = _jsonable(item, f"{field}.{key}", depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [_jsonable(item, f"{field}[{i}]", depth + 1) for i, item in enumerate(items)]
    raise TalonValidationError(
        f"{type(value).__name__} is not JSON serialisable "
        "(convert it to str, int, float, Decimal, datetime, list or dict)",
        field=field,
    )


class _NotPlainError(Exception):
    """Raised by :func:`_check_plain`: this value takes the careful path of ``to_jsonable``."""


def _check_plain(value: Any, depth: int) -> None:
    """Accept only what ``json.dumps`` encodes exactly as :func:`to_jsonable` would have.

    That is dicts with ``str`` keys, lists, tuples, ``str``, ``int``, ``bool``, ``None``,
    finite floats and finite ``Decimal`` s (converted by :func:`_encode_decimal`), each of
    exactly that type, nested less than ``MAX_DEPTH`` deep. Anything else raises
    :class:`_NotPlainError`, and :func:`encode_json` goes the careful way, which converts
    it or raises the :class:`TalonValidationError` naming the field. Why two ways: the
    careful one builds a converted copy and a field name for every value, three quarters of
    the client's own CPU on a session update; shop payloads are nearly always plain.
    """
    cls = value.__class__
    if cls is dict:
        items: Iterable[Any] = value.values()
        for key in value:
            if key.__class__ is not str:
                raise _NotPlainError
    elif cls is list or cls is tuple:
        items = value
    else:
        _check_plain_scalar(value)
        return
    if depth >= MAX_DEPTH:
        raise _NotPlainError
    for item in items:
        item_cls = item.__class__
        if item_cls is str or item_cls is int or item is None or item_cls is bool:
            continue
        if item_cls is float:
            if not math.isfinite(item):
                raise _NotPlainError
        elif item_cls is Decimal:
            if not item.is_finite():
                raise _NotPlainError
        else:
            _check_plain(item, depth + 1)


def _check_plain_scalar(value: Any) -> None:
    """:func:`_check_plain` for a value that is no container."""
    cls = value.__class__
    if cls is float:
        if not math.isfinite(value):
            raise _NotPlainError
    elif cls is Decimal:
        if not value.is_finite():
            raise _NotPlainError
    elif cls is not str and cls is not int and cls is not bool and value is not None:
        raise _NotPlainError


def _encode_decimal(value: Any) -> Any:
    """``json.dumps``' ``default`` for the plain path: a ``Decimal`` as :func:`_scalar` has it."""
    if value.__class__ is Decimal:
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")  # pragma: no cover


def encode_json(value: Any, field: str = "body") -> bytes:
    """Encode a request body to the exact bytes that are sent (and signed).

    A plain payload (see :func:`_check_plain`) is handed to ``json.dumps`` as it is; any
    other goes through :func:`to_jsonable` first. Both give the same bytes.
    """
    try:
        _check_plain(value, 0)
    except _NotPlainError:
        plain = to_jsonable(value, field)
        default = None
    else:
        plain, default = value, _encode_decimal
    return json.dumps(
        plain, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=default
    ).encode("utf-8")


def _check_str(value: Any, field: str, max_length: int | None) -> str:
    if not isinstance(value, str):
        raise TalonValidationError(f"must be a string, got {type(value).__name__}", field=field)
    if not value:
        raise TalonValidationError("must not be empty", field=field)
    if max_length is not None and len(value) > max_length:
        raise TalonValidationError(
            f"is {len(value)} characters long; the API allows at most {max_length}", field=field
        )
    return value


def check_code(value: Any, field: str = "code") -> str:
    """A coupon or referral code: a non-empty string of at most 100 characters."""
    return _check_str(value, field, MAX_CODE_LENGTH)


def check_integration_id(value: Any, field: str = "integration_id") -> str:
    """A profile integration id: a non-empty string of at most 1000 characters."""
    return _check_str(value, field, MAX_INTEGRATION_ID_LENGTH)


def check_session_id(value: Any, field: str = "session_id") -> str:
    """A session integration id: any non-empty string (the API sets no length limit)."""
    return _check_str(value, field, None)


def check_batch(items: Any, field: str, limit: int = MAX_BATCH) -> list[Any]:
    """A list of at most ``limit`` items; use :func:`batched` to split a longer one."""
    if items.__class__ is not list and (
        isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable)
    ):
        raise TalonValidationError("must be a list", field=field)
    result = list(items)
    if len(result) > limit:
        raise TalonValidationError(
            f"has {len(result)} items; the API takes at most {limit} per request "
            "(split it with django_talon.client.batched())",
            field=field,
        )
    return result


def batched(items: Iterable[T], size: int = MAX_BATCH) -> Iterator[list[T]]:
    """Yield lists of at most ``size`` items, e.g. to feed ``update_customer_profiles_v2``."""
    if size < 1:
        raise ValueError("size must be >= 1")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_cart_items(items: Any, field: str = "cartItems") -> None:
    """At most 1000 items, each a mapping with a ``sku`` and an integer ``quantity`` >= 1."""
    checked = check_batch(items, field, MAX_CART_ITEMS)
    total = 0
    for index, item in enumerate(checked):
        quantity = item.get("quantity") if item.__class__ is dict else None
        sku = item.get("sku") if item.__class__ is dict else None
        if quantity.__class__ is int and quantity >= 1 and sku.__class__ is str and sku:
            total += quantity  # the usual item: nothing to say, no field name to build
            continue
        where = f"{field}[{index}]"
        if not isinstance(item, Mapping):
            raise TalonValidationError("must be an object", field=where)
        _check_str(item.get("sku"), f"{where}.sku", None)
        quantity = item.get("quantity")
        if isinstance(quantity, Decimal) and quantity == quantity.to_integral_value():
            quantity = int(quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TalonValidationError("must be an integer", field=f"{where}.quantity")
        if quantity < 1:
            raise TalonValidationError(
                f"is {quantity}; quantities must be >= 1 (drop the item instead)",
                field=f"{where}.quantity",
            )
        total += quantity
    if total > MAX_TOTAL_QUANTITY:
        raise TalonValidationError(
            f"total quantity is {total}; the API allows at most {MAX_TOTAL_QUANTITY}", field=field
        )


def check_customer_session(
    session: Any, field: str = "customer_session", *, v1: bool = False
) -> None:
    """Check the parts of a session payload the API limits (codes, cart, identifiers)."""
    if not isinstance(session, Mapping):
        raise TalonValidationError("must be a dict", field=field)
    if v1:
        for key in ("coupon", "referral"):
            if session.get(key):
                check_code(session[key], f"{field}.{key}")
    else:
        codes = session.get("couponCodes")
        if codes is not None:
            for index, code in enumerate(check_batch(codes, f"{field}.couponCodes")):
                check_code(code, f"{field}.couponCodes[{index}]")
        referral = session.get("referralCode")
        if referral:  # "" is meaningful: it clears the stored referral code.
            check_code(referral, f"{field}.referralCode")
    if session.get("cartItems") is not None:
        check_cart_items(session["cartItems"], f"{field}.cartItems")
    identifiers = session.get("identifiers")
    if identifiers is not None:
        check_batch(identifiers, f"{field}.identifiers", MAX_IDENTIFIERS)


def check_sequence_of_mappings(items: Sequence[Any], field: str) -> None:
    """Every element of ``items`` is a mapping (profiles, audience actions)."""
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TalonValidationError("must be an object", field=f"{field}[{index}]")
