"""Best prior price: "the lowest price in the last 30 days" of a product, for its page.

The EU's Omnibus rule asks shops that announce a price reduction to show the lowest price
of the previous 30 days; Talon.One keeps that history (``POST /v1/best_prior_price``).
A product page must not wait on a remote API at every render, and must render when
Talon.One is down. So:

- **Cached per SKU** in Django's cache (``TALON["CACHE_ALIAS"]``) for
  ``PRIOR_PRICE_CACHE_SECONDS``: after the first render of a product, renders cost no API
  call. "Talon.One has no price for this SKU" is cached too (SKUs without a price are
  absent from the answer), so a product without history costs no call either.
- **One call for many SKUs** (:func:`best_prior_prices`: a product list asks for the SKUs
  not cached yet in one request of up to 1000).
- **A clear fallback**: when Talon.One is unreachable, refuses, or the circuit is open,
  the answer is ``None`` (the template tag renders nothing, the REST endpoint answers
  ``"price": null``), and the failure is remembered for ``PRIOR_PRICE_RETRY_SECONDS`` so
  that an outage does not cost every render a timeout. The short-timeout client without
  retries is used (a customer is waiting).
- **Not from the event loop**: a lookup is a blocking HTTP call (up to
  ``IMMEDIATE_TIMEOUT``) and a blocking cache read, and it touches no database, so Django's
  ORM guard never stops it in an async view: it would stall every request the worker
  serves for that long. :func:`best_prior_price` and :func:`best_prior_prices` are
  therefore ``async_unsafe`` like the ORM (``SynchronousOnlyOperation`` when called where an
  event loop runs; ``DJANGO_ALLOW_ASYNC_UNSAFE`` lifts it, as for the ORM), and
  :func:`abest_prior_price` / :func:`abest_prior_prices` are the ``await``-able variants
  (the sync ones in a thread, as Django's ``aget()`` and friends). docs/async.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.utils import timezone
from django.utils.asyncio import async_unsafe

from django_talon.client import batched
from django_talon.conf import talon_settings
from django_talon.exceptions import TalonUnavailableError
from django_talon.moments import for_talon

logger = logging.getLogger("django_talon.prices")

__all__ = [
    "PriorPrice",
    "abest_prior_price",
    "abest_prior_prices",
    "best_prior_price",
    "best_prior_prices",
    "forget_prior_prices",
]

#: What :class:`~django.core.exceptions.SynchronousOnlyOperation` says in an async context.
_ASYNC_UNSAFE = (
    "best_prior_price() calls Talon.One and blocks: from async code use "
    "`await abest_prior_price(...)` (or sync_to_async), see docs/async.md"
)

#: Cached for a SKU Talon.One has no price for, or whose lookup failed.
_NO_PRICE = {"price": None}


@dataclass(frozen=True)
class PriorPrice:
    """The lowest price of ``sku`` in the ``timeframe_days`` before ``asked_at``."""

    sku: str
    price: Decimal
    currency: str
    timeframe_days: int
    observed_at: str | None  # when Talon.One saw that price (RFC 3339), if it said


def _key(sku: str, days: int, application: str) -> str:
    """A cache key safe for every backend (memcached refuses spaces and long keys); each
    Application's prices are its own (another currency, another price history)."""
    digest = hashlib.sha256(f"{application}\0{sku}".encode()).hexdigest()[:32]
    return f"django_talon:prior_price:{days}:{digest}"


def _application(application: str | None) -> str:
    """The Application asked: the one named (a name in ``TALON["APPLICATIONS"]``), else
    the default one."""
    from django_talon.resilience import application_name

    return application_name(application)


def _cache() -> Any:
    return caches[talon_settings.CACHE_ALIAS]


@async_unsafe(_ASYNC_UNSAFE)
def best_prior_price(product_or_sku: Any, *, application: str | None = None) -> PriorPrice | None:
    """The prior price of a product (its SKU through the adapter's ``product_sku``) or of a
    SKU string; None when Talon.One has none or cannot be asked (see the module docstring).
    ``application`` names the Application (and so the currency) asked; the default one
    when not given.

    Raises ``SynchronousOnlyOperation`` when called from async code (it would block the event
    loop): use :func:`abest_prior_price` there."""
    if isinstance(product_or_sku, str):
        sku = product_or_sku
    else:
        from django_talon.adapters import get_adapter

        sku = get_adapter().product_sku(product_or_sku)
    return best_prior_prices([sku], application=application).get(sku)


