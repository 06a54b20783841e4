"""Datetimes between Talon.One and the shop: one convention on each side, converted here.

Talon.One's timestamps always carry an offset (``2030-01-01T00:00:00Z``), and the client,
which runs without Django, takes a naive ``datetime`` for UTC. A Django shop follows
``USE_TZ``: with ``USE_TZ = True`` its datetimes are aware; with ``USE_TZ = False`` they are
naive wall-clock times in ``TIME_ZONE``, ``timezone.now()`` is naive too, and SQLite and
MySQL refuse an aware value outright. Mixing the two sides is a ``TypeError`` on the first
comparison (an expiry date against ``timezone.now()``) or a database error on the first
save, and sending a shop's naive datetime as it is moves it by the UTC offset.

So every value crossing over goes through one of these: :func:`for_shop` before it is
compared with ``timezone.now()`` or stored, :func:`for_talon` before it is handed to the
client. Both are no-ops for a value already in the wanted convention.
"""

from __future__ import annotations

import logging
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

logger = logging.getLogger("django_talon")

__all__ = ["for_shop", "for_talon", "from_timestamp", "parse_for_shop"]


def for_shop(value: datetime) -> datetime:
    """``value`` as the shop keeps datetimes (comparable with ``timezone.now()``, storable).

    ``USE_TZ = True``: aware (a naive value is taken to be in the current time zone, as
    Django takes it). ``USE_TZ = False``: naive local time (an aware value converted to the
    current time zone, i.e. ``TIME_ZONE`` unless the shop activated another).
    """
    if settings.USE_TZ:
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_naive(value) if timezone.is_aware(value) else value


def for_talon(value: datetime) -> datetime:
    """``value`` aware, for the client: a naive value is the shop's local time (the current
    time zone), not UTC. The client takes a naive value for UTC (it has no Django and no
    ``TIME_ZONE``), which would move a Berlin shop's dates by an hour or two."""
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def parse_for_shop(text: Any) -> datetime | None:
    """A timestamp of a Talon.One answer in the shop's convention (:func:`for_shop`).

    None for no value, a non-string and a string that is no timestamp (``"unlimited"``,
    ``"immediate"``, a corrupt answer: data from the network is never a crash), and for the
    end of time (a date in year 9999 that the local time zone cannot express). A timestamp
    without an offset is UTC, as Talon.One means it."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = parse_datetime(text)
    except ValueError:  # well-formed but impossible (month 13): Django raises, not None
        logger.warning("Talon.One answered an impossible timestamp %r: ignored", text)
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt_timezone.utc)
    try:
        return for_shop(parsed)
    except OverflowError:  # 9999-12-31T23:59Z has no local time east of UTC: "never"
        return None


def from_timestamp(seconds: float) -> datetime:
    """A Unix timestamp (the breaker's ``open_until``) in the shop's convention."""
    return for_shop(datetime.fromtimestamp(seconds, tz=dt_timezone.utc))
