"""Small helpers shared by the emulator modules: clock, money rounding, request field checks.

The request checks are hand-written rather than driven by the OpenAPI documents so that the
emulator has no runtime dependency on the (large, slow to load) spec files and stays fast.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta, timezone
from typing import Any

from django_talon.emulator.encoding import decode
from django_talon.emulator.errors import bad_request

_ZERO = timedelta(0)
_copysign = math.copysign


def load_json(text: str | bytes) -> Any:
    """``json.loads`` whose every failure is a ``ValueError``.

    Why: deeply nested input (``[[[[...]]]]``) makes ``json.loads`` raise ``RecursionError``,
    which the callers' ``except ValueError`` would miss, turning a bad request into a 500.
    """
    try:
        return decode(text)  # json.loads, or orjson where it reads the same (encoding.py)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def utcnow() -> datetime:
    """Timezone-aware now (one place, so tests could patch it)."""
    return datetime.now(timezone.utc)


@functools.lru_cache(maxsize=4096)
def isoformat(moment: datetime) -> str:
    """RFC 3339 with milliseconds and a ``Z`` suffix, as Talon.One writes timestamps.

    Cached: every answer renders the same few moments (created, updated, last activity).
    A moment in UTC (what :func:`utcnow` gives) is written by ``isoformat`` directly, its
    ``+00:00`` replaced (a session update renders one new moment: it was a third dearer).
    """
    if moment.tzinfo is timezone.utc:
        return moment.isoformat(timespec="milliseconds")[:-6] + "Z"
    if moment.utcoffset() != _ZERO:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_datetime(value: Any, pointer: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset); naive values are taken as UTC."""
    if not isinstance(value, str) or not value:
        raise bad_request(f"{pointer} must be an RFC 3339 date-time string", pointer=pointer)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(f"{pointer} is not a valid RFC 3339 date-time", pointer=pointer) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def round_cents(value: float) -> float:
    """``round(value, 2)``, the same float, without its decimal string round trip.

    Why (issue 13): ``round(x, 2)`` converts to a decimal string and back (half a
    microsecond), and a session update rounds about twenty amounts. For ``|x| < 1e9`` the
    nearest whole number of cents is read off ``x * 100`` (off the exact product by at most
    half a unit in the last place, under 1e-5 there) unless that product is within 1e-4 of a
    half cent, where ``round`` itself decides; ``n / 100`` is the double nearest to n cents,
    as ``round`` gives it, and a zero keeps the sign of ``value`` as ``round`` keeps it.
    Pinned against ``round`` in tests/emulator/test_throughput_engine.py.
    """
    if -1e9 < value < 1e9:
        product = value * 100.0
        whole = product // 1.0  # math.floor's value as a float (exact here), without a call
        fraction = product - whole  # exact: both are below 2**37
        off_half = fraction - 0.5
        if off_half > 1e-4 or off_half < -1e-4:  # abs(fraction - 0.5) > 1e-4, without a call
            cents = whole + 1.0 if fraction > 0.5 else whole
            # (a whole float below 2**53 divided by 100: the same double as the int's n / 100)
            return cents / 100 if cents else _copysign(0.0, value)
    return round(value, 2)


def money(value: float) -> float:
    """Round to cents; the API carries money as JSON numbers in the application currency."""
    rounded = round_cents(value + 0.0)
    return 0.0 if rounded == 0 else rounded


def is_number(value: Any) -> bool:
    """JSON number check that rejects booleans, NaN and infinity, and integers too large
    for a float (a 400-digit price: ``float()`` of it raises ``OverflowError``, which was
    a 500 instead of the 400 a value the API cannot hold gets)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def is_int(value: Any) -> bool:
    """JSON integer check that rejects booleans (and accepts 3.0 like the real API)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def want_object(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{pointer or 'body'} must be a JSON object", pointer=pointer or "/")
    return value


def want_str(
    value: Any, pointer: str, *, max_length: int | None = None, min_length: int = 0
) -> str:
    if not isinstance(value, str):
        raise bad_request(f"{pointer} must be a string", pointer=pointer)
    if len(value) < min_length:
        raise bad_request(f"{pointer} must be at least {min_length} characters", pointer=pointer)
    if max_length is not None and len(value) > max_length:
        raise bad_request(f"{pointer} must be at most {max_length} characters", pointer=pointer)
    return value


def want_int(
    value: Any, pointer: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    if not is_int(value):
        raise bad_request(f"{pointer} must be an integer", pointer=pointer)
    number = int(value)
    if minimum is not None and number < minimum:
        raise bad_request(f"{pointer} must be >= {minimum}", pointer=pointer)
    if maximum is not None and number > maximum:
        raise bad_request(f"{pointer} must be <= {maximum}", pointer=pointer)
    return number


def want_number(value: Any, pointer: str) -> float:
    if not is_number(value):
        raise bad_request(f"{pointer} must be a number", pointer=pointer)
    return float(value)


def want_bool(value: Any, pointer: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"{pointer} must be a boolean", pointer=pointer)
    return value


def want_list(value: Any, pointer: str, *, max_items: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise bad_request(f"{pointer} must be an array", pointer=pointer)
    if max_items is not None and len(value) > max_items:
        raise bad_request(f"{pointer} must have at most {max_items} items", pointer=pointer)
    return value


def query_bool(query: dict[str, str], name: str, default: bool = False) -> bool:
    """Parse a boolean query flag the way the API does (``true``/``false``, 400 otherwise)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise bad_request(f"query parameter {name} must be true or false", parameter=name)