@async_unsafe(_ASYNC_UNSAFE)
def best_prior_prices(
    skus: Iterable[str], *, application: str | None = None
) -> dict[str, PriorPrice | None]:
    """``{sku: PriorPrice or None}`` for every SKU: cached ones without a call, the others
    in one call per 1000 (cost: one cache read for all, one write for the misses).

    ``async_unsafe`` as :func:`best_prior_price` (:func:`abest_prior_prices` from async
    code)."""
    days, app = talon_settings.PRIOR_PRICE_TIMEFRAME_DAYS, _application(application)
    wanted = list(dict.fromkeys(s for s in skus if s))
    keys = {sku: _key(sku, days, app) for sku in wanted}
    cache = _cache()
    cached = cache.get_many(list(keys.values()))
    result: dict[str, PriorPrice | None] = {}
    missing: list[str] = []
    for sku in wanted:
        value = cached.get(keys[sku])
        if value is None:
            missing.append(sku)
        else:
            result[sku] = _from_cache(sku, value, days, app)
    if missing:
        found, lifetime = _ask(missing, days, app)
        cache.set_many({keys[sku]: found.get(sku, _NO_PRICE) for sku in missing}, lifetime)
        for sku in missing:
            result[sku] = _from_cache(sku, found.get(sku, _NO_PRICE), days, app)
    return result


async def abest_prior_price(
    product_or_sku: Any, *, application: str | None = None
) -> PriorPrice | None:
    """``await abest_prior_price(product)``: :func:`best_prior_price` for async views, run in
    a thread (``sync_to_async``, as Django's ``aget()``) so the event loop serves the other
    requests while Talon.One is asked."""
    result: PriorPrice | None = await sync_to_async(best_prior_price)(
        product_or_sku, application=application
    )
    return result


async def abest_prior_prices(
    skus: Iterable[str], *, application: str | None = None
) -> dict[str, PriorPrice | None]:
    """``await abest_prior_prices(skus)``: :func:`best_prior_prices` for async views (in a
    thread; ``skus`` is read there too, so a queryset of SKUs may be passed)."""
    result: dict[str, PriorPrice | None] = await sync_to_async(best_prior_prices)(
        skus, application=application
    )
    return result


def forget_prior_prices(skus: Iterable[str], *, application: str | None = None) -> None:
    """Drop the cached prices of these SKUs (e.g. after a price change was synced) for one
    Application (the default one when not given)."""
    days, app = talon_settings.PRIOR_PRICE_TIMEFRAME_DAYS, _application(application)
    _cache().delete_many([_key(sku, days, app) for sku in skus])


def _from_cache(sku: str, value: dict[str, Any], days: int, application: str) -> PriorPrice | None:
    if value.get("price") is None:
        return None
    return PriorPrice(
        sku=sku,
        price=Decimal(str(value["price"])),
        # the Application asked: with APPLICATIONS and no top-level CURRENCY the
        # top-level default ("EUR") was shown next to a JPY price
        currency=talon_settings.config.currency_of(application),
        timeframe_days=days,
        observed_at=value.get("observed_at"),
    )


def _ask(skus: list[str], days: int, application: str) -> tuple[dict[str, dict[str, Any]], float]:
    """Ask Talon.One for the SKUs; the cacheable values found, and how long to keep the
    answer (``PRIOR_PRICE_RETRY_SECONDS`` after a failure: nothing is known then)."""
    from django_talon import resilience

    found: dict[str, dict[str, Any]] = {}
    asked = set(skus)
    now = for_talon(timezone.now())  # naive under USE_TZ = False: the client takes it for UTC
    try:
        for chunk in batched(skus, 1000):
            with resilience.guarded(
                "read best prior prices", immediate=True, application=application
            ) as client:
                answers = client.best_prior_price(chunk, timeframe=days, timeframe_end_date=now)
            for answer in answers:
                if answer.sku in asked and answer.price is not None:
                    found[answer.sku] = {
                        "price": str(answer.price),
                        "observed_at": answer.observed_at,
                    }
    except TalonUnavailableError as exc:  # unreachable, refused, or switched off
        logger.warning(
            "best prior price of %d SKU(s) unavailable, shown without it for %.0f s: %s",
            len(skus),
            talon_settings.PRIOR_PRICE_RETRY_SECONDS,
            exc,
        )
        return {}, talon_settings.PRIOR_PRICE_RETRY_SECONDS
    return found, talon_settings.PRIOR_PRICE_CACHE_SECONDS
